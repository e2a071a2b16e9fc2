-- A random tag per registration of a client id, carried in the jti of its
-- tokens, so a client deleted and created again (even within the same second)
-- does not revive its predecessor's tokens. Empty for clients registered before.
ALTER TABLE clients ADD COLUMN registration TEXT NOT NULL DEFAULT '';
