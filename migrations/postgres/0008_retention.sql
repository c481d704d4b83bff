-- Retention clocks, destruction approvals and tombstones (Art. 37, 38).
-- Migrations are never edited once landed: add a new file.

-- Every record this node destroyed on an approval. A received change to one of these ids is
-- dropped (never applied, never quarantined with its bytes), so a destroyed record cannot come
-- back through replication, an offline bundle or a peer that was offline during the
-- destruction. Local to the node, never replicated; kept for good.
CREATE TABLE tombstones (
    record_id       TEXT PRIMARY KEY,
    collection      TEXT NOT NULL,
    jurisdiction    TEXT NOT NULL,
    destroyed_at_ms BIGINT NOT NULL,
    certificate_id  TEXT NOT NULL
);

-- Destruction certificates (销毁证明): what was destroyed, when, by whom, on whose approval.
-- `approval` is the superior's signed approval exactly as verified; `records` a JSON array of
-- the destroyed records (id, collection, jurisdiction, due date, change count). Kept for good.
CREATE TABLE destruction_certificates (
    id              TEXT PRIMARY KEY,
    request_id      TEXT NOT NULL UNIQUE,
    node            TEXT NOT NULL,
    destroyed_by    TEXT NOT NULL,
    destroyed_at_ms BIGINT NOT NULL,
    approving_node  TEXT NOT NULL,
    approver        TEXT NOT NULL,
    approved_at_ms  BIGINT NOT NULL,
    approval        TEXT NOT NULL,
    records         TEXT NOT NULL
);
