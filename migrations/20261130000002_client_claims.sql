-- Claims an administrator fixes for a client, added to every token it gets:
-- a JSON object (at most 2 KiB), empty for none.
ALTER TABLE clients ADD COLUMN claims TEXT NOT NULL DEFAULT '';
