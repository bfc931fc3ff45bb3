-- gatehouse SQLite schema, version 3: roots of several kinds (APIs, custom domain names,
-- VPC links), each with the records under it. Records keep their sequence numbers.
CREATE TABLE roots (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    doc     TEXT NOT NULL
);
INSERT INTO roots (seq, account, region, kind, id, doc)
    SELECT seq, account, region, 'api', api_id, doc FROM apis ORDER BY seq;
DROP TABLE apis;
CREATE UNIQUE INDEX roots_by_id ON roots (account, region, kind, id);
CREATE INDEX roots_in_order ON roots (account, region, kind, seq);

CREATE TABLE children_v3 (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    account   TEXT NOT NULL,
    region    TEXT NOT NULL,
    root_kind TEXT NOT NULL,
    root_id   TEXT NOT NULL,
    kind      TEXT NOT NULL,
    key       TEXT NOT NULL,
    doc       TEXT NOT NULL
);
INSERT INTO children_v3 (seq, account, region, root_kind, root_id, kind, key, doc)
    SELECT seq, account, region, 'api', api_id, kind, key, doc FROM children ORDER BY seq;
DROP TABLE children;
ALTER TABLE children_v3 RENAME TO children;
CREATE UNIQUE INDEX children_by_key ON children (account, region, root_kind, root_id, kind, key);
CREATE INDEX children_in_order ON children (account, region, root_kind, root_id, kind, seq);
