-- The signing-key schedule the servers run with (`serve --key-rotation-period`
-- and its companions), recorded at each start so `tokend keys list` can say
-- when the next rotation and each retirement are due without being told.
-- One row; a NULL period means keys rotate only by hand.
CREATE TABLE key_schedule (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    algorithm           TEXT NOT NULL,
    rotation_period     BIGINT,
    activation_delay    BIGINT NOT NULL,
    retire_after        BIGINT NOT NULL,
    recorded_at         BIGINT NOT NULL
);
