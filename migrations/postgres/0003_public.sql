-- Indexes for the public query service (Art. 27, 28): licences by product category and by the
-- province of the enterprise's credit code, newest first. The expressions are exactly those
-- that licnode-store's public queries use, so the planner matches them.
-- Migrations are never edited once landed: add a new file.

CREATE INDEX records_public_by_category
    ON records (collection, (data->>'product_category'), key);
CREATE INDEX records_public_by_province
    ON records (collection, substr(credit_code, 3, 2), key);

-- Name search of the public collections, newest first. The GIN index over `name_grams` answers
-- "which records contain these grams" as an unordered bitmap: to return the newest 20 the planner
-- either fetches every match (a common fragment has tens of thousands) or walks the records
-- backwards filtering (a rare one needs tens of thousands of rows to find 20); measured at a
-- million licences, both cost 10–70 ms. This table holds one row per (collection, gram,
-- record), so the newest matches of a gram are one backward range scan of its primary key,
-- the way SQLite's FTS5 doclists answer the same query. Only the public collections (those the
-- model marks public) are kept here; triggers maintain it from `records`.
CREATE TABLE public_name_grams (
    collection TEXT   NOT NULL,
    gram       TEXT   NOT NULL,
    key        BIGINT NOT NULL,
    PRIMARY KEY (collection, gram, key)
);

CREATE FUNCTION public_name_grams_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public_name_grams (collection, gram, key)
    SELECT DISTINCT n.collection, g.gram, n.key
      FROM inserted_rows n, unnest(n.name_grams) AS g(gram)
     WHERE n.collection IN ('licences', 'licence_events', 'reviewers', 'review_departments',
                            'inspection_bodies', 'publications')
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION public_name_grams_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public_name_grams p
     USING deleted_rows o
     WHERE p.collection = o.collection AND p.gram = ANY (o.name_grams) AND p.key = o.key;
    RETURN NULL;
END
$$;

CREATE FUNCTION public_name_grams_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public_name_grams p
     WHERE p.collection = OLD.collection AND p.gram = ANY (OLD.name_grams) AND p.key = OLD.key;
    IF NEW.collection IN ('licences', 'licence_events', 'reviewers', 'review_departments',
                          'inspection_bodies', 'publications') THEN
        INSERT INTO public_name_grams (collection, gram, key)
        SELECT DISTINCT NEW.collection, g.gram, NEW.key FROM unnest(NEW.name_grams) AS g(gram)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER records_public_name_grams_inserted AFTER INSERT ON records
    REFERENCING NEW TABLE AS inserted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public_name_grams_inserted();
CREATE TRIGGER records_public_name_grams_deleted AFTER DELETE ON records
    REFERENCING OLD TABLE AS deleted_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public_name_grams_deleted();
CREATE TRIGGER records_public_name_grams_updated AFTER UPDATE OF name_grams, collection ON records
    FOR EACH ROW
    WHEN (OLD.name_grams IS DISTINCT FROM NEW.name_grams
          OR OLD.collection IS DISTINCT FROM NEW.collection)
    EXECUTE FUNCTION public_name_grams_updated();

INSERT INTO public_name_grams (collection, gram, key)
SELECT DISTINCT r.collection, g.gram, r.key
  FROM records r, unnest(r.name_grams) AS g(gram)
 WHERE r.collection IN ('licences', 'licence_events', 'reviewers', 'review_departments',
                        'inspection_bodies', 'publications')
ON CONFLICT DO NOTHING;
