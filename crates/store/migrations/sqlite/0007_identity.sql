-- Entity resolution: which entity (person or enterprise) each source record belongs to, the
-- pairs waiting for clerical review, the decisions officials made (respected by every later run),
-- and every run with what it changed.
CREATE TABLE identity_links (
    kind            TEXT   NOT NULL,        -- person | enterprise
    source          TEXT   NOT NULL,        -- lake table
    record_key      TEXT   NOT NULL,        -- the record's key in that table
    entity_id       TEXT   NOT NULL,
    method          TEXT   NOT NULL,        -- id | model | review | alone
    run_id          INTEGER NOT NULL,
    PRIMARY KEY (kind, source, record_key)
);
CREATE INDEX identity_links_entity ON identity_links (kind, entity_id);

CREATE TABLE identity_reviews (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT   NOT NULL,
    a_source        TEXT   NOT NULL,
    a_key           TEXT   NOT NULL,
    b_source        TEXT   NOT NULL,
    b_key           TEXT   NOT NULL,
    probability     TEXT   NOT NULL,
    explanation     TEXT   NOT NULL,        -- JSON: the weight of every field
    run_id          INTEGER NOT NULL
);

CREATE TABLE identity_decisions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT   NOT NULL,
    decision        TEXT   NOT NULL,        -- accept | reject | alone
    a_source        TEXT   NOT NULL,
    a_key           TEXT   NOT NULL,
    b_source        TEXT,
    b_key           TEXT,
    reason          TEXT   NOT NULL,
    actor           TEXT   NOT NULL,
    decided_at      TEXT   NOT NULL
);

CREATE TABLE identity_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT   NOT NULL,
    records         INTEGER NOT NULL,
    entities        INTEGER NOT NULL,
    stats           TEXT   NOT NULL,        -- JSON: comparisons, links, times
    changes         TEXT   NOT NULL,        -- JSON: created, merged, split
    versions        TEXT   NOT NULL,        -- JSON: the lake table versions read
    actor           TEXT   NOT NULL,
    finished_at     TEXT   NOT NULL
);
