-- A person's records in order, read from the index alone (the SQLite twin explains why).
DROP INDEX identity_links_entity;
CREATE INDEX identity_links_entity ON identity_links (kind, entity_id, source, record_key);
