-- gatehouse SQLite schema, version 2: every record under an API (stages, routes,
-- integrations, deployments, deployment snapshots) in one table keyed by kind and key.
CREATE TABLE children (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    api_id  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    doc     TEXT NOT NULL
);
CREATE UNIQUE INDEX children_by_key ON children (account, region, api_id, kind, key);
CREATE INDEX children_in_order ON children (account, region, api_id, kind, seq);

INSERT INTO children (account, region, api_id, kind, key, doc)
    SELECT account, region, api_id, 'stage', stage_name, doc FROM stages ORDER BY seq;
DROP TABLE stages;
