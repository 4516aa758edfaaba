-- Notices of a case's transitions (受理, 补正, 办结, 证照), written in the transaction of the
-- events they tell of and sent afterwards by the outbox's sender, with every delivery state kept.
-- Templates are versioned by "kind.channel" (received.email, correction.sms, ...).
CREATE TABLE service_notice_templates (
    template    TEXT    NOT NULL,
    version     INTEGER    NOT NULL,
    body        TEXT    NOT NULL,            -- JSON: subject and text
    updated_by  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    PRIMARY KEY (template, version)
);
CREATE TABLE service_notices (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id          INTEGER    NOT NULL REFERENCES service_cases (id),
    seq              INTEGER    NOT NULL,        -- the event it tells of
    kind             TEXT    NOT NULL,
    channel          TEXT    NOT NULL,        -- email | sms
    recipient        TEXT    NOT NULL,
    template_version INTEGER    NOT NULL,        -- 0: the built-in text
    subject          TEXT    NOT NULL,
    body             TEXT    NOT NULL,
    state            TEXT    NOT NULL,        -- queued | sent | retrying | failed
    attempts         INTEGER    NOT NULL,
    next_at          TEXT    NOT NULL,
    last_error       TEXT,
    receipt          TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);
CREATE INDEX service_notices_due ON service_notices (state, next_at);
CREATE INDEX service_notices_case ON service_notices (case_id);
