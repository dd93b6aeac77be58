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
