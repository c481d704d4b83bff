-- The audit page's filtered search (issue 17, item 5).
-- Migrations are never edited once landed: add a new file.

-- The audit search filters on the kind, the user or the record and reads the newest entries
-- first (`WHERE kind = ? AND seq < ? ORDER BY seq DESC LIMIT ?`): one index per filter, each
-- ending in the entry's number, so a page is a backward range scan however far back the
-- matches lie. A search by time alone stays on the primary key (times follow numbers).
CREATE INDEX audit_log_by_kind_seq ON audit_log (kind, seq);
CREATE INDEX audit_log_by_user_seq ON audit_log (user_name, seq);
CREATE INDEX audit_log_by_record_seq ON audit_log (record_id, seq);
