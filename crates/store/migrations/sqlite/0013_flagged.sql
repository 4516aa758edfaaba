-- Values kept though they failed their column's check (DESIGN.md invariant 10): how many each
-- delivery flagged, and per column at each table version.
ALTER TABLE lake_jobs ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lake_quality ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0;
