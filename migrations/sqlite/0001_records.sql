-- Records, their documents, the name index and the change log (SQLite).
-- Migrations are never edited once landed: add a new file.

-- Monotonic, gap-free counters of this node (the change log sequence, record keys).
CREATE TABLE node_counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO node_counters (name, value) VALUES ('change_seq', 0), ('record_key', 0);

-- The queryable projection of each record, rebuilt from its document on every write.
CREATE TABLE records (
    key                 INTEGER PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    collection          TEXT NOT NULL,
    jurisdiction        TEXT NOT NULL,
    data                TEXT NOT NULL,
    enterprise_name     TEXT,
    licence_number      TEXT,
    licence_number_bare TEXT,
    credit_code         TEXT,
    status              TEXT,
    conflict_count      INTEGER NOT NULL DEFAULT 0,
    created_at_ms       INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL,
    last_seq            INTEGER NOT NULL
);
CREATE INDEX records_by_collection ON records (collection, key);
CREATE INDEX records_by_jurisdiction ON records (collection, jurisdiction, key);
CREATE INDEX records_by_licence_number ON records (licence_number_bare);
CREATE INDEX records_by_credit_code ON records (credit_code);

-- The automerge document of each record: a saved document, possibly followed by changes.
CREATE TABLE documents (
    key         INTEGER PRIMARY KEY,
    bytes       BLOB NOT NULL,
    chunk_count INTEGER NOT NULL
);

-- Overlapping two-character grams of enterprise names, so that a two-character fragment is
-- answered from the index (FTS5's trigram tokenizer cannot). rowid = records.key.
CREATE VIRTUAL TABLE name_index USING fts5 (
    grams,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- The local change log: every stored change, local or received, numbered gap-free.
CREATE TABLE changes (
    seq          INTEGER PRIMARY KEY,
    hash         TEXT NOT NULL UNIQUE,
    record_id    TEXT NOT NULL,
    collection   TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    author_node  TEXT NOT NULL,
    author_user  TEXT NOT NULL,
    origin       TEXT NOT NULL,
    at_ms        INTEGER NOT NULL,
    bytes        BLOB NOT NULL
);
CREATE INDEX changes_by_record ON changes (record_id, seq);
