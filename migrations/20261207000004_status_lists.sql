-- Token Status Lists (draft-ietf-oauth-status-list): each access token
-- carries an index into a list. Indices are handed out in blocks, one block
-- per client (and, for a delegated token, per client acted for) per
-- instance, so no token costs a write, and the tokens of a client that is
-- disabled, deleted or registered anew are found by its blocks alone.
CREATE TABLE status_lists (
    list_id     BIGINT PRIMARY KEY,
    opened_at   BIGINT NOT NULL,
    -- Indices handed out so far, in blocks; never handed out again.
    allocated   BIGINT NOT NULL
);

CREATE TABLE status_blocks (
    list_id              BIGINT NOT NULL,
    first_index          BIGINT NOT NULL,
    size                 BIGINT NOT NULL,
    client_id            TEXT NOT NULL,
    registration         TEXT NOT NULL,
    -- The client a delegated token acts for, and its registration tag; empty otherwise.
    subject_id           TEXT NOT NULL,
    subject_registration TEXT NOT NULL,
    reserved_at          BIGINT NOT NULL,
    PRIMARY KEY (list_id, first_index)
);

-- Where a revoked token's status sits, so its bit is set.
ALTER TABLE revoked_tokens ADD COLUMN status_list BIGINT;
ALTER TABLE revoked_tokens ADD COLUMN status_index BIGINT;
CREATE INDEX revoked_tokens_by_status_list ON revoked_tokens (status_list);
