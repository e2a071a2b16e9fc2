-- The audit trail: every change an operator or admin made (written in the
-- same transaction as the change), failed authentications aggregated per
-- client per minute, and throttling. Times are Unix milliseconds, so events
-- of one second keep their order; event_id breaks ties for stable paging.
-- details is a JSON object; no row ever holds a secret, a hash or a token.
CREATE TABLE audit_events (
    event_id    TEXT PRIMARY KEY,
    occurred_at BIGINT NOT NULL,
    event_type  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    target      TEXT NOT NULL,
    origin      TEXT NOT NULL,
    details     TEXT NOT NULL
);

CREATE INDEX audit_events_by_time ON audit_events (occurred_at, event_id);
CREATE INDEX audit_events_by_target ON audit_events (target, occurred_at);
