-- The state of this node's link to its parent, as the sync loop last saw it: last attempt,
-- last success, last error, failures in a row, the cursor the parent acknowledged. Read by
-- `licnode status` when the node is not answering.
CREATE TABLE link_state (
    peer          TEXT PRIMARY KEY,
    state         TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
