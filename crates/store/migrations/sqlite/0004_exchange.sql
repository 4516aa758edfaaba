-- Sharing requests between departments and the grants they end in.

CREATE TABLE share_requests (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id         INTEGER NOT NULL REFERENCES catalog_entries(id),
    consumer_dept_id INTEGER NOT NULL REFERENCES departments(id),
    consumer_system  TEXT   NOT NULL,
    items            TEXT   NOT NULL,       -- JSON list of item names
    purpose          TEXT   NOT NULL,
    legal_basis      TEXT,
    period_until     TEXT   NOT NULL,       -- YYYY-MM-DD
    complex          INTEGER NOT NULL DEFAULT 0,
    status           TEXT   NOT NULL,       -- bureau_check | provider_review | granted | refused
    stage_started    TEXT   NOT NULL,       -- YYYY-MM-DD
    deadline         TEXT,                  -- YYYY-MM-DD, for the open stage
    escalated        INTEGER NOT NULL DEFAULT 0,
    decision_reason  TEXT,
    decided_by       TEXT,
    created_by       TEXT   NOT NULL,
    created_at       TEXT   NOT NULL,
    updated_at       TEXT   NOT NULL
);
CREATE INDEX share_requests_entry ON share_requests(entry_id);
CREATE INDEX share_requests_consumer ON share_requests(consumer_dept_id);

CREATE TABLE share_grants (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id       INTEGER NOT NULL REFERENCES share_requests(id),
    entry_id         INTEGER NOT NULL REFERENCES catalog_entries(id),
    consumer_dept_id INTEGER NOT NULL REFERENCES departments(id),
    consumer_system  TEXT   NOT NULL,
    items            TEXT   NOT NULL,
    purpose          TEXT   NOT NULL,
    valid_until      TEXT   NOT NULL,
    revoked_at       TEXT,
    revoked_reason   TEXT,
    created_at       TEXT   NOT NULL
);
CREATE INDEX share_grants_consumer ON share_grants(consumer_dept_id, entry_id);
