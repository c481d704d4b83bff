-- The hash-chained audit log (Art. 37, 38; DESIGN principle 9).
-- Migrations are never edited once landed: add a new file.

-- Every write, login, export, refused sync change or certificate, destruction, backup and
-- restore of this node, numbered gap-free. `hash` = sha256(prev_hash || canonical entry) (see
-- `licnode-store/src/audit.rs`), so an altered, deleted or re-ordered entry breaks the chain.
-- `detail` is JSON text, kept byte for byte as it was hashed.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at_ms       INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    node        TEXT NOT NULL,
    user_name   TEXT NOT NULL,
    record_id   TEXT,
    change_hash TEXT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

-- The head of the chain: the last entry's number and hash, updated in the transaction that
-- appends. Appenders serialise on this row; verification compares the log's end with it, so a
-- deleted or replaced last entry is found too.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
