-- gatehouse SQLite schema, version 1.
-- Records are JSON documents keyed by scope; seq gives creation order for keyset pagination.
CREATE TABLE apis (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    api_id  TEXT NOT NULL,
    doc     TEXT NOT NULL
);
CREATE UNIQUE INDEX apis_by_id ON apis (account, region, api_id);
CREATE INDEX apis_in_order ON apis (account, region, seq);

CREATE TABLE stages (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    api_id     TEXT NOT NULL,
    stage_name TEXT NOT NULL,
    doc        TEXT NOT NULL
);
CREATE UNIQUE INDEX stages_by_name ON stages (account, region, api_id, stage_name);
CREATE INDEX stages_in_order ON stages (account, region, api_id, seq);
