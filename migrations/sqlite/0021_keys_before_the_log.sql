-- Nothing to change on SQLite: its one writer takes record keys from the `record_key` counter
-- and keeps the name index (FTS5) itself. PostgreSQL's migration 0021 moves record keys to a
-- sequence and the public name grams of new records from a trigger to the writer.
-- Migrations are never edited once landed: add a new file.
SELECT 1;
