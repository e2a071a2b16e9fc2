-- The grants a client may use (RFC 7591 grant_types), space-separated:
-- client_credentials, the JWT bearer grant (RFC 7523 §2.1), token exchange.
ALTER TABLE clients ADD COLUMN grant_types TEXT NOT NULL DEFAULT 'client_credentials';
