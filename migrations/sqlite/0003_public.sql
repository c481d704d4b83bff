-- Indexes for the public query service (Art. 27, 28): licences by product category and by the
-- province of the enterprise's credit code, newest first. The expressions are exactly those
-- that licnode-store's public queries use, so the planner matches them.
-- Migrations are never edited once landed: add a new file.

CREATE INDEX records_public_by_category
    ON records (collection, json_extract(data, '$.product_category'), key);
CREATE INDEX records_public_by_province
    ON records (collection, substr(credit_code, 3, 2), key);
