-- The first schema: clients, their secrets (argon2id hashes only), signing keys
-- and revoked token ids. Written in the SQL that SQLite and PostgreSQL share;
-- times are Unix seconds.

CREATE TABLE clients (
    client_id         TEXT PRIMARY KEY,
    display_name      TEXT NOT NULL,
    allowed_scopes    TEXT NOT NULL,
    default_scopes    TEXT NOT NULL,
    audiences         TEXT NOT NULL,
    token_ttl_seconds BIGINT NOT NULL,
    disabled_at       BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE client_secrets (
    secret_id    TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT
);

CREATE INDEX client_secrets_by_client ON client_secrets (client_id);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE revoked_tokens (
    jti        TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
