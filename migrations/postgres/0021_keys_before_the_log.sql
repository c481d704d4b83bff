-- A received batch writes what its new records need only their key for — their documents and
-- the public collections' name grams — before it takes the change log's lock, so that batches
-- of several children write those rows at once and wait for each other only to number and
-- insert the rest (issue 14 item 3). Two things make that possible:
--
-- 1. Record keys come from a sequence, which holds no lock until commit (the `record_key`
--    counter row did). A key taken by a transaction that rolls back is a gap; nothing reads
--    keys as gap-free.
-- 2. The public name grams of a new record are inserted by the writer (licnode-store,
--    write/postgres.rs), no longer by a trigger on the records table, which fired only when the
--    records rows were inserted under the lock. Updates and deletions keep their triggers.
--
-- Migrations are never edited once landed: add a new file.
CREATE SEQUENCE record_keys;
SELECT setval('record_keys',
              GREATEST((SELECT value FROM node_counters WHERE name = 'record_key'),
                       (SELECT COALESCE(max(key), 0) FROM records)) + 1,
              false);
DELETE FROM node_counters WHERE name = 'record_key';

-- The collections whose names the public service searches: the one place that lists them,
-- read by the writer and by the update trigger below (migration 0003 wrote the list into its
-- trigger functions).
CREATE FUNCTION public_name_collection(collection TEXT) RETURNS BOOLEAN
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT collection IN ('licences', 'licence_events', 'reviewers', 'review_departments',
                          'inspection_bodies', 'publications')
$$;

-- Migration 0003's update trigger, with the list read from `public_name_collection`.
CREATE OR REPLACE FUNCTION public_name_grams_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public_name_grams p
     WHERE p.collection = OLD.collection AND p.gram = ANY (OLD.name_grams) AND p.key = OLD.key;
    IF public_name_collection(NEW.collection) THEN
        INSERT INTO public_name_grams (collection, gram, key)
        SELECT DISTINCT NEW.collection, g.gram, NEW.key FROM unnest(NEW.name_grams) AS g(gram)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER records_public_name_grams_inserted ON records;
DROP FUNCTION public_name_grams_inserted();
