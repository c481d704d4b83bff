-- Anchors of audit chains outside the database (issue 11 item 5; DESIGN principle 10).
-- Migrations are never edited once landed: add a new file.

-- Signed heads of audit chains: this node's own (as it handed them to its parent) and those its
-- children handed up or relayed from further below. `payload` is the JSON text exactly as the
-- node signed it; the other columns repeat its fields for queries. `extends` says whether the
-- anchor extended the last one held for that node when it arrived (the node's chain at the
-- older anchor's number still had the older anchor's hash); an anchor that does not is kept as
-- evidence with `extends = false`. `anchor_key` orders arrival and is the relay cursor.
CREATE TABLE audit_anchors (
    anchor_key     BIGSERIAL PRIMARY KEY,
    node           TEXT NOT NULL,
    audit_seq      BIGINT NOT NULL,
    audit_hash     TEXT NOT NULL,
    previous_seq   BIGINT NOT NULL,
    previous_hash  TEXT NOT NULL,
    signed_at_ms   BIGINT NOT NULL,
    payload        TEXT NOT NULL,
    scheme         BIGINT NOT NULL,
    signature      TEXT NOT NULL UNIQUE,
    chain          TEXT NOT NULL,
    received_from  TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    extends        BOOLEAN NOT NULL
);
CREATE INDEX audit_anchors_by_node ON audit_anchors (node, anchor_key);

-- The change-log cross-check (every stored change has its `write` entry) looks entries up by
-- change hash.
CREATE INDEX audit_log_by_change ON audit_log (change_hash);

-- Changes stored before the audit log existed (migration 0007) have no entry: the cross-check
-- starts at the first change that has one, as of this migration.
CREATE TABLE audit_coverage (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    first_audited_change BIGINT NOT NULL
);
INSERT INTO audit_coverage (id, first_audited_change)
VALUES (1, COALESCE(
    (SELECT MIN(changes.seq) FROM changes
       JOIN audit_log ON audit_log.change_hash = changes.hash AND audit_log.kind = 'write'),
    (SELECT value FROM node_counters WHERE name = 'change_seq') + 1));
