-- Nothing to do on SQLite: its name index is FTS5 (migration 0001). The PostgreSQL migration of
-- this number keeps the public name table's grams as numbers instead of strings.
--
-- Migrations are never edited once landed: add a new file.
SELECT 1;
