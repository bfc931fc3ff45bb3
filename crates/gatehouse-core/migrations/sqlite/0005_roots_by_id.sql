-- gatehouse SQLite schema, version 5: find a root by id in any region (an invoke URL's
-- path form names an API by id alone; a custom domain name is found by its name alone).
CREATE INDEX roots_by_id_anywhere ON roots (kind, id);
