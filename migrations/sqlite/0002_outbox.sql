-- The durable notification outbox, digest accumulators, cluster-wide
-- schedules and paused notifiers. Times are unix milliseconds.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notifier        TEXT NOT NULL,
    notification    TEXT NOT NULL,
    is_event        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    locked_until    INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'pending',
    last_error      TEXT
);
CREATE INDEX outbox_queue ON outbox (notifier, status, id);

CREATE TABLE digest_counts (
    experiment TEXT NOT NULL,
    variant    TEXT NOT NULL,
    event      TEXT NOT NULL,
    goal       TEXT NOT NULL DEFAULT '',
    count      INTEGER NOT NULL,
    PRIMARY KEY (experiment, variant, event, goal)
) WITHOUT ROWID;

CREATE TABLE schedules (
    name        TEXT PRIMARY KEY,
    last_run_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE notifier_pauses (
    notifier  TEXT PRIMARY KEY,
    reason    TEXT NOT NULL,
    paused_at INTEGER NOT NULL
) WITHOUT ROWID;
