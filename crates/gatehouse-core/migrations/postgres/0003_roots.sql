-- gatehouse PostgreSQL schema, version 3: roots of several kinds (APIs, custom domain names,
-- VPC links), each with the records under it. Records keep their sequence numbers.
CREATE TABLE roots (
    seq     BIGSERIAL PRIMARY KEY,
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    doc     TEXT NOT NULL,
    UNIQUE (account, region, kind, id)
);
INSERT INTO roots (seq, account, region, kind, id, doc)
    SELECT seq, account, region, 'api', api_id, doc FROM apis ORDER BY seq;
SELECT setval(pg_get_serial_sequence('roots', 'seq'), COALESCE((SELECT MAX(seq) FROM roots), 0) + 1, false);
DROP TABLE apis;
CREATE INDEX roots_in_order ON roots (account, region, kind, seq);

CREATE TABLE children_v3 (
    seq       BIGSERIAL PRIMARY KEY,
    account   TEXT NOT NULL,
    region    TEXT NOT NULL,
    root_kind TEXT NOT NULL,
    root_id   TEXT NOT NULL,
    kind      TEXT NOT NULL,
    key       TEXT NOT NULL,
    doc       TEXT NOT NULL,
    UNIQUE (account, region, root_kind, root_id, kind, key)
);
INSERT INTO children_v3 (seq, account, region, root_kind, root_id, kind, key, doc)
    SELECT seq, account, region, 'api', api_id, kind, key, doc FROM children ORDER BY seq;
SELECT setval(pg_get_serial_sequence('children_v3', 'seq'), COALESCE((SELECT MAX(seq) FROM children_v3), 0) + 1, false);
DROP TABLE children;
ALTER TABLE children_v3 RENAME TO children;
CREATE INDEX children_in_order ON children (account, region, root_kind, root_id, kind, seq);
