//! `CatalogStore`: the countries and types on offer, and counts of an account's numbers.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::Result;
use numbers_core::ids::AccountId;
use numbers_core::number::NumberType;
use numbers_core::store::{CatalogStore, NumberFilter};
use numbers_store_sql::{Placeholder, SqlParams, account_filter_matches, account_numbers_where};

use crate::rows::{get, numbers_from_rows, select_numbers};
use crate::{PostgresStore, binds, db_err, refs};

#[async_trait]
impl CatalogStore for PostgresStore {
    async fn available_regions(&self, now: Timestamp) -> Result<Vec<(String, NumberType)>> {
        let client = self.client().await?;
        // A loose index scan over the offered numbers (numbers_offered_country_type): each step
        // jumps to the next country in the index.
        let countries = client
            .query(
                "WITH RECURSIVE c(country) AS ( \
                   SELECT MIN(country) FROM numbers WHERE available_from IS NOT NULL \
                   UNION ALL \
                   SELECT (SELECT MIN(country) FROM numbers WHERE available_from IS NOT NULL AND country > c.country) FROM c WHERE c.country IS NOT NULL \
                 ) SELECT country FROM c WHERE country IS NOT NULL",
                &[],
            )
            .await
            .map_err(db_err)?;
        let probe = client
            .prepare(
                "SELECT EXISTS (SELECT 1 FROM numbers WHERE country = $1 AND number_type = $2 \
                 AND available_from IS NOT NULL AND available_from <= $3)",
            )
            .await
            .map_err(db_err)?;
        let mut out = Vec::new();
        for row in &countries {
            let country: String = get(row, 0)?;
            for t in NumberType::ALL {
                let on_offer: bool = get(
                    &client
                        .query_one(&probe, &[&country, &t.as_str(), &to_millis(now)])
                        .await
                        .map_err(db_err)?,
                    0,
                )?;
                if on_offer {
                    out.push((country.clone(), *t));
                }
            }
        }
        out.sort_by(|a, b| (&a.0, a.1.as_str()).cmp(&(&b.0, b.1.as_str())));
        Ok(out)
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
        let client = self.client().await?;
        let mut params = SqlParams::new(Placeholder::DollarNumbered);
        let where_sql = account_numbers_where(account, &filter, &mut params);
        let values = binds(params.values);
        if filter.label.is_some() || filter.display_name.is_some() || filter.metadata.is_some() {
            // The JSON-held filters are only pre-filtered in SQL; count the exact matches.
            let sql = format!("{} WHERE {where_sql}", select_numbers());
            let rows = client
                .query(sql.as_str(), &refs(&values))
                .await
                .map_err(db_err)?;
            return Ok(numbers_from_rows(&rows)?
                .iter()
                .filter(|n| account_filter_matches(&filter, n))
                .count() as u64);
        }
        let sql = format!("SELECT COUNT(*) FROM numbers WHERE {where_sql}");
        let row = client
            .query_one(sql.as_str(), &refs(&values))
            .await
            .map_err(db_err)?;
        Ok(get::<i64>(&row, 0)? as u64)
    }
}
