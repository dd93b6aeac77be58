//! Schema migrations: the SQL files embedded in the binary, applied in order, each once, and
//! recorded in `schema_migrations`. Safe when several processes start together: each migration
//! runs in a `BEGIN IMMEDIATE` transaction that re-checks whether it was applied meanwhile.

use numbers_core::error::Result;
use rusqlite::{Connection, OptionalExtension};

use crate::db::DbResult;

/// (version, SQL). Append only: an applied migration is never edited.
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
    (
        13,
        include_str!("../migrations/0013_emergency_addresses.sql"),
    ),
];

pub(crate) fn run(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .db()?;
    for (version, sql) in MIGRATIONS {
        // Take the write lock before checking, so two processes cannot both decide to apply it.
        conn.execute_batch("BEGIN IMMEDIATE").db()?;
        let applied = (|| -> rusqlite::Result<bool> {
            let done: Option<i64> = conn
                .query_row(
                    "SELECT version FROM schema_migrations WHERE version = ?1",
                    [version],
                    |r| r.get(0),
                )
                .optional()?;
            if done.is_some() {
                return Ok(false);
            }
            conn.execute_batch(sql)?;
            conn.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                (version, chrono::Utc::now().timestamp_millis()),
            )?;
            Ok(true)
        })();
        match applied {
            Ok(applied) => {
                conn.execute_batch("COMMIT").db()?;
                if applied {
                    tracing::info!(version, "applied SQLite migration");
                }
            }
            Err(e) => {
                // Leave the database as it was; the error says which migration failed.
                let _ = conn.execute_batch("ROLLBACK");
                return Err(numbers_core::Error::internal(format!(
                    "SQLite migration {version} failed: {e}"
                )));
            }
        }
    }
    Ok(())
}
