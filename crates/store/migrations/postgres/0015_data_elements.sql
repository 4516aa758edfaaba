-- Data elements (数据元, GB/T 19488): what a value means, its format and its value domain,
-- every saved version kept. Catalog items name the element their column holds.
CREATE TABLE data_elements (
    element_id  TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    body        TEXT   NOT NULL,            -- JSON
    updated_by  TEXT   NOT NULL,
    updated_at  TEXT   NOT NULL,
    PRIMARY KEY (element_id, version)
);
-- Facts the checks read (registered here, age, insured …): named definitions over data elements,
-- every saved version kept; a check's audit record names the versions it used.
CREATE TABLE fact_definitions (
    fact_name   TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    body        TEXT   NOT NULL,            -- JSON
    updated_by  TEXT   NOT NULL,
    updated_at  TEXT   NOT NULL,
    PRIMARY KEY (fact_name, version)
);
