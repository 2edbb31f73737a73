-- The key server's records (server/src/storage.rs): one row per record, named by its kind (codes, keys,
-- batches, meta, officers, sessions, audit, secrets, and whatever kinds later versions add) and its key.
-- Values are the same bytes the embedded backend stores (JSON, or big-endian numbers).
CREATE TABLE records (
    kind  TEXT  NOT NULL,
    key   BYTEA NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (kind, key)
);

-- Counters that concurrent transactions add to without conflicting (codes issued and used, keys
-- published).
CREATE TABLE counters (
    name  TEXT   PRIMARY KEY,
    value BIGINT NOT NULL
);

-- Audit log ids: growing, unique across replicas.
CREATE SEQUENCE record_ids;
