//! Temporary database files for the integration tests: each store gets its own directory under
//! the system temp dir, removed when the `TempDbs` that made it is dropped.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Mutex;

use numbers_store_sqlite::SqliteStore;

#[derive(Default)]
pub struct TempDbs {
    dirs: Mutex<Vec<PathBuf>>,
}

impl TempDbs {
    pub async fn open(&self) -> SqliteStore {
        let dir =
            std::env::temp_dir().join(format!("numbersd-sqlite-test-{}", uuid::Uuid::new_v4()));
        self.dirs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(dir.clone());
        let url = format!("sqlite://{}", dir.join("numbers.db").display());
        SqliteStore::open(&url)
            .await
            .expect("open temp database")
            .with_secrets(numbers_store_conformance::fixtures::secret_box())
    }
}

impl Drop for TempDbs {
    fn drop(&mut self) {
        for dir in self
            .dirs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
