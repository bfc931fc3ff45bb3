-- gatehouse PostgreSQL schema, version 2: token buckets shared by all replicas.
CREATE TABLE throttle_buckets (
    account TEXT NOT NULL,
    bucket  TEXT NOT NULL,
    tokens  DOUBLE PRECISION NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, bucket)
);
