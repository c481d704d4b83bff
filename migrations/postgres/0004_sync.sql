-- Replication state: per-peer cursors and the quarantine of refused changes.

-- How far a change stream with one neighbour has been stored. `stream` names the direction:
-- `push` at a parent (the last sequence number of the child's log it has stored), `pull` at a
-- child (the last sequence number of the parent's log it has stored). A cursor advances in the
-- same transaction that stores the batch it covers.
CREATE TABLE sync_cursors (
    peer          TEXT NOT NULL,
    stream        TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (peer, stream)
);

-- Changes received and refused: kept, listed, never applied.
CREATE TABLE quarantine (
    id             BIGSERIAL PRIMARY KEY,
    peer           TEXT NOT NULL,
    hash           TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    collection     TEXT NOT NULL,
    jurisdiction   TEXT NOT NULL,
    author_node    TEXT NOT NULL,
    reason         TEXT NOT NULL,
    message        TEXT NOT NULL,
    bytes          BYTEA NOT NULL,
    received_at_ms BIGINT NOT NULL,
    UNIQUE (peer, hash)
);
