-- Scheduled runs and statutory reports (Art. 18-20).
-- Migrations are never edited once landed: add a new file.

-- Every run of a report, scheduled or by hand: what it covered, when, and how it ended.
-- Local to the node, never replicated (the reports themselves are records).
CREATE TABLE report_runs (
    id             INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    period         TEXT NOT NULL,
    started_by     TEXT NOT NULL,
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER,
    outcome        TEXT NOT NULL,
    report_id      TEXT,
    detail         TEXT
);
CREATE INDEX report_runs_by_period ON report_runs (kind, period, id);

-- The monthly roll-up selects one collection's records by the date that puts them in a month
-- (Attachment 1): one partial expression index per collection and date, so a month is a range
-- scan whatever the archive's size. The roll-up repeats these expressions exactly.
CREATE INDEX records_licences_by_issue_date
    ON records (json_extract(data, '$.issue_date')) WHERE collection = 'licences';
CREATE INDEX records_refusals_by_refusal_date
    ON records (json_extract(data, '$.refusal_date')) WHERE collection = 'refusals';
CREATE INDEX records_licence_events_by_event_date
    ON records (json_extract(data, '$.event_date')) WHERE collection = 'licence_events';
CREATE INDEX records_applications_by_application_date
    ON records (json_extract(data, '$.application_date')) WHERE collection = 'applications';
CREATE INDEX records_reports_by_period
    ON records (json_extract(data, '$.period')) WHERE collection = 'reports';
