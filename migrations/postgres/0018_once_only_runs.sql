-- Work a node does once however many processes serve it (issue 15 item 2): the retention
-- sweep, and any task that must not run twice at once. Each run is one row: which task, which
-- process ran it (`holder`, the name it holds the node's once-only lock under), when it started
-- and when it finished (NULL while it runs, or when the process died during it). A process that
-- takes the lock over reads the last run of a task to keep its interval. Local, never replicated.
-- Migrations are never edited once landed: add a new file.
CREATE TABLE once_only_runs (
    id             BIGSERIAL PRIMARY KEY,
    task           TEXT NOT NULL,
    holder         TEXT NOT NULL,
    started_at_ms  BIGINT NOT NULL,
    finished_at_ms BIGINT
);
CREATE INDEX once_only_runs_by_task ON once_only_runs (task, id);
