-- Decision receipts (决定回执): one per decided case, instant or manual, signed with the bureau's
-- ES256 key and SM2 seal. The payload holds hashes of the facts used, never their values.
CREATE TABLE service_receipts (
    case_id     INTEGER PRIMARY KEY REFERENCES service_cases (id),
    payload     TEXT    NOT NULL,            -- JSON, as signed
    jws         TEXT    NOT NULL,
    es256_kid   TEXT    NOT NULL,
    seal        TEXT    NOT NULL,
    sm2_kid     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);

-- Every screening of an instant matter's case by its rules, as replay reads them: the rule set
-- and its version, the route and the facts the rules read (their values, the case file's).
CREATE TABLE service_screenings (
    case_id          INTEGER PRIMARY KEY REFERENCES service_cases (id),
    rule_set         TEXT    NOT NULL,
    rule_set_version INTEGER NOT NULL,
    route            TEXT    NOT NULL,            -- approve | refuse | manual
    ruled            INTEGER NOT NULL,            -- 1: the rules ran (no data was missing)
    facts            TEXT    NOT NULL,            -- JSON object: name -> value
    rows             TEXT    NOT NULL,             -- JSON: the rows that fired
    sampled          INTEGER NOT NULL DEFAULT 0,   -- 1: drawn for a check after the fact (随机抽查)
    checked_by       TEXT,
    checked_at       TEXT,
    upheld           INTEGER,                      -- 1: the approval stands; 0: withdrawn
    finding          TEXT
);
CREATE INDEX service_screenings_rules ON service_screenings (rule_set, case_id);

-- Replays of a draft rule set over past cases, and who has seen each report: a rule set that
-- decides instant matters is published only with a replay another account has seen.
CREATE TABLE rule_replays (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_set        TEXT    NOT NULL,
    draft_sha256    TEXT    NOT NULL,
    report          TEXT    NOT NULL,            -- JSON
    run_by          TEXT    NOT NULL,
    run_at          TEXT    NOT NULL,
    seen_by         TEXT,
    seen_at         TEXT
);
