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

use crate::rows::numbers_from_rows;
use crate::statements::{query, query_each, query_opt};
use crate::{PostgresStore, binds, db_err, refs};

#[async_trait]
impl CatalogStore for PostgresStore {
    async fn available_regions(&self, now: Timestamp) -> Result<Vec<(String, NumberType)>> {
        let client = self.client().await?;
        let countries: Vec<String> = query(&**client, &sql::offered_countries()).await?;
        let pairs: Vec<(&String, NumberType)> = countries
            .iter()
            .flat_map(|country| NumberType::ALL.iter().map(move |t| (country, *t)))
            .collect();
        let probes: Vec<_> = pairs
            .iter()
            .map(|(country, t)| sql::type_on_offer(country, *t, now))
            .collect();
        let answers = query_each::<bool>(&**client, &probes).await?;
        let mut regions: Vec<(String, NumberType)> = pairs
            .into_iter()
            .zip(answers)
            .filter(|(_, on_offer)| on_offer.first() == Some(&true))
            .map(|((country, t), _)| (country.clone(), t))
            .collect();
        regions.sort_by(|a, b| (&a.0, a.1.as_str()).cmp(&(&b.0, b.1.as_str())));
        Ok(regions)
    }

    async fn count_account_numbers(
        &self,
        account: AccountId,
        filter: &NumberFilter,
    ) -> Result<u64> {
        let client = self.client().await?;
        match sql::count_account_numbers(account, filter) {
            AccountNumberCount::Count(count) => {
                Ok(query_opt::<i64>(&**client, &count).await?.unwrap_or(0) as u64)
            }
            AccountNumberCount::Check(select) => {
                let params = binds(select.params);
                let rows = client
                    .query(select.sql.as_ref(), &refs(&params))
                    .await
                    .map_err(db_err)?;
                let numbers = numbers_from_rows(&rows)?;
                Ok(numbers
                    .iter()
                    .filter(|n| account_filter_matches(filter, n))
                    .count() as u64)
            }
        }
    }
}
