-- Scheduled runs and statutory reports (Art. 18-20).
SELECT 1;
