//! The plan test: every statement a search can run (one per distinct text among every query
//! shape the builder accepts, `numbers_store_conformance::query_shapes`) must walk its driving
//! index over a range, in result order — never scan the table, never sort — whatever the
//! planner statistics say: none, fresh (a full ANALYZE) and misleading (statistics that claim
//! every index is useless). And the test must fail when a search index is missing.

// Test code: a failed unwrap is a failed test, with its location.
#![allow(clippy::unwrap_used)]

mod common;

use numbers_core::clock::Timestamp;
use numbers_core::store::InventoryStore;
use numbers_store_conformance::query_shapes::{
    assert_no_bad_plans, driven_by, driving_index, one_query_per_statement,
};
use numbers_store_sql::search_plan::Target;
use numbers_store_sqlite::SqliteStore;

/// What a good plan looks like for `sql`, or why this one is not.
fn judge(sql: &str, plan: &str, driving: &str) -> Result<(), String> {
    // (A budgeted walk is a subquery, `walked`, read as it is produced: scanning it is fine.)
    if let Some(step) = plan
        .lines()
        .find(|l| l.trim_start().starts_with("SCAN numbers"))
    {
        return Err(format!("scans: {step}"));
    }
    if plan.contains("TEMP B-TREE") {
        return Err("sorts".into());
    }
    let candidates = sql.contains("e164 IN (");
    let (index, range) = if candidates {
        ("numbers_offered_e164", "(e164=?")
    } else {
        (driving, "e164>")
    };
    let walk = plan.lines().find(|l| {
        l.contains(&format!("USING INDEX {index} ("))
            || l.contains(&format!("USING COVERING INDEX {index} ("))
    });
    match walk {
        Some(step) if step.contains(range) => Ok(()),
        Some(step) => Err(format!("walks {index} without its E.164 range: {step}")),
        None => Err(format!("does not walk {index}")),
    }
}

/// Explains every statement; the failures, each with its shape, statement and plan.
async fn failures(
    store: &SqliteStore,
    shapes: &[(String, numbers_core::search::SearchQuery)],
) -> Vec<String> {
    let mut bad = Vec::new();
    for (name, query) in shapes {
        let driving = driving_index(query);
        match store.explain_search(query, Timestamp::UNIX_EPOCH).await {
            Ok(explained) => {
                for (sql, plan) in explained {
                    if let Err(why) = judge(&sql, &plan, driving) {
                        bad.push(format!("[{name}] {why}\n  {sql}\n  {plan}"));
                    }
                }
            }
            Err(e) => bad.push(format!("[{name}] cannot be explained: {e}")),
        }
    }
    bad
}

/// Rewrites the planner statistics of the database file, then reopens the store so every
/// connection plans with them.
async fn with_statistics(path: &std::path::Path, sql: &str) -> SqliteStore {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_search_walks_its_index_in_order_whatever_the_statistics() {
    let dbs = common::TempDbs::default();
    let store = dbs.open().await;
    let numbers: Vec<_> = numbers_inventory::generate(20_000, 7).collect();
    for chunk in numbers.chunks(5_000) {
        store
            .import_numbers(chunk, Timestamp::UNIX_EPOCH)
            .await
            .unwrap();
    }
    let path = store.database_path().to_path_buf();
    drop(store);
    let shapes = one_query_per_statement(Target::Sqlite);

    let conditions = [
        (
            "missing",
            "DROP TABLE IF EXISTS sqlite_stat1; DROP TABLE IF EXISTS sqlite_stat4;".to_string(),
        ),
        ("fresh", "PRAGMA analysis_limit=0; ANALYZE;".to_string()),
        (
            "misleading",
            // Every search index claims one distinct value per leading column (useless), and
            // the unique E.164 index claims to be tiny and perfect.
            {
                let mut sql = String::from("ANALYZE; DELETE FROM sqlite_stat1;");
                for (name, _) in numbers_store_sql::search_indexes() {
                    sql.push_str(&format!(
                        "INSERT INTO sqlite_stat1 VALUES ('numbers', '{name}', '20000 20000 20000 20000 1');"
                    ));
                }
                sql.push_str("INSERT INTO sqlite_stat1 VALUES ('numbers', 'sqlite_autoindex_numbers_2', '10 1');");
                sql
            },
        ),
    ];
    for (condition, sql) in conditions {
        let store = with_statistics(&path, &sql).await;
        let bad = failures(&store, &shapes).await;
        assert_no_bad_plans(condition, shapes.len(), &bad);
    }

    // The test must be able to fail: without the state index, a search by state has no plan.
    // (Dropped behind the open store's back: opening builds missing search indexes.)
    let store = SqliteStore::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("DROP INDEX numbers_offered_state;")
        .unwrap();
    let by_state = driven_by(&shapes, "numbers_offered_state");
    assert!(!by_state.is_empty());
    assert_eq!(failures(&store, &by_state).await.len(), by_state.len());
}
