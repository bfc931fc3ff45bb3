-- gatehouse PostgreSQL schema, version 4: find a root by id in a region whatever its account
-- (the data plane serves an invoke URL by its API id).
CREATE INDEX IF NOT EXISTS roots_by_region_id ON roots (region, kind, id);
