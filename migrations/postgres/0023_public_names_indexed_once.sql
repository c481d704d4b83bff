-- The public collections' names are indexed in `public_name_grams` (migration 0003: the public
-- service's table, a gram's records in key order), and the staff search reads them there too
-- (licnode-store, read.rs). The GIN index over `name_grams` keeps only the other collections:
-- a licence's dozen grams were written into both, and the GIN index's inserts were a large part
-- of a received licence's cost on a national node (issue 14 item 3). The predicate is
-- `public_name_collection` (migration 0021), the one list of those collections; the staff
-- search spells it the same way so that the planner uses this index.
--
-- Migrations are never edited once landed: add a new file.
DROP INDEX records_by_name_grams;
CREATE INDEX records_by_name_grams ON records USING GIN (name_grams)
    WITH (fastupdate = on, gin_pending_list_limit = 256)
    WHERE NOT public_name_collection(collection);
