-- The dates that start the Art. 27 and Art. 30 clocks: an application's approval (批准日期) and
-- a reviewer's qualification approval (资质批准日期). Like every date field, each has a partial
-- expression index, so a staff list sorted by it pages from an index (see 0013).
-- Migrations are never edited once landed: add a new file.
CREATE INDEX records_applications_by_approval_date_key
    ON records (json_extract(data, '$.approval_date'), key) WHERE collection = 'applications';
CREATE INDEX records_reviewers_by_approval_date_key
    ON records (json_extract(data, '$.approval_date'), key) WHERE collection = 'reviewers';
