-- When this node first stored a change of each record: the arrival of a record received from a
-- neighbour, or its creation here (issue 13 item 5). Art. 23's 5-day clock is met by an
-- inspection result's arrival at the unit that organised the review, as the receiving node
-- records it, not by a date someone types. The row is written by the database in the
-- transaction that logs the record's first change, whichever path stores it (a local write, a
-- received batch, a bundle), and the earliest arrival is kept. A destroyed record's row goes
-- with its tombstone (Art. 38). Records stored before this migration have no arrival.
-- Migrations are never edited once landed: add a new file.
CREATE TABLE record_arrivals (
    record_id     TEXT PRIMARY KEY,
    arrived_at_ms BIGINT NOT NULL
);

CREATE FUNCTION changes_record_arrival() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO record_arrivals (record_id, arrived_at_ms)
    SELECT DISTINCT record_id, (extract(epoch FROM clock_timestamp()) * 1000)::bigint
    FROM new_changes
    ON CONFLICT (record_id) DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER changes_record_arrival AFTER INSERT ON changes
    REFERENCING NEW TABLE AS new_changes
    FOR EACH STATEMENT EXECUTE FUNCTION changes_record_arrival();

CREATE FUNCTION tombstones_record_arrival() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM record_arrivals WHERE record_id IN (SELECT record_id FROM new_tombstones);
    RETURN NULL;
END;
$$;

CREATE TRIGGER tombstones_record_arrival AFTER INSERT ON tombstones
    REFERENCING NEW TABLE AS new_tombstones
    FOR EACH STATEMENT EXECUTE FUNCTION tombstones_record_arrival();

-- Art. 21: a review plan's filing date (备案日期), which the review's start must follow. Like every
-- date field it has a partial expression index (see 0013).
CREATE INDEX records_review_plans_by_filing_date_key
    ON records ((data->>'filing_date'), key) WHERE collection = 'review_plans';

-- Art. 26: an inspection body's change filing and the provincial opinion on it.
CREATE INDEX records_inspection_body_filings_by_filing_date_key
    ON records ((data->>'filing_date'), key) WHERE collection = 'inspection_body_filings';
CREATE INDEX records_inspection_body_filings_by_opinion_date_key
    ON records ((data->>'opinion_date'), key) WHERE collection = 'inspection_body_filings';
