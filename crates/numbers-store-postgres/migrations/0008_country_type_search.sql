-- Country (+ type) searches walk the offered numbers of one country and type already in E.164
-- order (docs/PERFORMANCE.md). The index this replaces, (country, number_type, available_from),
-- could only find them unordered: SQLite chose it for `country = 'US'` and sorted the whole
-- country for every page (0.8 s at 1M numbers). availableRegions' loose scan uses this one too.
DROP INDEX IF EXISTS numbers_country_type_available;
CREATE INDEX numbers_offered_country_type ON numbers (country, number_type, e164, available_from) WHERE available_from IS NOT NULL;
