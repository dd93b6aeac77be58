//! `SecretStore` on SQLite: the re-seal pass over the sealed columns (`sealed_fields`), a page of
//! one column per write transaction, the key a complete pass left them under, and the clean-up
//! after a pass: SQLite leaves the bytes of replaced values in free space and in the WAL, so the
//! database file is rewritten (VACUUM) and the WAL emptied, leaving no copy of a value in clear
//! (or under a retired key) in any file.

use async_trait::async_trait;
use numbers_core::clock::Timestamp;
use numbers_core::error::Result;
use numbers_core::store::{ResealCursor, ResealPage, SecretStore};
use numbers_store_sql::sealed_fields::{
    reseal_field, reseal_rows, select_sealed_with, update_sealed_with,
};

use crate::SqliteStore;
use crate::db::DbResult;
use crate::statements::{execute, query, query_opt};

#[async_trait]
impl SecretStore for SqliteStore {
    fn sealing_key_id(&self) -> Option<String> {
        self.secrets.key_id().map(str::to_string)
    }

    async fn reseal_secrets(&self, from: Option<&ResealCursor>, limit: u32) -> Result<ResealPage> {
        let Some((index, field, after)) = reseal_field(from) else {
            return Ok(ResealPage::default());
        };
        let secrets = self.secrets.clone();
        self.write(move |tx| {
            let rows = query(tx, &field.page(&after, limit))?;
            let (writes, mut page) = reseal_rows(&secrets, index, field, rows, limit)?;
            for write in writes {
                if execute(tx, &field.update(&write))? == 1 {
                    write.count_in(&mut page);
                }
            }
            Ok(page)
        })
        .await
    }

    async fn secrets_sealed_with(&self) -> Result<Option<String>> {
        self.read(|tx| query_opt(tx, &select_sealed_with()).map(Option::flatten))
            .await
    }

    async fn compact_after_reseal(&self) -> Result<()> {
        // VACUUM cannot run inside a transaction, which is all the writer thread runs: a
        // connection of its own does it (the pool's connections wait on their busy timeout).
        let path = self.pool.path.clone();
        tokio::task::spawn_blocking(move || -> Result<()> {
            let conn = rusqlite::Connection::open(&path).db()?;
            conn.busy_timeout(std::time::Duration::from_secs(30)).db()?;
            conn.execute_batch("VACUUM;").db()?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .db()?;
            Ok(())
        })
        .await
        .map_err(|e| numbers_core::Error::internal(format!("SQLite VACUUM task failed: {e}")))?
    }

    async fn set_secrets_sealed_with(&self, key_id: &str, now: Timestamp) -> Result<()> {
        let stmt = update_sealed_with(key_id, now);
        self.write(move |tx| execute(tx, &stmt).map(drop)).await
    }
}
