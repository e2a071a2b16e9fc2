-- Clients registered by dynamic registration (RFC 7591), each with the
-- argon2id hash of the registration access token that manages it (RFC 7592),
-- rotated on every update, and who registered it. Deleted with its client.
CREATE TABLE client_registrations (
    client_id TEXT PRIMARY KEY,
    token_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
