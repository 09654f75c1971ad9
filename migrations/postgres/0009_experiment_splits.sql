-- Each experiment's split (variants, shares, assignment, seed) as last put
-- in force: a start whose file changes the split of an experiment with
-- participants is refused, as a reload is.
CREATE TABLE experiment_splits (
    experiment  TEXT PRIMARY KEY,
    split       TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
