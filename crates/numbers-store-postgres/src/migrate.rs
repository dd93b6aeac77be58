//! Schema migrations: the embedded SQL files, applied in order once per database and recorded in
//! `schema_migrations`. A transaction-scoped advisory lock serialises processes that start at
//! the same time against the same database, so each migration runs exactly once.

use deadpool_postgres::Object;
use numbers_core::error::Result;

use crate::db_err;

/// (version, SQL), in the order they apply.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_webhooks.sql")),
    (4, include_str!("../migrations/0004_bandwidth.sql")),
    (
        5,
        include_str!("../migrations/0005_tokens_callbacks_provisioning.sql"),
    ),
    (6, include_str!("../migrations/0006_number_orders.sql")),
    (7, include_str!("../migrations/0007_search_indexes.sql")),
    (
        8,
        include_str!("../migrations/0008_country_type_search.sql"),
    ),
    (9, include_str!("../migrations/0009_secrets_at_rest.sql")),
    (11, include_str!("../migrations/0011_search_plans.sql")),
    (12, include_str!("../migrations/0012_event_queue.sql")),
    (
        13,
        include_str!("../migrations/0013_emergency_addresses.sql"),
    ),
];

/// Arbitrary constant naming numbersd's migration lock among the server's advisory locks.
const MIGRATION_LOCK_KEY: i64 = 0x6e75_6d62_6d69_6772; // "numbmigr"

pub(crate) async fn run(client: &mut Object) -> Result<()> {
    let tx = client.transaction().await.map_err(db_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .map_err(db_err)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .await
        .map_err(db_err)?;
    let applied: Vec<i64> = tx
        .query("SELECT version::BIGINT FROM schema_migrations", &[])
        .await
        .map_err(db_err)?
        .iter()
        .map(|r| r.try_get::<_, i64>(0))
        .collect::<Result<_, _>>()
        .map_err(db_err)?;
    let now = chrono::Utc::now().timestamp_millis();
    for (version, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tracing::info!(version, "applying PostgreSQL migration");
        tx.batch_execute(sql).await.map_err(db_err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1::BIGINT, $2)",
            &[version, &now],
        )
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}
