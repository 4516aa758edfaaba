-- The government information resource catalog (政务信息资源目录).
-- An entry's full metadata is a JSON document (`content`); the columns beside it are what lists,
-- filters and rules need. Every content change adds a row to catalog_versions; every lifecycle step
-- a row to catalog_events.

CREATE TABLE info_systems (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT   NOT NULL,
    owner_dept_id INTEGER NOT NULL REFERENCES departments(id),
    hosting       TEXT   NOT NULL,          -- gov_cloud | self_hosted | other
    status        TEXT   NOT NULL DEFAULT 'active',
    description   TEXT,
    created_by    TEXT   NOT NULL,
    created_at    TEXT   NOT NULL,
    updated_by    TEXT   NOT NULL,
    updated_at    TEXT   NOT NULL,
    deleted_at    TEXT,
    deleted_by    TEXT
);
CREATE UNIQUE INDEX info_systems_name ON info_systems(owner_dept_id, name) WHERE deleted_at IS NULL;

CREATE TABLE catalog_entries (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    code              TEXT   NOT NULL,
    name              TEXT   NOT NULL,
    provider_dept_id  INTEGER NOT NULL REFERENCES departments(id),
    status            TEXT   NOT NULL,      -- draft | submitted | published | offline
    version           INTEGER NOT NULL,      -- the newest content version
    published_version INTEGER,               -- the version others see, if any
    library           TEXT   NOT NULL,
    sharing           TEXT   NOT NULL,
    update_cycle      TEXT   NOT NULL,
    format            TEXT   NOT NULL,
    attribute         TEXT   NOT NULL,
    system_id         INTEGER REFERENCES info_systems(id),
    content           TEXT   NOT NULL,
    review_note       TEXT,
    created_by        TEXT   NOT NULL,
    created_at        TEXT   NOT NULL,
    updated_by        TEXT   NOT NULL,
    updated_at        TEXT   NOT NULL,
    deleted_at        TEXT,
    deleted_by        TEXT
);
CREATE UNIQUE INDEX catalog_entries_code ON catalog_entries(code) WHERE deleted_at IS NULL;
CREATE INDEX catalog_entries_provider ON catalog_entries(provider_dept_id);
CREATE INDEX catalog_entries_status ON catalog_entries(status);
CREATE INDEX catalog_entries_updated ON catalog_entries(updated_at);

CREATE TABLE catalog_versions (
    entry_id    INTEGER NOT NULL REFERENCES catalog_entries(id),
    version     INTEGER NOT NULL,
    content     TEXT   NOT NULL,
    created_by  TEXT   NOT NULL,
    created_at  TEXT   NOT NULL,
    PRIMARY KEY (entry_id, version)
);

CREATE TABLE catalog_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id    INTEGER NOT NULL REFERENCES catalog_entries(id),
    version     INTEGER NOT NULL,
    action      TEXT   NOT NULL,            -- create | update | submit | approve | return | offline | delete
    from_status TEXT,
    to_status   TEXT   NOT NULL,
    note        TEXT,
    actor       TEXT   NOT NULL,
    at          TEXT   NOT NULL
);
CREATE INDEX catalog_events_entry ON catalog_events(entry_id);

CREATE TABLE catalog_corrections (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id         INTEGER NOT NULL REFERENCES catalog_entries(id),
    reporter         TEXT   NOT NULL,
    reporter_dept_id INTEGER REFERENCES departments(id),
    description      TEXT   NOT NULL,
    status           TEXT   NOT NULL,       -- open | answered
    answer           TEXT,
    answered_by      TEXT,
    answered_at      TEXT,
    created_at       TEXT   NOT NULL
);
CREATE INDEX catalog_corrections_entry ON catalog_corrections(entry_id);
