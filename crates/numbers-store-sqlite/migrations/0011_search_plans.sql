-- Search plans decided in code (numbers_store_sql::search_plan): a state alone, or a state with
-- a country, walks the offered numbers of that state in E.164 order. A national starts-with
-- without a country is now one E.164 range under each calling code on offer, so the national
-- index (whose matches across calling codes had to be sorted) is no longer read.
CREATE INDEX IF NOT EXISTS numbers_offered_state ON numbers (state_code, e164, available_from) WHERE available_from IS NOT NULL;
DROP INDEX IF EXISTS numbers_offered_national;
