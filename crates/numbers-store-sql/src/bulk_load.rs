//! The search indexes a bulk load may set aside (`BulkLoadStore`), as SQL both databases accept.
//! They are the ones of migration 0007; never a constraint (the
//! unique E.164 index and the primary key stay, so de-duplication and lookups are unchanged).

/// (index name, CREATE statement). `CREATE INDEX IF NOT EXISTS` so re-running only builds what is
/// missing: the stores run these at open (healing an interrupted load) and after a bulk load.
pub const SEARCH_INDEXES: &[(&str, &str)] = &[
    (
        "numbers_offered_e164",
        "CREATE INDEX IF NOT EXISTS numbers_offered_e164 ON numbers (e164, available_from) WHERE available_from IS NOT NULL",
    ),
    (
        "numbers_offered_national",
        "CREATE INDEX IF NOT EXISTS numbers_offered_national ON numbers (national, e164, available_from) WHERE available_from IS NOT NULL",
    ),
    (
        "numbers_offered_rate_center",
        "CREATE INDEX IF NOT EXISTS numbers_offered_rate_center ON numbers (rate_center, state_code, e164, available_from) WHERE available_from IS NOT NULL",
    ),
    (
        "numbers_offered_city",
        "CREATE INDEX IF NOT EXISTS numbers_offered_city ON numbers (city, state_code, e164, available_from) WHERE available_from IS NOT NULL",
    ),
    (
        "numbers_offered_zip",
        "CREATE INDEX IF NOT EXISTS numbers_offered_zip ON numbers (zip, e164, available_from) WHERE available_from IS NOT NULL",
    ),
    (
        "numbers_offered_lata",
        "CREATE INDEX IF NOT EXISTS numbers_offered_lata ON numbers (lata, e164, available_from) WHERE available_from IS NOT NULL",
    ),
    // Country + type searches, and availableRegions' loose scan (migration 0008).
    (
        "numbers_offered_country_type",
        "CREATE INDEX IF NOT EXISTS numbers_offered_country_type ON numbers (country, number_type, e164, available_from) WHERE available_from IS NOT NULL",
    ),
    (
        "numbers_offered_classification",
        "CREATE INDEX IF NOT EXISTS numbers_offered_classification ON numbers (classification, e164, available_from) WHERE available_from IS NOT NULL",
    ),
];

/// One row, true when no number exists at all.
pub fn inventory_is_empty_sql() -> &'static str {
    "SELECT NOT EXISTS (SELECT 1 FROM numbers)"
}
