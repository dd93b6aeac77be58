//! Runs the shared conformance suite against PostgreSQL, each case on a fresh database created
//! next to the one `NUMBERSD_TEST_POSTGRES_URL` names. Skips (saying so) when it is not set.

// Test code: a failed unwrap is a failed test, with its location.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use numbers_core::store::Store;
use numbers_store_conformance::StoreFactory;

struct Factory(common::FreshDbs);

#[async_trait::async_trait]
impl StoreFactory for Factory {
    async fn fresh(&self) -> Arc<dyn Store> {
        Arc::new(self.0.store().await)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let Some(url) = common::server_url() else {
        return;
    };
    let factory = Factory(common::FreshDbs::new(url));
    numbers_store_conformance::run_all(&factory).await;
    factory.0.drop_all().await;
}

/// Search budgets need a store opened with small limits (`search_budget`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_budgets() {
    let Some(url) = common::server_url() else {
        return;
    };
    let dbs = common::FreshDbs::new(url);
    drop(dbs.store().await);
    let store = numbers_store_postgres::PostgresStore::connect_with(
        &dbs.last_url(),
        numbers_store_conformance::SMALL_LIMITS,
    )
    .await
    .unwrap();
    numbers_store_conformance::search_budgets(Arc::new(store)).await;
    dbs.drop_all().await;
}
