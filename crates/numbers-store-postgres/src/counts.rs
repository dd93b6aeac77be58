//! `CountStore`: the totals of the order and disconnect lists, one `COUNT(*)` each (the SQL is
//! `numbers_store_sql`'s, shared with SQLite).

use async_trait::async_trait;
use numbers_core::error::Result;
use numbers_core::ids::AccountId;
use numbers_core::store::{CountStore, Counted};
use numbers_store_sql::{Placeholder, count_sql};

use crate::{PostgresStore, binds, db_err, refs};

#[async_trait]
impl CountStore for PostgresStore {
    async fn count(&self, account: AccountId, what: Counted<'_>) -> Result<u64> {
        let (sql, values) = count_sql(Placeholder::DollarNumbered, account, what);
        let params = binds(values);
        let client = self.client().await?;
        let row = client
            .query_one(sql.as_str(), &refs(&params))
            .await
            .map_err(db_err)?;
        let n: i64 = row.try_get(0).map_err(db_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
