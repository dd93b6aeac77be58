//! numbers-store-sqlite: the embedded default database of numbersd. `SqliteStore` implements
//! every trait of `numbers_core::store` on one SQLite file in WAL mode, following
//! docs/STORE-SEMANTICS.md: each call is one transaction that performs a business step together
//! with its events. One writer connection (behind a mutex, so "read, decide, conditionally
//! update" never races in-process; `BEGIN IMMEDIATE` serialises against other processes) and a
//! small pool of readers; all database work runs on tokio's blocking pool.
#![forbid(unsafe_code)]

mod accounts;
mod catalog;
mod counts;
mod db;
mod disconnects;
mod emergency_addresses;
mod events;
mod files;
mod inventory;
mod migrate;
mod number_orders;
mod numbers;
mod orders;
mod provisioning;
mod reservations;
mod rows;
mod search;
mod secrets;
mod sites;
mod statements;
mod tokens;
mod webhooks;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use numbers_core::error::{Error, Result};
use numbers_core::sealing::SecretBox;
use numbers_core::store::{BulkLoadStore, HealthStore, SearchBudget, SearchLimits};
use numbers_store_sql::{inventory_is_empty_sql, search_indexes};
use rusqlite::{Connection, Transaction};

pub use crate::db::path_from_url;
use crate::db::{DbResult, Pool};
pub use crate::files::tighten as make_private;

/// A `Store` on one SQLite database file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: Arc<Pool>,
    /// How much one search may read (`SearchLimits`).
    limits: SearchLimits,
    /// Contains / ends-with searches (a cache of the numbers' digits; see `digit_index`).
    digits: Arc<numbers_store_sql::digit_index::DigitIndexCache>,
    /// Seals the secret columns (`numbers_store_sql::sealed_fields`); without a key, writing a
    /// secret fails.
    secrets: SecretBox,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.pool.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database named by `url` — `sqlite://path`, `sqlite:path`
    /// or a bare path — and applies pending migrations.
    pub async fn open(url: &str) -> Result<SqliteStore> {
        Self::open_with(url, SearchLimits::default()).await
    }

    /// `open`, with the search budgets `limits`.
    pub async fn open_with(url: &str, limits: SearchLimits) -> Result<SqliteStore> {
        let path = db::path_from_url(url)?;
        let pool = tokio::task::spawn_blocking(move || Pool::open(path))
            .await
            .map_err(|e| Error::internal(format!("SQLite open task failed: {e}")))??;
        Ok(SqliteStore {
            pool: Arc::new(pool),
            limits,
            digits: Arc::default(),
            secrets: SecretBox::default(),
        })
    }

    /// The same store sealing and opening secrets with `secrets` (derived from the server
    /// secret; see `numbers_core::sealing`).
    pub fn with_secrets(mut self, secrets: SecretBox) -> Self {
        self.secrets = secrets;
        self
    }

    /// How the database would run each statement of a search of `query` at `now`
    /// (`EXPLAIN QUERY PLAN`, one line per step), with the statement: for the plan tests, and
    /// for an operator who wants to see why a search is slow.
    pub async fn explain_search(
        &self,
        query: &numbers_core::search::SearchQuery,
        now: numbers_core::clock::Timestamp,
    ) -> Result<Vec<(String, String)>> {
        let query = query.clone();
        let budget = self.limits.rows(SearchBudget::Quick);
        self.read(move |tx| search::explain(tx, &query, now, budget))
            .await
    }

    /// The database file (its WAL and shared-memory files sit next to it).
    pub fn database_path(&self) -> &Path {
        &self.pool.path
    }

    /// Runs `f` in a write transaction on the writer thread (`db::Pool::write`).
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.pool.write(f).await
    }

    /// Runs `f` in a read transaction on the blocking pool.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        tokio::task::spawn_blocking(move || pool.read(f))
            .await
            .map_err(|e| Error::internal(format!("SQLite task failed: {e}")))?
    }

    /// `read` for a search with `budget`: thorough searches on their own connection
    /// (`Pool::read_thorough`), quick ones on the shared readers.
    async fn read_search<T, F>(&self, budget: SearchBudget, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    {
        let pool = Arc::clone(&self.pool);
        tokio::task::spawn_blocking(move || match budget {
            SearchBudget::Thorough => pool.read_thorough(f),
            SearchBudget::Quick => pool.read(f),
        })
        .await
        .map_err(|e| Error::internal(format!("SQLite task failed: {e}")))?
    }
}

#[async_trait]
impl BulkLoadStore for SqliteStore {
    async fn begin_bulk_load(&self) -> Result<bool> {
        self.write(|tx| {
            let empty: bool = tx
                .query_row(inventory_is_empty_sql(), [], |r| r.get(0))
                .db()?;
            if empty {
                for (name, _) in search_indexes() {
                    tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))
                        .db()?;
                }
            }
            Ok(empty)
        })
        .await
    }

    async fn finish_bulk_load(&self) -> Result<()> {
        self.write(|tx| {
            db::ensure_search_indexes(tx)?;
            // Planner statistics for the new indexes, from all of their entries: 0.6 s at 1M
            // numbers. A sampled ANALYZE (`analysis_limit`) reads only the first entries of each
            // index, so a leading column such as country looked unique to it ("US" = 2,000 of
            // 1M rows) and country searches then walked that index and sorted the whole country
            // (800 ms a page instead of 0.7 ms).
            tx.execute_batch("PRAGMA analysis_limit=0; ANALYZE numbers;")
                .db()?;
            db::drop_value_samples(tx)
        })
        .await
    }
}

#[async_trait]
impl HealthStore for SqliteStore {
    async fn ping(&self) -> Result<()> {
        self.read(|tx| {
            tx.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .db()
                .map(|_| ())
        })
        .await
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}
