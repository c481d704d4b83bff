-- Nothing to do on SQLite: its name index (FTS5, migration 0001) covers every collection
-- once. The PostgreSQL migration of this number narrows its GIN index over `name_grams` to the
-- collections the public name table does not hold.
--
-- Migrations are never edited once landed: add a new file.
SELECT 1;
