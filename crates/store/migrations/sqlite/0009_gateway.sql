-- The data-service gateway: each grant's terms of use (which sensitive items it releases
-- unmasked, daily quotas, a rate), the calls made through it, the day's usage per grant, and the
-- persons and enterprises each call touched (for "who used my data").
ALTER TABLE share_grants ADD COLUMN unmasked_items TEXT NOT NULL DEFAULT '[]';
ALTER TABLE share_grants ADD COLUMN calls_per_day INTEGER NOT NULL DEFAULT 10000;
ALTER TABLE share_grants ADD COLUMN rows_per_day INTEGER NOT NULL DEFAULT 100000;
ALTER TABLE share_grants ADD COLUMN calls_per_second INTEGER NOT NULL DEFAULT 50;

CREATE TABLE gateway_usage (
    grant_id  INTEGER NOT NULL REFERENCES share_grants(id),
    day       TEXT   NOT NULL,            -- YYYY-MM-DD, local
    calls     INTEGER NOT NULL DEFAULT 0,
    rows_out  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (grant_id, day)
);

CREATE TABLE gateway_calls (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    grant_id         INTEGER NOT NULL REFERENCES share_grants(id),
    entry_id         INTEGER NOT NULL,
    consumer_dept_id INTEGER NOT NULL,
    consumer_system  TEXT   NOT NULL,
    purpose          TEXT   NOT NULL,
    actor            TEXT   NOT NULL,
    status           INTEGER NOT NULL,       -- HTTP status answered
    rows_out         INTEGER NOT NULL,
    ms               INTEGER NOT NULL,
    called_at        TEXT   NOT NULL
);
CREATE INDEX gateway_calls_grant ON gateway_calls(grant_id, called_at);

CREATE TABLE gateway_subjects (
    call_id   INTEGER NOT NULL REFERENCES gateway_calls(id),
    subject   TEXT   NOT NULL             -- a citizen ID or a credit code
);
CREATE INDEX gateway_subjects_subject ON gateway_subjects(subject);
