-- The public half of a signing key held in a hardware security module, as a
-- JWK: such a key's private_key column holds only a reference to the object in
-- the token (a PKCS#11 URI), so the public key cannot be derived from it.
-- NULL for keys sealed in the database.
ALTER TABLE signing_keys ADD COLUMN public_jwk TEXT;
