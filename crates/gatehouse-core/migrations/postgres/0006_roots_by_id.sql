-- gatehouse PostgreSQL schema, version 6: find a root by id in any region (an invoke URL's
-- path form names an API by id alone; a custom domain name is found by its name alone).
CREATE INDEX IF NOT EXISTS roots_by_id_anywhere ON roots (kind, id);
