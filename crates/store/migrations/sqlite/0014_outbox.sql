-- What happened, for whoever acts on it after: a delivery landed in the lake (matching, bulk
-- deliveries to subscribers). Written in the transaction of the change; each subscriber keeps
-- how far it has read.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    topic       TEXT   NOT NULL,
    payload     TEXT   NOT NULL,            -- JSON
    created_at  TEXT   NOT NULL
);
CREATE TABLE outbox_cursors (
    subscriber  TEXT   PRIMARY KEY,
    last_id     INTEGER NOT NULL,
    updated_at  TEXT   NOT NULL
);
