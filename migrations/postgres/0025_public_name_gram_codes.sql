-- The public name table (migration 0003) keeps a gram as one number instead of two strings:
-- `code` = the collection's number << 42 | the first character << 21 | the second (0 for a
-- one-character name), a character being its Unicode scalar value (21 bits). A row was
-- (collection text, gram text, key): its primary key's entries compared two strings under the
-- database's collation on every step of every insert, and were about 40 bytes; now two
-- integers, 16 bytes. A received licence writes about a dozen of them: on a national node taking
-- in 31 provinces at once they were the largest cost of a licence (issue 14 item 3,
-- docs/BENCHMARKS.md). The writer (licnode-store, write/postgres.rs) computes the codes the
-- same way as `public_name_gram_code` below (a test holds them equal); the collections'
-- numbers are fixed for good — a new public collection takes a new number.
--
-- Migrations are never edited once landed: add a new file.
CREATE FUNCTION public_name_gram_code(collection TEXT, gram TEXT) RETURNS BIGINT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ((CASE collection
                 WHEN 'licences' THEN 1
                 WHEN 'licence_events' THEN 2
                 WHEN 'reviewers' THEN 3
                 WHEN 'review_departments' THEN 4
                 WHEN 'inspection_bodies' THEN 5
                 WHEN 'publications' THEN 6
             END)::bigint << 42)
           | (ascii(substr(gram, 1, 1))::bigint << 21)
           | ascii(substr(gram, 2, 1))::bigint
$$;

ALTER TABLE public_name_grams RENAME TO public_name_grams_by_text;
CREATE TABLE public_name_grams (
    code BIGINT NOT NULL,
    key  BIGINT NOT NULL,
    PRIMARY KEY (code, key)
);
INSERT INTO public_name_grams (code, key)
SELECT DISTINCT public_name_gram_code(collection, gram), key
  FROM public_name_grams_by_text
 WHERE public_name_collection(collection);
DROP TABLE public_name_grams_by_text;

-- The triggers that keep the table in step when a record's name or collection changes, or the
-- record is deleted (a new record's codes are inserted by the writer: migration 0021).
CREATE OR REPLACE FUNCTION public_name_grams_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public_name_grams p
     WHERE p.key = OLD.key
       AND p.code = ANY (ARRAY(SELECT public_name_gram_code(OLD.collection, g.gram)
                                 FROM unnest(OLD.name_grams) AS g(gram)));
    IF public_name_collection(NEW.collection) THEN
        INSERT INTO public_name_grams (code, key)
        SELECT DISTINCT public_name_gram_code(NEW.collection, g.gram), NEW.key
          FROM unnest(NEW.name_grams) AS g(gram)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION public_name_grams_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public_name_grams p
     USING (SELECT DISTINCT public_name_gram_code(o.collection, g.gram) AS code, o.key
              FROM deleted_rows o, unnest(o.name_grams) AS g(gram)
             WHERE public_name_collection(o.collection)) AS d
     WHERE p.code = d.code AND p.key = d.key;
    RETURN NULL;
END
$$;
