-- The last significance verdict per comparison, so that a notification is
-- sent once per verdict change, cluster-wide.
CREATE TABLE verdicts (
    experiment  TEXT NOT NULL,
    goal        TEXT NOT NULL,
    variant     TEXT NOT NULL,
    significant INTEGER NOT NULL,
    PRIMARY KEY (experiment, goal, variant)
) WITHOUT ROWID;
