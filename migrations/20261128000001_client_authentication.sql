-- How each client authenticates (RFC 7591 token_endpoint_auth_methods, RFC
-- 8705): its methods, space-separated; what names its certificate for
-- tls_client_auth (at most one of the three is non-empty); its JWK Set for
-- self_signed_tls_client_auth; and whether its tokens are bound to its
-- certificate (0 or 1). Existing clients keep the two secret methods.
ALTER TABLE clients ADD COLUMN auth_methods TEXT NOT NULL DEFAULT 'client_secret_basic client_secret_post';
ALTER TABLE clients ADD COLUMN tls_subject_dn TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN tls_san_dns TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN tls_san_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN bound_tokens BIGINT NOT NULL DEFAULT 0;
