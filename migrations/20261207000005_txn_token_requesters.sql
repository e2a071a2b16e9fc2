-- Clients that may ask for Transaction Tokens (draft-ietf-oauth-transaction-tokens):
-- 1 for an edge gateway or another registered requester, else 0.
ALTER TABLE clients ADD COLUMN txn_token_requester INTEGER NOT NULL DEFAULT 0;
