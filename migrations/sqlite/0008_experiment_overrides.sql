-- Run-time lifecycle: an experiment's status set through the admin API,
-- overriding the configuration file's on every instance sharing the store
-- (each polls this small table).
CREATE TABLE experiment_overrides (
    experiment TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    winner     TEXT,
    reason     TEXT,
    changed_at BIGINT NOT NULL
);
