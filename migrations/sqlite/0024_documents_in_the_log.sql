-- A record's document is no longer a second copy of its changes (issue 14): it is the bytes
-- stored here (a saved document, or change chunks, possibly none) followed by the record's
-- changes in the change log numbered after `log_after`, in log order. A new record stores no
-- bytes and `log_after` 0 — its document is its change, kept once, in the log; an edit adds its
-- change to the log and leaves these bytes alone; every `MAX_APPENDED_CHUNKS` changes the
-- document is saved here whole and `log_after` moves to its last change (licnode-store,
-- write.rs). Every change of a record in the log is in its document, so the documents stored
-- before this migration hold every change numbered up to the counter's value now.
--
-- Migrations are never edited once landed: add a new file.
ALTER TABLE documents ADD COLUMN log_after INTEGER NOT NULL DEFAULT 0;
UPDATE documents SET log_after = (SELECT value FROM node_counters WHERE name = 'change_seq');
