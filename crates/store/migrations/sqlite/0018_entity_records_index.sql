-- A person's records in order: without the order columns in the index, SQLite chose the primary
-- key to avoid a sort and walked every link of the kind (3.6 s at a million persons).
DROP INDEX identity_links_entity;
CREATE INDEX identity_links_entity ON identity_links (kind, entity_id, source, record_key);
