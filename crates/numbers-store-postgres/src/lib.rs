//! numbersd's `Store` on PostgreSQL: the scale-out database, shared by several numbersd
//! processes. This module owns the connection pool, start-up (connect + migrate), the mapping of
//! driver errors to domain errors, and the small helpers every other module binds values with.
//! The calls themselves live in one module per store trait; each is one READ COMMITTED
//! transaction that locks what it changes (`FOR UPDATE`, or `FOR UPDATE SKIP LOCKED` where any
//! row will do) and writes its events last (see `events`).
#![forbid(unsafe_code)]

mod accounts;
mod catalog;
mod counts;
mod disconnects;
mod emergency_addresses;
mod events;
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

use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures::{StreamExt, TryStreamExt};
use numbers_core::error::{Error, Result};
use numbers_core::sealing::SecretBox;
use numbers_core::store::{BulkLoadStore, HealthStore, SearchLimits};
use numbers_store_sql::{SqlValue, inventory_is_empty_sql, search_indexes};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

/// Connections per process. Every call holds one connection for one short transaction, so a
/// modest pool serves many concurrent requests; several processes share the server's
/// `max_connections`.
const POOL_SIZE: usize = 16;
/// Connections that run public searches, apart from the rest: their planner settings hold
/// every search to its plan (`search`), and a burst of searches cannot take the connections
/// that orders and webhooks need.
const SEARCH_POOL_SIZE: usize = 8;

/// Connections of the event sequencer (`events`), apart from the rest: under load every
/// connection of the main pool is busy, and numbering must not queue behind the requests whose
/// readers wait for it.
const SEQUENCER_POOL_SIZE: usize = 2;
/// Search indexes built at once after a bulk load (`finish_bulk_load`).
const PARALLEL_INDEX_BUILDS: usize = 3;

/// A numbersd store on one PostgreSQL database.
pub struct PostgresStore {
    pool: Pool,
    search_pool: Pool,
    /// How much one search may read (`SearchLimits`).
    limits: SearchLimits,
    /// Contains / ends-with searches (a cache of the numbers' digits; see `digit_index`).
    digits: Arc<numbers_store_sql::digit_index::DigitIndexCache>,
    /// Seals the secret columns (`numbers_store_sql::sealed_fields`); without a key, writing a
    /// secret fails.
    secrets: SecretBox,
    /// Numbers committed events (`events`); shared by the clones a background build makes.
    sequencer: Arc<events::Sequencer>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pool's config holds the password; never print it.
        f.debug_struct("PostgresStore")
            .field("pool_status", &self.pool.status())
            .finish()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/dbname`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<PostgresStore> {
        Self::connect_with(url, SearchLimits::default()).await
    }

    /// `connect`, with the search budgets `limits`.
    pub async fn connect_with(url: &str, limits: SearchLimits) -> Result<PostgresStore> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|e| Error::internal(format!("invalid PostgreSQL URL: {e}")))?;
        let mut search_config = config.clone();
        let options = search::session_options();
        search_config.options(&match config.get_options() {
            Some(given) => format!("{given} {options}"),
            None => options,
        });
        let store = PostgresStore {
            search_pool: build_pool(search_config, SEARCH_POOL_SIZE)?,
            sequencer: events::Sequencer::start(build_pool(config.clone(), SEQUENCER_POOL_SIZE)?),
            pool: build_pool(config, POOL_SIZE)?,
            limits,
            digits: Arc::default(),
            secrets: SecretBox::default(),
        };
        {
            let mut client = store.client().await?;
            migrate::run(&mut client).await?;
            // A bulk load that died half-way left its search indexes out: build them now.
            ensure_search_indexes(&client).await?;
        }
        Ok(store)
    }

    /// The same store sealing and opening secrets with `secrets` (derived from the server
    /// secret; see `numbers_core::sealing`).
    pub fn with_secrets(mut self, secrets: SecretBox) -> Self {
        self.secrets = secrets;
        self
    }

    /// The on-disk size of the database (for operators' dashboards and the import benchmark).
    pub async fn database_size_bytes(&self) -> Result<i64> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT pg_database_size(current_database())", &[])
            .await
            .map_err(db_err)?;
        row.try_get(0).map_err(db_err)
    }

    async fn client(&self) -> Result<Object> {
        checkout(&self.pool).await
    }

    /// A search connection (`search::session_options`).
    async fn search_client(&self) -> Result<Object> {
        checkout(&self.search_pool).await
    }
}

fn build_pool(config: tokio_postgres::Config, size: usize) -> Result<Pool> {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| Error::internal(format!("PostgreSQL pool: {e}")))
}

async fn checkout(pool: &Pool) -> Result<Object> {
    // Not reaching the database at all is an outage, not a bug: say so.
    pool.get()
        .await
        .map_err(|e| Error::Unavailable(format!("PostgreSQL connection: {e}")))
}

/// Creates the empty database `name` on the server of `server_url` and returns the URL of that
/// database (same server, user and options). For tests and fresh CI databases: `name` must be a
/// plain identifier (ASCII letters, digits, `_`; at most 63 bytes).
pub async fn create_database(server_url: &str, name: &str) -> Result<String> {
    administer_database(server_url, name, &format!("CREATE DATABASE \"{name}\"")).await?;
    Ok(database_url(server_url, name))
}

/// Drops the database `name` on the server of `server_url` if it exists (the benchmark's
/// "fresh database"); refuses the same names `create_database` refuses.
pub async fn drop_database(server_url: &str, name: &str) -> Result<()> {
    administer_database(
        server_url,
        name,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    )
    .await
}

/// Runs `statement` (about database `name`, which it quotes) on the server's maintenance
/// database: the database named in the URL may itself not exist yet (CI passes a name to derive
/// from). `name` is checked first, since it is spliced into the statement.
async fn administer_database(server_url: &str, name: &str, statement: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if !valid {
        return Err(Error::invalid(
            "name",
            "must be 1 to 63 ASCII letters, digits or '_', not starting with a digit",
        ));
    }
    let mut config = tokio_postgres::Config::from_str(server_url)
        .map_err(|e| Error::internal(format!("invalid PostgreSQL URL: {e}")))?;
    config.dbname("postgres");
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| Error::Unavailable(format!("PostgreSQL connection: {e}")))?;
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL admin connection ended with an error");
        }
    });
    let done = client.batch_execute(statement).await.map_err(db_err);
    drop(client);
    let _ = driver.await;
    done
}

/// `server_url` with its database replaced by `name` (URL or key=value form).
fn database_url(server_url: &str, name: &str) -> String {
    let Some(scheme_end) = server_url.find("://") else {
        // key=value connection string: a later dbname overrides an earlier one.
        return format!("{server_url} dbname={name}");
    };
    let rest_start = scheme_end + 3;
    let (base, query) = match server_url.find('?') {
        Some(q) => (&server_url[..q], &server_url[q..]),
        None => (server_url, ""),
    };
    let authority_end = base[rest_start..]
        .find('/')
        .map_or(base.len(), |i| rest_start + i);
    format!("{}/{name}{query}", &base[..authority_end])
}

/// One bound statement parameter.
pub(crate) type Bind = Box<dyn ToSql + Sync + Send>;

/// Parameters collected by `numbers_store_sql` (its WHERE builders and `Statement`s), as driver
/// values. Every integer column is BIGINT, so `Int` always binds as i64; NULLs carry their
/// column's type.
pub(crate) fn binds(values: Vec<SqlValue>) -> Vec<Bind> {
    values
        .into_iter()
        .map(|v| -> Bind {
            match v {
                SqlValue::Text(s) => Box::new(s),
                SqlValue::Int(i) => Box::new(i),
                SqlValue::Bool(b) => Box::new(b),
                SqlValue::Null => Box::new(None::<String>),
                SqlValue::NullInt => Box::new(None::<i64>),
            }
        })
        .collect()
}

pub(crate) fn refs(binds: &[Bind]) -> Vec<&(dyn ToSql + Sync)> {
    binds
        .iter()
        .map(|b| b.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

pub(crate) fn retry(why: impl Into<String>) -> Error {
    Error::retry(why)
}

/// The constraint a unique violation hit, if `e` is one.
pub(crate) fn unique_violation(e: &tokio_postgres::Error) -> Option<&str> {
    match e.code() {
        Some(code) if *code == SqlState::UNIQUE_VIOLATION => {
            e.as_db_error().and_then(|d| d.constraint())
        }
        _ => None,
    }
}

/// Driver errors as domain errors: lost races become `Error::retry` (the caller
/// runs the whole step again); everything else is internal.
pub(crate) fn db_err(e: tokio_postgres::Error) -> Error {
    if let Some(code) = e.code()
        && (*code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED)
    {
        return retry("the database asked to retry the transaction");
    }
    if unique_violation(&e) == Some("assignments_one_live_per_number") {
        return retry("the number was taken by a concurrent order");
    }
    match e.as_db_error() {
        Some(db) => Error::internal(format!("PostgreSQL: {db}")),
        None => Error::internal(format!("PostgreSQL: {e}")),
    }
}

#[async_trait]
impl BulkLoadStore for PostgresStore {
    async fn begin_bulk_load(&self) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let empty: bool = tx
            .query_one(inventory_is_empty_sql(), &[])
            .await
            .map_err(db_err)?
            .try_get(0)
            .map_err(db_err)?;
        if empty {
            for (name, _) in search_indexes() {
                tx.batch_execute(&format!("DROP INDEX IF EXISTS {name}"))
                    .await
                    .map_err(db_err)?;
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(empty)
    }

    async fn finish_bulk_load(&self) -> Result<()> {
        // The builds are independent: a few side by side, one connection each (each is mostly
        // one core sorting), instead of one after another.
        let statements: Vec<String> = search_indexes().into_iter().map(|(_, sql)| sql).collect();
        futures::stream::iter(statements)
            .map(|sql| build_index(&self.pool, sql))
            .buffer_unordered(PARALLEL_INDEX_BUILDS)
            .try_collect::<Vec<()>>()
            .await?;
        let client = self.client().await?;
        // Fresh statistics now, not whenever autovacuum gets to it: without them the planner
        // estimated a country + type search as a parallel sequential scan (1.2 s at 10M rows).
        client
            .batch_execute("ANALYZE numbers")
            .await
            .map_err(db_err)
    }
}

/// Runs one search index's CREATE statement on a connection of its own, with room to sort.
async fn build_index(pool: &Pool, sql: String) -> Result<()> {
    let client = checkout(pool).await?;
    client
        .batch_execute(&format!(
            "SET maintenance_work_mem = '256MB'; {sql}; RESET maintenance_work_mem"
        ))
        .await
        .map_err(db_err)
}

/// Creates every search index that is missing (`numbers_store_sql::search_indexes`), with room
/// to sort; a no-op when they all exist.
async fn ensure_search_indexes(client: &tokio_postgres::Client) -> Result<()> {
    client
        .batch_execute("SET maintenance_work_mem = '256MB'")
        .await
        .map_err(db_err)?;
    for (_, sql) in search_indexes() {
        client.batch_execute(&sql).await.map_err(db_err)?;
    }
    client
        .batch_execute("RESET maintenance_work_mem")
        .await
        .map_err(db_err)
}

#[async_trait]
impl HealthStore for PostgresStore {
    async fn ping(&self) -> Result<()> {
        let client = self.client().await?;
        client.query_one("SELECT 1", &[]).await.map_err(db_err)?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn database_url_replaces_only_the_database() {
        assert_eq!(
            database_url("postgres://u@h:5432/ci_x", "ci_x_1"),
            "postgres://u@h:5432/ci_x_1"
        );
        assert_eq!(
            database_url("postgres://u@h:5432", "d"),
            "postgres://u@h:5432/d"
        );
        assert_eq!(
            database_url("postgres://u@h/x?sslmode=disable", "d"),
            "postgres://u@h/d?sslmode=disable"
        );
        assert_eq!(
            database_url("host=h user=u dbname=x", "d"),
            "host=h user=u dbname=x dbname=d"
        );
    }
}
