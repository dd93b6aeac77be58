-- Country (+ type) searches walk the offered numbers of one country and type already in E.164
-- order (docs/PERFORMANCE.md). The index this replaces, (country, number_type, available_from),
-- could only find them unordered: SQLite chose it for `country = 'US'` and sorted the whole
-- country for every page (0.8 s at 1M numbers). availableRegions' loose scan uses this one too.
DROP INDEX IF EXISTS numbers_country_type_available;
CREATE INDEX numbers_offered_country_type ON numbers (country, number_type, e164, available_from) WHERE available_from IS NOT NULL;
-- A finer histogram of E.164 for the planner: the default 100 buckets over 10M numbers made it
-- estimate 6,108 rows for a toll-free NPA range holding 67,724, and choose a bitmap scan plus a
-- sort of them all (279 ms) over the ordered walk of numbers_offered_e164 that stops after a
-- page (docs/PERFORMANCE.md). ANALYZE then samples 300,000 rows instead of 30,000.
ALTER TABLE numbers ALTER COLUMN e164 SET STATISTICS 1000;
