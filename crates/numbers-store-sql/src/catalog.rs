//! The statements of `CatalogStore` for both stores: which countries and number types are on
//! offer, and how an account's numbers matching a filter are counted.

use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::ids::AccountId;
use numbers_core::number::NumberType;
use numbers_core::store::NumberFilter;

use crate::statement::Statement;
use crate::{NUMBER_COLUMNS, Placeholder, SqlParams, account_numbers_where};

/// Every country with a number on offer now or later: a loose index scan over the offered
/// numbers (numbers_offered_country_type), each step jumping to the next country in the index.
pub fn offered_countries() -> Statement {
    Statement::new(
        "WITH RECURSIVE c(country) AS ( \
           SELECT MIN(country) FROM numbers WHERE available_from IS NOT NULL \
           UNION ALL \
           SELECT (SELECT MIN(country) FROM numbers WHERE available_from IS NOT NULL \
             AND country > c.country) FROM c WHERE c.country IS NOT NULL \
         ) SELECT country FROM c WHERE country IS NOT NULL",
    )
}

/// Whether a number of `country` and type `t` is on offer at `now` (one BOOLEAN).
pub fn type_on_offer(country: &str, t: NumberType, now: Timestamp) -> Statement {
    Statement::new(
        "SELECT EXISTS (SELECT 1 FROM numbers WHERE country = $1 AND number_type = $2 \
         AND available_from IS NOT NULL AND available_from <= $3)",
    )
    .bind(country)
    .bind(t.as_str())
    .bind(to_millis(now))
}

/// How to count an account's numbers matching a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountNumberCount {
    /// `SELECT COUNT(*)` answers it (one BIGINT).
    Count(Statement),
    /// The filter has JSON-held parts that SQL only pre-filters: the statement selects whole
    /// numbers (`NUMBER_COLUMNS`), and the count is of those `account_filter_matches` keeps.
    Check(Statement),
}

/// The count of `account`'s numbers matching `filter` (its page cursor ignored).
pub fn count_account_numbers(account: AccountId, filter: &NumberFilter) -> AccountNumberCount {
    let filter = NumberFilter {
        after: None,
        ..filter.clone()
    };
    let mut params = SqlParams::new(Placeholder::DollarNumbered);
    let where_sql = account_numbers_where(account, &filter, &mut params);
    let json_held =
        filter.label.is_some() || filter.display_name.is_some() || filter.metadata.is_some();
    let (sql, make): (String, fn(Statement) -> AccountNumberCount) = if json_held {
        (
            format!("SELECT {NUMBER_COLUMNS} FROM numbers WHERE {where_sql}"),
            AccountNumberCount::Check,
        )
    } else {
        (
            format!("SELECT COUNT(*) FROM numbers WHERE {where_sql}"),
            AccountNumberCount::Count,
        )
    };
    make(Statement {
        sql: sql.into(),
        params: params.values,
    })
}
