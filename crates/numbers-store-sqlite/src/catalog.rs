//! `CatalogStore`: the countries and types on offer, and counts of an account's numbers. The
//! statements are `numbers_store_sql::catalog`.

use async_trait::async_trait;
use numbers_core::clock::Timestamp;
use numbers_core::error::Result;
use numbers_core::ids::AccountId;
use numbers_core::number::NumberType;
use numbers_core::store::{CatalogStore, NumberFilter};
use numbers_store_sql::account_filter_matches;
use numbers_store_sql::catalog::{self as sql, AccountNumberCount};

use crate::SqliteStore;
use crate::db::values;
use crate::rows::query_numbers;
use crate::statements::{query, query_opt};

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn available_regions(&self, now: Timestamp) -> Result<Vec<(String, NumberType)>> {
        self.read(move |tx| {
            let mut out = Vec::new();
            for country in query::<String>(tx, &sql::offered_countries())? {
                for t in NumberType::ALL {
                    if query_opt(tx, &sql::type_on_offer(&country, *t, now))? == Some(true) {
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
        let filter = filter.clone();
        self.read(
            move |tx| match sql::count_account_numbers(account, &filter) {
                AccountNumberCount::Count(count) => {
                    Ok(query_opt::<i64>(tx, &count)?.unwrap_or(0) as u64)
                }
                AccountNumberCount::Check(select) => {
                    let numbers =
                        query_numbers(tx, &select.question_numbered(), values(&select.params))?;
                    Ok(numbers
                        .iter()
                        .filter(|n| account_filter_matches(&filter, n))
                        .count() as u64)
                }
            },
        )
        .await
    }
}
