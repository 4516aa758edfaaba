-- Electronic licenses (电子证照): types, issuer keys, the registry, the status list, matters and shows.

CREATE TABLE license_types (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    type_key      TEXT   NOT NULL UNIQUE,
    name          TEXT   NOT NULL,
    type_code     TEXT   NOT NULL,          -- definer's USCC + 3 digits (GB/T 36904)
    holder_kind   TEXT   NOT NULL,          -- citizen | enterprise
    claims        TEXT   NOT NULL,          -- JSON [{"name", "label"}]
    validity_days INTEGER,
    created_by    TEXT   NOT NULL,
    created_at    TEXT   NOT NULL
);

-- Signing keys. Retired keys stay so that old licenses still verify (the trust list publishes them).
CREATE TABLE license_keys (
    kid         TEXT   PRIMARY KEY,
    alg         TEXT   NOT NULL,            -- ES256 | SM2
    public      TEXT   NOT NULL,
    secret      TEXT   NOT NULL,
    created_at  TEXT   NOT NULL,
    retired_at  TEXT
);

CREATE TABLE licenses (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    license_id     TEXT   NOT NULL UNIQUE,
    type_id        INTEGER NOT NULL REFERENCES license_types(id),
    holder_kind    TEXT   NOT NULL,
    holder_id      TEXT   NOT NULL,
    holder_name    TEXT   NOT NULL,
    issuer_dept_id INTEGER NOT NULL REFERENCES departments(id),
    claims         TEXT   NOT NULL,
    version        INTEGER NOT NULL,
    predecessor_id INTEGER REFERENCES licenses(id),
    valid_from     TEXT   NOT NULL,
    valid_until    TEXT,
    status         TEXT   NOT NULL,         -- valid | suspended | revoked
    status_idx     INTEGER NOT NULL UNIQUE,
    sd_jwt         TEXT   NOT NULL,
    seal           TEXT   NOT NULL,
    seal_kid       TEXT   NOT NULL,
    holder_jwk     TEXT   NOT NULL,
    holder_secret  TEXT   NOT NULL,         -- the platform wallet's key for this holder
    created_by     TEXT   NOT NULL,
    created_at     TEXT   NOT NULL,
    updated_by     TEXT   NOT NULL,
    updated_at     TEXT   NOT NULL
);
CREATE INDEX licenses_holder ON licenses(holder_id);

CREATE TABLE license_status_list (
    id          INTEGER PRIMARY KEY,
    size        INTEGER NOT NULL,
    next_idx    INTEGER NOT NULL,
    bytes       TEXT   NOT NULL,            -- hex of the 2-bit array
    updated_at  TEXT   NOT NULL
);

CREATE TABLE license_matters (
    code        TEXT   PRIMARY KEY,
    name        TEXT   NOT NULL,
    type_key    TEXT   NOT NULL,
    claims      TEXT   NOT NULL,            -- JSON list of claim names the matter needs
    created_at  TEXT   NOT NULL
);

CREATE TABLE license_shows (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    license_db_id INTEGER NOT NULL REFERENCES licenses(id),
    matter_code TEXT   NOT NULL,
    claims      TEXT   NOT NULL,            -- names shown, never values
    verifier    TEXT   NOT NULL,
    nonce       TEXT   NOT NULL,
    receipt     TEXT,
    at          TEXT   NOT NULL
);
CREATE INDEX license_shows_at ON license_shows(at);
