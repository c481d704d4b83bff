-- Replication trust (issue 11).

-- The hash of the change a cursor stands on: at a parent, the child's change at the sequence
-- number of its push cursor. The child checks at every session that its own log holds that
-- change at that place; when it does not (restored from a backup, reinstalled, a forged push),
-- the logs diverged and the child pushes its log again and takes back its own changes.
ALTER TABLE sync_cursors ADD COLUMN hash TEXT;

-- Giving a child back what it sent (its changes by origin, in log order) after a restore.
CREATE INDEX changes_origin_seq ON changes (origin, seq);
