-- Case numbers are taken a block at a time before the write that opens a case (so its decision
-- receipt, which names it, is signed outside the write): the next free number of each counter.
CREATE TABLE id_counters (
    name    TEXT   PRIMARY KEY,
    next_id BIGINT NOT NULL
);
INSERT INTO id_counters (name, next_id)
SELECT 'service_cases', COALESCE(MAX(id), 0) + 1 FROM service_cases;
