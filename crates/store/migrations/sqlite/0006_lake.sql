-- The lake's metadata: which catalog entry each Delta table holds, with the saved column mapping
-- and key; every ingestion job with its counts; quality measured at each table version.
CREATE TABLE lake_tables (
    resource_code   TEXT   PRIMARY KEY,     -- the catalog entry whose data the table holds
    table_name      TEXT   NOT NULL UNIQUE,
    library         TEXT   NOT NULL,
    title           TEXT   NOT NULL,
    spec            TEXT   NOT NULL,        -- JSON: columns, key, source-column mapping
    updated_by      TEXT   NOT NULL,
    updated_at      TEXT   NOT NULL
);

CREATE TABLE lake_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name      TEXT   NOT NULL,
    resource_code   TEXT   NOT NULL,
    file_name       TEXT   NOT NULL,
    file_sha256     TEXT   NOT NULL,
    status          TEXT   NOT NULL,        -- running | done | failed | interrupted
    rows_read       INTEGER NOT NULL DEFAULT 0,
    inserted        INTEGER NOT NULL DEFAULT 0,
    updated         INTEGER NOT NULL DEFAULT 0,
    rejected        INTEGER NOT NULL DEFAULT 0,
    duplicates      INTEGER NOT NULL DEFAULT 0,
    version         INTEGER,
    error           TEXT,
    actor           TEXT   NOT NULL,
    started_at      TEXT   NOT NULL,
    finished_at     TEXT
);
CREATE INDEX lake_jobs_table ON lake_jobs (table_name, id);

CREATE TABLE lake_quality (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name      TEXT   NOT NULL,
    version         INTEGER NOT NULL,
    job_id          INTEGER,
    measured_at     TEXT   NOT NULL,
    column_name     TEXT   NOT NULL,        -- '*' for the whole table
    row_count       INTEGER NOT NULL,
    completeness_bp INTEGER NOT NULL,          -- basis points: 10000 = 100%
    validity_bp     INTEGER NOT NULL,
    uniqueness_bp   INTEGER NOT NULL
);
CREATE INDEX lake_quality_table ON lake_quality (table_name, version);
