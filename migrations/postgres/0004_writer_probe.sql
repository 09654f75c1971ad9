-- One row the writer rewrites when /readyz asks: a commit that touches the
-- database file, so that readiness reflects whether writes succeed (a full
-- disk answers SELECT 1 but refuses commits).
CREATE TABLE writer_probe (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL
);
