//! The search indexes a bulk load may set aside (`BulkLoadStore`), as SQL both databases accept.
//! They are the driving indexes of `search_plan` (migrations 0007, 0008 and 0011 create them);
//! never a constraint (the unique E.164 index and the primary key stay, so de-duplication and
//! lookups are unchanged).

use crate::search_plan::{DRIVING_INDEXES, SearchIndex};

/// `CREATE INDEX IF NOT EXISTS` of one search index, so re-running only builds what is missing:
/// the stores run these at open (healing an interrupted load) and after a bulk load. The shape
/// is the one `search_plan` relies on: equality columns, then `e164, available_from`, over the
/// numbers on offer only.
fn create_statement(index: &SearchIndex) -> String {
    let mut columns: Vec<&str> = index.equality.to_vec();
    columns.extend(["e164", "available_from"]);
    format!(
        "CREATE INDEX IF NOT EXISTS {} ON numbers ({}) WHERE available_from IS NOT NULL",
        index.name,
        columns.join(", ")
    )
}

/// (index name, CREATE statement) of every search index.
pub fn search_indexes() -> Vec<(&'static str, String)> {
    DRIVING_INDEXES
        .iter()
        .map(|index| (index.name, create_statement(index)))
        .collect()
}

/// One row, true when no number exists at all.
pub fn inventory_is_empty_sql() -> &'static str {
    "SELECT NOT EXISTS (SELECT 1 FROM numbers)"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statements_are_the_shapes_the_migrations_create() {
        let all = search_indexes();
        let state = all
            .iter()
            .find(|(name, _)| *name == "numbers_offered_state")
            .map(|(_, sql)| sql.as_str());
        assert_eq!(
            state,
            Some(
                "CREATE INDEX IF NOT EXISTS numbers_offered_state ON numbers (state_code, e164, available_from) WHERE available_from IS NOT NULL"
            )
        );
        assert_eq!(all.len(), 8);
    }
}
