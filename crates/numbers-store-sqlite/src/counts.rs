//! `CountStore`: the totals of the order and disconnect lists, one `COUNT(*)` each on a reader
//! (the SQL is `numbers_store_sql`'s, shared with PostgreSQL).

use async_trait::async_trait;
use numbers_core::error::Result;
use numbers_core::ids::AccountId;
use numbers_core::store::{CountStore, Counted};
use numbers_store_sql::{Placeholder, count_sql};
use rusqlite::params_from_iter;

use crate::SqliteStore;
use crate::db::{DbResult, values};

#[async_trait]
impl CountStore for SqliteStore {
    async fn count(&self, account: AccountId, what: Counted<'_>) -> Result<u64> {
        let (sql, bound) = count_sql(Placeholder::QuestionNumbered, account, what);
        self.read(move |tx| {
            let mut stmt = tx.prepare_cached(&sql).db()?;
            let n: i64 = stmt
                .query_row(params_from_iter(values(&bound)), |r| r.get(0))
                .db()?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }
}
