-- The instances serving on this database, each with the time of its last
-- heartbeat (every upkeep). Those heard from lately share each client's
-- rate limit, and the first of them by id writes the fleet's throttling
-- events. An instance removes its row when it stops.
CREATE TABLE instances (
    instance_id TEXT PRIMARY KEY,
    heartbeat_at BIGINT NOT NULL
);
