//! The plan test: every statement a search can run (one per distinct text among every query
//! shape the builder accepts, `numbers_store_conformance::query_shapes`) — as a page search on
//! the search connections and as a criteria order's walk — must be an index scan of its driving
//! index, in result order: no sequential scan, no bitmap scan, no sort, whatever the planner
//! statistics say: none (never analysed), fresh (ANALYZE) and misleading (analysed while every
//! number sat in one rate center, ZIP, state, LATA, city, classification and type). And the
//! test must fail when a search index is missing.

// Test code: a failed unwrap is a failed test, with its location.
#![allow(clippy::unwrap_used)]

mod common;

use std::str::FromStr;

use futures::StreamExt;

use numbers_core::clock::Timestamp;
use numbers_core::search::SearchQuery;
use numbers_core::store::InventoryStore;
use numbers_store_conformance::query_shapes::{
    assert_no_bad_plans, driven_by, driving_index, one_query_per_statement,
};
use numbers_store_postgres::PostgresStore;
use numbers_store_sql::search_plan::Target;

/// What a good plan looks like for `sql`, or why this one is not.
fn judge(sql: &str, plan: &str, driving: &str) -> Result<(), String> {
    for bad in ["Seq Scan", "Bitmap", "Sort"] {
        if plan.contains(bad) {
            return Err(format!("plans a {bad}"));
        }
    }
    let index = if sql.contains("e164 IN (") {
        "numbers_offered_e164"
    } else {
        driving
    };
    if plan.contains(&format!("Index Scan using {index} on numbers"))
        || plan.contains(&format!("Index Only Scan using {index} on numbers"))
    {
        Ok(())
    } else {
        Err(format!("does not walk {index}"))
    }
}

/// Explains every statement, several at a time; the failures, each with its shape, statement
/// and plan.
async fn failures(store: &PostgresStore, shapes: &[(String, SearchQuery)]) -> Vec<String> {
    let explained = futures::stream::iter(shapes)
        .map(|(name, query)| async move {
            let driving = driving_index(query);
            match store.explain_search(query, Timestamp::UNIX_EPOCH).await {
                Ok(explained) => explained
                    .into_iter()
                    .filter_map(|(sql, plan)| {
                        judge(&sql, &plan, driving)
                            .err()
                            .map(|why| format!("[{name}] {why}\n  {sql}\n{plan}"))
                    })
                    .collect(),
                Err(e) => vec![format!("[{name}] cannot be explained: {e}")],
            }
        })
        .buffer_unordered(6)
        .collect::<Vec<Vec<String>>>()
        .await;
    explained.into_iter().flatten().collect()
}

/// A plain connection to the test database, for what the store does not do itself.
async fn admin(url: &str) -> tokio_postgres::Client {
    let config = tokio_postgres::Config::from_str(url).unwrap();
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_search_walks_its_index_in_order_whatever_the_statistics() {
    let Some(url) = common::server_url() else {
        return;
    };
    let dbs = common::FreshDbs::new(url);
    let store = dbs.store().await;
    let db = admin(&dbs.last_url()).await;
    // Statistics only when the test says so.
    db.batch_execute("ALTER TABLE numbers SET (autovacuum_enabled = false)")
        .await
        .unwrap();
    let numbers: Vec<_> = numbers_inventory::generate(20_000, 7).collect();
    for chunk in numbers.chunks(5_000) {
        store
            .import_numbers(chunk, Timestamp::UNIX_EPOCH)
            .await
            .unwrap();
    }
    let shapes = one_query_per_statement(Target::PostgreSql);

    let conditions = [
        ("missing", ""),
        ("fresh", "ANALYZE numbers"),
        (
            "misleading",
            // Analyse while every number looks the same, then put the real values back.
            "CREATE TEMP TABLE saved AS SELECT id, rate_center, state_code, city, zip, lata, \
               classification, country, number_type FROM numbers; \
             UPDATE numbers SET rate_center = 'SEATTLE', state_code = 'WA', city = 'SEATTLE', \
               zip = '98101', lata = '674', classification = 'GOLD', country = 'US', \
               number_type = 'LOCAL'; \
             ANALYZE numbers; \
             UPDATE numbers n SET rate_center = s.rate_center, state_code = s.state_code, \
               city = s.city, zip = s.zip, lata = s.lata, classification = s.classification, \
               country = s.country, number_type = s.number_type FROM saved s WHERE s.id = n.id; \
             DROP TABLE saved;",
        ),
    ];
    for (condition, sql) in conditions {
        db.batch_execute(sql).await.unwrap();
        let bad = failures(&store, &shapes).await;
        assert_no_bad_plans(condition, shapes.len(), &bad);
    }

    // The test must be able to fail: without the state index, a search by state sorts.
    db.batch_execute("DROP INDEX numbers_offered_state")
        .await
        .unwrap();
    let by_state = driven_by(&shapes, "numbers_offered_state");
    assert!(!by_state.is_empty());
    let bad = failures(&store, &by_state).await;
    assert!(
        bad.len() >= by_state.len(),
        "{} of {}",
        bad.len(),
        by_state.len()
    );
    drop(store);
    drop(db);
    dbs.drop_all().await;
}
