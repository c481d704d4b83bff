-- Staff lists sorted by a date field, either way, a page at a time.
-- Migrations are never edited once landed: add a new file.

-- A list sorted by a date reads one collection's records in (date, key) order from a cursor:
-- one partial expression index per collection and date field, so a page is a range scan
-- whatever the archive's size. The dates of 0006 already have theirs. The list query repeats
-- these expressions exactly.
CREATE INDEX records_applications_by_acceptance_date_key
    ON records (json_extract(data, '$.acceptance_date'), key) WHERE collection = 'applications';
CREATE INDEX records_review_plans_by_planned_review_date_key
    ON records (json_extract(data, '$.planned_review_date'), key) WHERE collection = 'review_plans';
CREATE INDEX records_review_plans_by_acceptance_date_key
    ON records (json_extract(data, '$.acceptance_date'), key) WHERE collection = 'review_plans';
CREATE INDEX records_review_plans_by_plan_date_key
    ON records (json_extract(data, '$.plan_date'), key) WHERE collection = 'review_plans';
CREATE INDEX records_site_verifications_by_verification_date_key
    ON records (json_extract(data, '$.verification_date'), key) WHERE collection = 'site_verifications';
CREATE INDEX records_inspections_by_sampling_date_key
    ON records (json_extract(data, '$.sampling_date'), key) WHERE collection = 'inspections';
CREATE INDEX records_inspections_by_completion_date_key
    ON records (json_extract(data, '$.completion_date'), key) WHERE collection = 'inspections';
CREATE INDEX records_inspections_by_reported_date_key
    ON records (json_extract(data, '$.reported_date'), key) WHERE collection = 'inspections';
CREATE INDEX records_licences_by_approval_date_key
    ON records (json_extract(data, '$.approval_date'), key) WHERE collection = 'licences';
CREATE INDEX records_licences_by_valid_until_key
    ON records (json_extract(data, '$.valid_until'), key) WHERE collection = 'licences';
CREATE INDEX records_licence_events_by_licence_date_key
    ON records (json_extract(data, '$.licence_date'), key) WHERE collection = 'licence_events';
CREATE INDEX records_licence_events_by_valid_until_key
    ON records (json_extract(data, '$.valid_until'), key) WHERE collection = 'licence_events';
CREATE INDEX records_quality_archives_by_valid_until_key
    ON records (json_extract(data, '$.valid_until'), key) WHERE collection = 'quality_archives';
CREATE INDEX records_letters_visits_by_received_date_key
    ON records (json_extract(data, '$.received_date'), key) WHERE collection = 'letters_visits';
CREATE INDEX records_letters_visits_by_reply_date_key
    ON records (json_extract(data, '$.reply_date'), key) WHERE collection = 'letters_visits';
CREATE INDEX records_reviewers_by_birth_date_key
    ON records (json_extract(data, '$.birth_date'), key) WHERE collection = 'reviewers';
CREATE INDEX records_reviewers_by_registration_date_key
    ON records (json_extract(data, '$.registration_date'), key) WHERE collection = 'reviewers';
CREATE INDEX records_reviewers_by_valid_until_key
    ON records (json_extract(data, '$.valid_until'), key) WHERE collection = 'reviewers';
CREATE INDEX records_review_departments_by_filing_date_key
    ON records (json_extract(data, '$.filing_date'), key) WHERE collection = 'review_departments';
CREATE INDEX records_inspection_bodies_by_filing_date_key
    ON records (json_extract(data, '$.filing_date'), key) WHERE collection = 'inspection_bodies';
CREATE INDEX records_notices_by_issue_date_key
    ON records (json_extract(data, '$.issue_date'), key) WHERE collection = 'notices';
CREATE INDEX records_notices_by_response_deadline_key
    ON records (json_extract(data, '$.response_deadline'), key) WHERE collection = 'notices';
CREATE INDEX records_publications_by_publish_date_key
    ON records (json_extract(data, '$.publish_date'), key) WHERE collection = 'publications';
CREATE INDEX records_publications_by_effective_date_key
    ON records (json_extract(data, '$.effective_date'), key) WHERE collection = 'publications';
CREATE INDEX records_supervision_reports_by_report_date_key
    ON records (json_extract(data, '$.report_date'), key) WHERE collection = 'supervision_reports';
CREATE INDEX records_reports_by_fill_date_key
    ON records (json_extract(data, '$.fill_date'), key) WHERE collection = 'reports';
CREATE INDEX records_destructions_by_requested_date_key
    ON records (json_extract(data, '$.requested_date'), key) WHERE collection = 'destructions';
