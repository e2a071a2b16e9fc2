-- Workload identity federation. The external workloads that act as each
-- client: a JSON array of {issuer, subject, claims}, empty for none.
ALTER TABLE clients ADD COLUMN federated_identities TEXT NOT NULL DEFAULT '';

-- Platforms whose tokens may authenticate clients: keys inline (jwks), at a
-- URL (jwks_uri) or found by OIDC discovery (discovery = 1); audiences
-- space-separated, empty for tokend's issuer; single_use = 1 when each of
-- its tokens is accepted once (by its jti).
CREATE TABLE trusted_issuers (
    issuer TEXT PRIMARY KEY,
    jwks TEXT NOT NULL,
    jwks_uri TEXT NOT NULL,
    discovery BIGINT NOT NULL,
    audiences TEXT NOT NULL,
    max_assertion_lifetime_seconds BIGINT NOT NULL,
    single_use BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
