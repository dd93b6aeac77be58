-- Search at scale (issue 7, docs/PERFORMANCE.md): one partial index per query form, shaped
-- (equality columns, e164, available_from) so that a search walks the matching offered numbers
-- already in E.164 order (ORDER BY e164 LIMIT n needs no sort) and tests `available_from <= now`
-- on the index entry (PostgreSQL: as an index-only condition), reading a table row only for a number it returns. Partial on
-- `available_from IS NOT NULL`: assigned numbers are never searched, so they leave the indexes.
DROP INDEX IF EXISTS numbers_offered;
CREATE INDEX numbers_offered_e164 ON numbers (e164, available_from) WHERE available_from IS NOT NULL;
CREATE INDEX numbers_offered_rate_center ON numbers (rate_center, state_code, e164, available_from) WHERE available_from IS NOT NULL;
CREATE INDEX numbers_offered_city ON numbers (city, state_code, e164, available_from) WHERE available_from IS NOT NULL;
CREATE INDEX numbers_offered_zip ON numbers (zip, e164, available_from) WHERE available_from IS NOT NULL;
CREATE INDEX numbers_offered_lata ON numbers (lata, e164, available_from) WHERE available_from IS NOT NULL;
-- Starts-with (national digits) spans every calling code, so its matches are sorted by E.164
-- after the range scan: with e164 and available_from in the entry, that sort and the
-- availability test read no table row.
DROP INDEX IF EXISTS numbers_national;
CREATE INDEX numbers_offered_national ON numbers (national, e164, available_from) WHERE available_from IS NOT NULL;
CREATE INDEX numbers_offered_classification ON numbers (classification, e164, available_from) WHERE available_from IS NOT NULL;
-- The digit index (numbers_store_sql::digit_index) asks for the seq of the latest import on
-- every contains / ends-with search: one index probe instead of a scan of the events.
CREATE INDEX events_kind_seq ON events (kind, seq);
