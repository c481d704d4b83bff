-- The hash-chained audit log (Art. 37, 38; DESIGN principle 9).
SELECT 1;
