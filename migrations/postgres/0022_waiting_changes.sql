-- The changes quarantined for want of a dependency, oldest first: looked for after every
-- received batch that applied something (`Store::retry_waiting`), found without reading the
-- whole quarantine (a refused child's junk can fill it).
-- Migrations are never edited once landed: add a new file.
CREATE INDEX quarantine_by_reason ON quarantine (reason, id);
