-- Service matters (政务服务事项) and their processes, each saved version kept; cases event-sourced:
-- every event stored in order, the case row and its open tasks a projection written in the same
-- transaction as the events; every pull of an applicant's data for a form ("who used my data").
CREATE TABLE service_matters (
    matter_code TEXT    NOT NULL,
    version     INTEGER    NOT NULL,
    body        TEXT    NOT NULL,            -- JSON
    updated_by  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    PRIMARY KEY (matter_code, version)
);
CREATE TABLE service_processes (
    process_name TEXT   NOT NULL,
    version      INTEGER   NOT NULL,
    body         TEXT   NOT NULL,            -- JSON
    updated_by   TEXT   NOT NULL,
    updated_at   TEXT   NOT NULL,
    PRIMARY KEY (process_name, version)
);
CREATE TABLE service_cases (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    matter_code     TEXT    NOT NULL,
    matter_version  INTEGER    NOT NULL,
    process_name    TEXT    NOT NULL,
    process_version INTEGER    NOT NULL,
    applicant       TEXT    NOT NULL,        -- citizen ID or credit code
    centre_id       INTEGER,                    -- the receiving service centre; NULL: online
    status          TEXT    NOT NULL,
    opened_at       TEXT    NOT NULL,
    promised_by     TEXT    NOT NULL,        -- the promised completion date
    events          INTEGER    NOT NULL,        -- how many events the case has
    updated_at      TEXT    NOT NULL
);
CREATE INDEX service_cases_applicant ON service_cases (applicant);
CREATE TABLE service_events (
    case_id     INTEGER    NOT NULL REFERENCES service_cases (id),
    seq         INTEGER    NOT NULL,
    body        TEXT    NOT NULL,            -- JSON
    actor       TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    PRIMARY KEY (case_id, seq)
);
CREATE TABLE service_tasks (
    case_id     INTEGER    NOT NULL REFERENCES service_cases (id),
    stage       TEXT    NOT NULL,
    dept_id     INTEGER    NOT NULL,
    role        TEXT    NOT NULL,
    due         TEXT    NOT NULL,
    escalated   INTEGER    NOT NULL,
    paused      INTEGER    NOT NULL,
    PRIMARY KEY (case_id, stage)
);
CREATE INDEX service_tasks_dept ON service_tasks (dept_id, role, due);
CREATE TABLE service_pulls (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     INTEGER    NOT NULL REFERENCES service_cases (id),
    subject     TEXT    NOT NULL,            -- citizen ID or credit code
    what        TEXT    NOT NULL,            -- JSON: each value read with its source
    actor       TEXT    NOT NULL,
    at          TEXT    NOT NULL
);
CREATE INDEX service_pulls_subject ON service_pulls (subject);
