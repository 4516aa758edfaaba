-- Case numbers are taken a block at a time before the write that opens a case (so its decision
-- receipt, which names it, is signed outside the write): the next free number of each counter.
CREATE TABLE id_counters (
    name    TEXT    PRIMARY KEY,
    next_id INTEGER NOT NULL
);
INSERT INTO id_counters (name, next_id)
SELECT 'service_cases',
       MAX(COALESCE((SELECT MAX(id) FROM service_cases), 0),
           COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'service_cases'), 0)) + 1;
