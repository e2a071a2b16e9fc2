-- When each revocation was recorded, so every instance can pick up the
-- revocations made by the others since it last looked.
ALTER TABLE revoked_tokens ADD COLUMN revoked_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX revoked_tokens_by_time ON revoked_tokens (revoked_at);
