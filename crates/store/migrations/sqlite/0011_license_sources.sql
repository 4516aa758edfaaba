-- Licenses issued in bulk from a lake table remember the record they came from
-- ("table:key"), so issuing again from the same table adds only what is new.
ALTER TABLE licenses ADD COLUMN source_ref TEXT;
CREATE INDEX licenses_source_ref ON licenses(source_ref);
