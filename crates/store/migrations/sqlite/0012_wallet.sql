-- The holder's wallet: an account bound to the citizen ID or credit code it speaks for (a
-- citizen, or an enterprise's agent), bound by the issuing side after checking who it is.
CREATE TABLE license_holders (
    user_id    INTEGER NOT NULL PRIMARY KEY REFERENCES users(id),
    holder_id  TEXT   NOT NULL,
    bound_by   TEXT   NOT NULL,
    bound_at   TEXT   NOT NULL
);
CREATE INDEX license_holders_holder ON license_holders(holder_id);
