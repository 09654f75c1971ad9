-- Participants, views, conversions and the aggregated counters that /results reads.
CREATE TABLE participants (
    experiment TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    variant    TEXT NOT NULL,
    source     TEXT NOT NULL,
    views      BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (experiment, unit_id)
);

CREATE TABLE conversions (
    experiment TEXT NOT NULL,
    goal       TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    variant    TEXT NOT NULL,
    repeats    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (experiment, goal, unit_id)
);

CREATE TABLE counters (
    experiment TEXT NOT NULL,
    variant    TEXT NOT NULL,
    metric     TEXT NOT NULL,
    goal       TEXT NOT NULL DEFAULT '',
    value      BIGINT NOT NULL,
    PRIMARY KEY (experiment, variant, metric, goal)
);

-- Ids of server-side events already ingested, for deduplication.
CREATE TABLE ingest_ids (
    id         TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
