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

CREATE TRIGGER changes_record_arrival AFTER INSERT ON changes
BEGIN
    INSERT OR IGNORE INTO record_arrivals (record_id, arrived_at_ms)
    VALUES (NEW.record_id, CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER));
END;

CREATE TRIGGER tombstones_record_arrival AFTER INSERT ON tombstones
BEGIN
    DELETE FROM record_arrivals WHERE record_id = NEW.record_id;
END;

-- Art. 21: a review plan's filing date (备案日期), which the review's start must follow. Like every
-- date field it has a partial expression index (see 0013).
CREATE INDEX records_review_plans_by_filing_date_key
    ON records (json_extract(data, '$.filing_date'), key) WHERE collection = 'review_plans';

-- Art. 26: an inspection body's change filing and the provincial opinion on it.
CREATE INDEX records_inspection_body_filings_by_filing_date_key
    ON records (json_extract(data, '$.filing_date'), key) WHERE collection = 'inspection_body_filings';
CREATE INDEX records_inspection_body_filings_by_opinion_date_key
    ON records (json_extract(data, '$.opinion_date'), key) WHERE collection = 'inspection_body_filings';
