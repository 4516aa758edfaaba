-- One-click check rule sets: GoRules JSON Decision Models (decision tables), edited by officials,
-- each change a new version (the previous ones kept).
CREATE TABLE rule_sets (
    rule_key        TEXT   NOT NULL,
    version         INTEGER NOT NULL,
    name            TEXT   NOT NULL,
    jdm             TEXT   NOT NULL,
    updated_by      TEXT   NOT NULL,
    updated_at      TEXT   NOT NULL,
    PRIMARY KEY (rule_key, version)
);
