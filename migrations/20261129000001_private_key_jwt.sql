-- private_key_jwt (RFC 7523 §2.2): where a client publishes its keys, when
-- it does not register them inline in jwks (empty when unset).
ALTER TABLE clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';

-- The jti of every client assertion accepted and not yet expired, so one is
-- accepted once across every instance on this database. `issuer` is the
-- assertion's iss: a client id, or a trusted issuer for single-use assertions.
CREATE TABLE assertion_ids (
    issuer TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, jti)
);
CREATE INDEX assertion_ids_expiry ON assertion_ids (expires_at);
