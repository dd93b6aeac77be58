//! Runs the shared conformance suite against SQLite, each case on a fresh temp-file database.

mod common;

use std::sync::Arc;

use numbers_core::store::Store;
use numbers_store_conformance::StoreFactory;

struct Factory(common::TempDbs);

#[async_trait::async_trait]
impl StoreFactory for Factory {
    async fn fresh(&self) -> Arc<dyn Store> {
        Arc::new(self.0.open().await)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    numbers_store_conformance::run_all(&Factory(common::TempDbs::default())).await;
}

/// Search budgets need a store opened with small limits (`search_budget`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_budgets() {
    let dir = std::env::temp_dir().join(format!("numbersd-budget-{}", uuid::Uuid::new_v4()));
    let url = format!("sqlite://{}", dir.join("numbers.db").display());
    let store =
        numbers_store_sqlite::SqliteStore::open_with(&url, numbers_store_conformance::SMALL_LIMITS)
            .await
            .expect("open temp database");
    numbers_store_conformance::search_budgets(Arc::new(store)).await;
    let _ = std::fs::remove_dir_all(dir);
}
