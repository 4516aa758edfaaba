-- Government IT projects and their funding review (项目全口径管理).
CREATE TABLE it_projects (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT   NOT NULL,
    dept_id         INTEGER NOT NULL REFERENCES departments(id),
    year            INTEGER NOT NULL,
    budget_asked    INTEGER NOT NULL,        -- yuan
    systems         TEXT   NOT NULL,        -- JSON list of system names
    status          TEXT   NOT NULL,        -- submitted | approved | rejected
    approved_budget INTEGER,
    review_note     TEXT,
    reviewed_by     TEXT,
    created_by      TEXT   NOT NULL,
    created_at      TEXT   NOT NULL,
    updated_at      TEXT   NOT NULL
);
