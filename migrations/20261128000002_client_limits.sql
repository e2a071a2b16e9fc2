-- Per-client limits: a token-bucket rate (0 = unlimited) and burst for token
-- requests, and how long the client's new secrets live (0 = the server's
-- --secret-max-age, if any).
ALTER TABLE clients ADD COLUMN rate_limit_per_second BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN rate_limit_burst BIGINT NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN secret_max_age_seconds BIGINT NOT NULL DEFAULT 0;
