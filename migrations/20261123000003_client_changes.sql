-- Every change to a client (update, secret rotation, deletion), written in the
-- same transaction as the change, so every instance drops what it cached about
-- that client at its next upkeep (every 5 s) instead of when its cache runs out.
CREATE TABLE client_changes (
    change_id  TEXT PRIMARY KEY,
    client_id  TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);

CREATE INDEX client_changes_by_time ON client_changes (changed_at);
