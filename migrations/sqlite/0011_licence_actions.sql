-- Prepared licence actions (Art. 13, 19, 28): a clerk prepares a change, withdrawal, revocation
-- or cancellation of a licence; an approver approves it (the licence event and the licence's
-- status are then written together) or refuses it with a reason.
-- A node-local work item: never replicated (the event and the licence are records).
-- Migrations are never edited once landed: add a new file.
CREATE TABLE licence_actions (
    id              INTEGER PRIMARY KEY,
    licence_id      TEXT NOT NULL,
    event_kind      TEXT NOT NULL,
    enterprise_name TEXT,
    licence_number  TEXT,
    -- The prepared licence event's validated fields, as JSON text.
    fields          TEXT NOT NULL,
    -- pending, approved or refused.
    state           TEXT NOT NULL,
    prepared_by     TEXT NOT NULL,
    prepared_at_ms  INTEGER NOT NULL,
    decided_by      TEXT,
    decided_at_ms   INTEGER,
    decision_reason TEXT,
    -- The licence_events record written on approval.
    event_id        TEXT
);
CREATE INDEX licence_actions_by_state ON licence_actions (state, id);
CREATE INDEX licence_actions_by_licence ON licence_actions (licence_id, id);

-- The retention sweep (Art. 37) reads only records last changed five years ago or earlier: a
-- record's retention period never starts before its last change.
CREATE INDEX records_by_updated_at ON records (updated_at_ms);
