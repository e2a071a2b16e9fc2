-- When a signing key starts signing. A rotated key is published in the JWKS
-- first and signs only from here on, so verifiers that cache the key set have
-- it before they see tokens it signed. Keys stored before sign from the start.
ALTER TABLE signing_keys ADD COLUMN active_from BIGINT NOT NULL DEFAULT 0;
