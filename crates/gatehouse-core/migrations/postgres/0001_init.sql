-- gatehouse PostgreSQL schema, version 1 (the same model as SQLite's version 2).
CREATE TABLE apis (
    seq     BIGSERIAL PRIMARY KEY,
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    api_id  TEXT NOT NULL,
    doc     TEXT NOT NULL,
    UNIQUE (account, region, api_id)
);
CREATE INDEX apis_in_order ON apis (account, region, seq);

CREATE TABLE children (
    seq     BIGSERIAL PRIMARY KEY,
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    api_id  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    doc     TEXT NOT NULL,
    UNIQUE (account, region, api_id, kind, key)
);
CREATE INDEX children_in_order ON children (account, region, api_id, kind, seq);
