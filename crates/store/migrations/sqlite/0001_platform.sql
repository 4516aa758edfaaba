-- Platform foundation: divisions, departments, accounts, roles, dictionaries, sessions, tokens, logs, audit.
-- Times are RFC 3339 UTC strings with milliseconds ("2026-11-27T20:54:13.123Z"): they sort as text on
-- both backends and decode the same way through sqlx's Any driver.

CREATE TABLE divisions (
    code          TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    level         TEXT   NOT NULL,          -- province | prefecture | county | zone
    parent_code   TEXT,
    kind          TEXT   NOT NULL,          -- gbt2260 | local
    valid_from    TEXT   NOT NULL,          -- first edition (year) the code is valid in
    valid_to      TEXT,                     -- first edition it is no longer valid in
    PRIMARY KEY (code, valid_from)
);

CREATE TABLE departments (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id     INTEGER REFERENCES departments(id),
    name          TEXT   NOT NULL,
    short_code    TEXT,
    division_code TEXT   NOT NULL,
    uscc          TEXT,
    leader        TEXT,
    contact       TEXT,
    status        TEXT   NOT NULL DEFAULT 'active',
    sort_order    INTEGER NOT NULL DEFAULT 0,
    created_by    TEXT   NOT NULL,
    created_at    TEXT   NOT NULL,
    updated_by    TEXT   NOT NULL,
    updated_at    TEXT   NOT NULL,
    deleted_at    TEXT,
    deleted_by    TEXT
);
CREATE UNIQUE INDEX departments_uscc ON departments(uscc) WHERE deleted_at IS NULL AND uscc IS NOT NULL;
CREATE INDEX departments_parent ON departments(parent_id);

CREATE TABLE users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    username            TEXT   NOT NULL,
    display_name        TEXT   NOT NULL,
    dept_id             INTEGER NOT NULL REFERENCES departments(id),
    phone               TEXT,
    email               TEXT,
    password_hash       TEXT   NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    password_changed_at TEXT   NOT NULL,
    failed_attempts     INTEGER NOT NULL DEFAULT 0,
    locked_until        TEXT,
    status              TEXT   NOT NULL DEFAULT 'active',
    created_by          TEXT   NOT NULL,
    created_at          TEXT   NOT NULL,
    updated_by          TEXT   NOT NULL,
    updated_at          TEXT   NOT NULL,
    deleted_at          TEXT,
    deleted_by          TEXT
);
CREATE UNIQUE INDEX users_username ON users(username) WHERE deleted_at IS NULL;
CREATE INDEX users_dept ON users(dept_id);

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    role_key    TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    data_scope  TEXT   NOT NULL,            -- all | custom | dept | dept_and_below | self
    status      TEXT   NOT NULL DEFAULT 'active',
    sort_order  INTEGER NOT NULL DEFAULT 0,
    remark      TEXT,
    created_by  TEXT   NOT NULL,
    created_at  TEXT   NOT NULL,
    updated_by  TEXT   NOT NULL,
    updated_at  TEXT   NOT NULL,
    deleted_at  TEXT,
    deleted_by  TEXT
);
CREATE UNIQUE INDEX roles_key ON roles(role_key) WHERE deleted_at IS NULL;

CREATE TABLE role_permissions (
    role_id     INTEGER NOT NULL REFERENCES roles(id),
    permission  TEXT   NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE role_departments (
    role_id     INTEGER NOT NULL REFERENCES roles(id),
    dept_id     INTEGER NOT NULL REFERENCES departments(id),
    PRIMARY KEY (role_id, dept_id)
);

CREATE TABLE user_roles (
    user_id     INTEGER NOT NULL REFERENCES users(id),
    role_id     INTEGER NOT NULL REFERENCES roles(id),
    PRIMARY KEY (user_id, role_id)
);

CREATE TABLE dict_types (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type_key    TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    status      TEXT   NOT NULL DEFAULT 'active',
    remark      TEXT,
    created_by  TEXT   NOT NULL,
    created_at  TEXT   NOT NULL,
    updated_by  TEXT   NOT NULL,
    updated_at  TEXT   NOT NULL,
    deleted_at  TEXT,
    deleted_by  TEXT
);
CREATE UNIQUE INDEX dict_types_key ON dict_types(type_key) WHERE deleted_at IS NULL;

CREATE TABLE dict_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type_id     INTEGER NOT NULL REFERENCES dict_types(id),
    label       TEXT   NOT NULL,
    value       TEXT   NOT NULL,
    sort_order  INTEGER NOT NULL DEFAULT 0,
    color       TEXT,
    status      TEXT   NOT NULL DEFAULT 'active',
    created_by  TEXT   NOT NULL,
    created_at  TEXT   NOT NULL,
    updated_by  TEXT   NOT NULL,
    updated_at  TEXT   NOT NULL,
    deleted_at  TEXT,
    deleted_by  TEXT
);
CREATE UNIQUE INDEX dict_items_value ON dict_items(type_id, value) WHERE deleted_at IS NULL;

CREATE TABLE sessions (
    token_hash  TEXT   PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    csrf_token  TEXT   NOT NULL,
    client      TEXT,
    created_at  TEXT   NOT NULL,
    expires_at  TEXT   NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT   NOT NULL,
    token_hash  TEXT   NOT NULL UNIQUE,
    prefix      TEXT   NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    scopes      TEXT   NOT NULL,            -- space-separated permission patterns
    created_by  TEXT   NOT NULL,
    created_at  TEXT   NOT NULL,
    expires_at  TEXT   NOT NULL,
    revoked_at  TEXT,
    last_used_at TEXT
);

CREATE TABLE login_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    username    TEXT   NOT NULL,
    user_id     INTEGER,
    client      TEXT,
    outcome     TEXT   NOT NULL,            -- success | failure | locked
    reason      TEXT,
    at          TEXT   NOT NULL
);
CREATE INDEX login_log_at ON login_log(at);

-- The audit log is append-only and chained: hash = SM3(prev_hash ‖ canonical record).
-- audit_head holds the last sequence number and hash, updated in the same transaction, so that
-- deleting the newest records is detected too.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT   NOT NULL,
    actor_id    INTEGER,
    actor       TEXT   NOT NULL,
    dept_id     INTEGER,
    action      TEXT   NOT NULL,
    object_type TEXT   NOT NULL,
    object_id   TEXT,
    purpose     TEXT,
    client      TEXT,
    outcome     TEXT   NOT NULL,            -- ok | rejected | denied
    detail      TEXT,
    prev_hash   TEXT   NOT NULL,
    hash        TEXT   NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_action ON audit_log(action);

CREATE TABLE audit_head (
    id          INTEGER PRIMARY KEY,
    seq         INTEGER NOT NULL,
    hash        TEXT   NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
