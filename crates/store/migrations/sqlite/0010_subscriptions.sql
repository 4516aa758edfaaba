-- Bulk delivery: a consumer subscribes through a grant to its table and receives the changes
-- since the version last delivered, as files in its department's space.
CREATE TABLE gateway_subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    grant_id      INTEGER NOT NULL REFERENCES share_grants(id),
    created_by    TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    last_version  INTEGER,              -- the table version delivered up to; NULL: nothing yet
    delivered_at  TEXT,
    active        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX gateway_subscriptions_grant ON gateway_subscriptions(grant_id);

CREATE TABLE gateway_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id  INTEGER NOT NULL REFERENCES gateway_subscriptions(id),
    from_version     INTEGER,           -- NULL: the whole table
    to_version       INTEGER NOT NULL,
    file_name        TEXT    NOT NULL,
    rows_changed     INTEGER NOT NULL,
    rows_removed     INTEGER NOT NULL,
    sha256           TEXT    NOT NULL,
    delivered_at     TEXT    NOT NULL
);
CREATE INDEX gateway_deliveries_subscription ON gateway_deliveries(subscription_id);
