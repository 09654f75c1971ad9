-- Results over time. A point is one row of history_points, keyed by its time
-- (unix milliseconds: an interval's slot, or the exact time of a lifecycle
-- change), so that instances recording the same slot insert it once; only
-- the instance whose insert made the point copies the counters into
-- history_counts, in the same transaction. Per point, experiment and variant:
-- one row with goal '' (participants) and one per goal with conversions.
CREATE TABLE history_points (
    at    BIGINT PRIMARY KEY,
    cause TEXT NOT NULL
);

CREATE TABLE history_counts (
    at           BIGINT NOT NULL,
    experiment   TEXT NOT NULL,
    variant      TEXT NOT NULL,
    goal         TEXT NOT NULL,
    participants BIGINT NOT NULL,
    conversions  BIGINT NOT NULL,
    PRIMARY KEY (experiment, at, variant, goal)
);
