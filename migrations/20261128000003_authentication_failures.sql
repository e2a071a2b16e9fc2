-- Failed client authentications, counted per client id or source address
-- ('client' or 'address' in subject_kind), per minute and per instance, so
-- every instance on one database sees the others' counts without a write per
-- attempt: each adds what it counted at its upkeep (every 5 s).
CREATE TABLE authentication_failures (
    subject_kind TEXT NOT NULL,
    subject      TEXT NOT NULL,
    minute       BIGINT NOT NULL,
    instance     TEXT NOT NULL,
    failures     BIGINT NOT NULL,
    PRIMARY KEY (subject_kind, subject, minute, instance)
);

CREATE INDEX authentication_failures_by_minute ON authentication_failures (minute);
