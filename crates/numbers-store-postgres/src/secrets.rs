//! `SecretStore` on PostgreSQL: the re-seal pass over the sealed columns (`sealed_fields`), a page
//! of one column per transaction (each replacement conditional on the value read, so a
//! concurrent writer's value is never overwritten), and the key a complete pass left them under.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::Result;
use numbers_core::store::{ResealCursor, ResealPage, SecretStore};
use numbers_store_sql::Placeholder;
use numbers_store_sql::sealed_fields::{SEALED_WITH_NAME, reseal_field, reseal_rows};

use crate::rows::get;
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
        let rows = tx
            .query(
                &field.page_sql(Placeholder::DollarNumbered),
                &[&after, &i64::from(limit)],
            )
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| Ok((get(r, 0)?, get(r, 1)?)))
            .collect::<Result<Vec<(String, String)>>>()?;
        let (writes, mut page) = reseal_rows(&self.secrets, index, field, rows, limit)?;
        let update = tx
            .prepare(&field.update_sql(Placeholder::DollarNumbered))
            .await
            .map_err(db_err)?;
        for write in writes {
            let n = tx
                .execute(&update, &[&write.new, &write.key, &write.old])
                .await
                .map_err(db_err)?;
            if n == 1 {
                write.count_in(&mut page);
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(page)
    }

    async fn secrets_sealed_with(&self) -> Result<Option<String>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT key_id FROM secrets_at_rest WHERE name = $1",
                &[&SEALED_WITH_NAME],
            )
            .await
            .map_err(db_err)?;
        match row {
            Some(r) => get(&r, 0),
            None => Ok(None),
        }
    }

    /// Nothing automatic: replaced values stay in dead row versions until VACUUM lets their space
    /// be reused, and `VACUUM FULL` (which rewrites the tables under an exclusive lock) is the
    /// operator's call on a database other processes are serving from (docs/SECURITY.md).
    async fn compact_after_reseal(&self) -> Result<()> {
        Ok(())
    }

    async fn set_secrets_sealed_with(&self, key_id: &str, now: Timestamp) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE secrets_at_rest SET key_id = $1, updated_at = $2 WHERE name = $3",
                &[&key_id, &to_millis(now), &SEALED_WITH_NAME],
            )
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
