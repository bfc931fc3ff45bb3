-- gatehouse PostgreSQL schema, version 5: the replicas sharing this database, so that an
-- `@connections` request reaches the replica holding the connection.
-- One row per replica: the tag its connection ids carry, which start of it holds the tag
-- (`incarnation`), where the others reach it, and its last heartbeat.
CREATE TABLE replicas (
    tag         INT PRIMARY KEY,
    incarnation BIGINT NOT NULL,
    url         TEXT NOT NULL,
    beat_at     TIMESTAMPTZ NOT NULL
);
-- The secret replicas show each other when they forward a request (made by the first
-- replica that joins).
CREATE TABLE replica_secret (
    one    BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    secret TEXT NOT NULL
);
