-- Retention clocks, destruction approvals and tombstones (Art. 37, 38).
SELECT 1;
