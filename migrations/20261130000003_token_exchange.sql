-- The audiences a client may obtain delegated tokens for by exchanging other
-- clients' tokens (RFC 8693), space-separated; empty: only its own tokens.
ALTER TABLE clients ADD COLUMN token_exchange_audiences TEXT NOT NULL DEFAULT '';
