-- Clients whose every token request must carry a DPoP proof, so all their
-- tokens are bound to a key they hold (RFC 9449 §5.2,
-- dpop_bound_access_tokens). 1 or 0.
ALTER TABLE clients ADD COLUMN dpop_bound BIGINT NOT NULL DEFAULT 0;
