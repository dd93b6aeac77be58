//! `SecretStore` on PostgreSQL: the re-seal pass over the sealed columns (`sealed_fields`), a page
//! of one column per transaction (each replacement conditional on the value read, so a
//! concurrent writer's value is never overwritten), and the key a complete pass left them under.

use async_trait::async_trait;
use numbers_core::clock::Timestamp;
use numbers_core::error::Result;
use numbers_core::store::{ResealCursor, ResealPage, SecretStore};
use numbers_store_sql::sealed_fields::{
    reseal_field, reseal_rows, select_sealed_with, update_sealed_with,
};

use crate::statements::{execute, execute_each, query, query_opt};
use crate::{PostgresStore, db_err};

#[async_trait]
impl SecretStore for PostgresStore {
    fn sealing_key_id(&self) -> Option<String> {
        self.secrets.key_id().map(str::to_string)
    }

    async fn reseal_secrets(&self, from: Option<&ResealCursor>, limit: u32) -> Result<ResealPage> {
        let Some((index, field, after)) = reseal_field(from) else {
            return Ok(ResealPage::default());
        };
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let rows = query(&*tx, &field.page(&after, limit)).await?;
        let (writes, mut page) = reseal_rows(&self.secrets, index, field, rows, limit)?;
        let updates: Vec<_> = writes.iter().map(|write| field.update(write)).collect();
        let changed = execute_each(&*tx, &updates).await?;
        for (write, n) in writes.iter().zip(changed) {
            if n == 1 {
                write.count_in(&mut page);
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(page)
    }

    async fn secrets_sealed_with(&self) -> Result<Option<String>> {
        let client = self.client().await?;
        Ok(query_opt(&**client, &select_sealed_with()).await?.flatten())
    }

    /// Nothing automatic: replaced values stay in dead row versions until VACUUM lets their space
    /// be reused, and `VACUUM FULL` (which rewrites the tables under an exclusive lock) is the
    /// operator's call on a database other processes are serving from (docs/SECURITY.md).
    async fn compact_after_reseal(&self) -> Result<()> {
        Ok(())
    }

    async fn set_secrets_sealed_with(&self, key_id: &str, now: Timestamp) -> Result<()> {
        let stmt = update_sealed_with(key_id, now);
        execute(&**self.client().await?, &stmt).await.map(drop)
    }
}
