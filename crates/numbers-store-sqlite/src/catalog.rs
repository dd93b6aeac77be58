//! `CatalogStore`: the countries and types on offer, and counts of an account's numbers.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::Result;
use numbers_core::ids::AccountId;
use numbers_core::number::NumberType;
use numbers_core::store::{CatalogStore, NumberFilter};
use numbers_store_sql::{Placeholder, SqlParams, account_filter_matches, account_numbers_where};
use rusqlite::{params, params_from_iter};

use crate::SqliteStore;
use crate::db::{DbResult, values};
use crate::rows::select_numbers;

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn available_regions(&self, now: Timestamp) -> Result<Vec<(String, NumberType)>> {
        self.read(move |tx| {
            // A loose index scan over the offered numbers (numbers_offered_country_type): each step
        // jumps to the next country in the index.
            let countries = tx
                .prepare_cached(
                    "WITH RECURSIVE c(country) AS ( \
                       SELECT MIN(country) FROM numbers WHERE available_from IS NOT NULL \
                       UNION ALL \
                       SELECT (SELECT MIN(country) FROM numbers WHERE available_from IS NOT NULL AND country > c.country) FROM c WHERE c.country IS NOT NULL \
                     ) SELECT country FROM c WHERE country IS NOT NULL",
                )
                .db()?
                .query_map([], |r| r.get::<_, String>(0))
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
            let mut probe = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM numbers WHERE country = ?1 AND number_type = ?2 \
                     AND available_from IS NOT NULL AND available_from <= ?3)",
                )
                .db()?;
            let mut out = Vec::new();
            for country in countries {
                for t in NumberType::ALL {
                    let on_offer: bool = probe
                        .query_row(params![country, t.as_str(), to_millis(now)], |r| r.get(0))
                        .db()?;
                    if on_offer {
                        out.push((country.clone(), *t));
                    }
                }
            }
            out.sort_by(|a, b| (&a.0, a.1.as_str()).cmp(&(&b.0, b.1.as_str())));
            Ok(out)
        })
        .await
    }

    async fn count_account_numbers(
        &self,
        account: AccountId,
        filter: &NumberFilter,
    ) -> Result<u64> {
        let filter = NumberFilter {
            after: None,
            ..filter.clone()
        };
        self.read(move |tx| {
            let mut params = SqlParams::new(Placeholder::QuestionNumbered);
            let where_sql = account_numbers_where(account, &filter, &mut params);
            let json_held = filter.label.is_some()
                || filter.display_name.is_some()
                || filter.metadata.is_some();
            if json_held {
                // The JSON-held filters are only pre-filtered in SQL; count the exact matches.
                let rows = select_numbers(tx, &where_sql, values(&params.values))?;
                return Ok(rows
                    .iter()
                    .filter(|n| account_filter_matches(&filter, n))
                    .count() as u64);
            }
            let sql = format!("SELECT COUNT(*) FROM numbers WHERE {where_sql}");
            let n: i64 = tx
                .prepare_cached(&sql)
                .db()?
                .query_row(params_from_iter(values(&params.values)), |r| r.get(0))
                .db()?;
            Ok(n as u64)
        })
        .await
    }
}
