-- A verdict announced, per comparison and per analysis: switching an
-- experiment from sequential to a fixed plan (or back) must still send that
-- analysis's one announcement. Verdicts announced before count as
-- sequential ones (the old watcher judged continuously).
CREATE TABLE announcements (
    experiment TEXT NOT NULL,
    goal       TEXT NOT NULL,
    variant    TEXT NOT NULL,
    analysis   TEXT NOT NULL,
    PRIMARY KEY (experiment, goal, variant, analysis)
);
INSERT INTO announcements (experiment, goal, variant, analysis)
    SELECT experiment, goal, variant, 'sequential' FROM verdicts WHERE significant = 1;
