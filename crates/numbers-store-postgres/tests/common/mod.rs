//! Test support: fresh PostgreSQL databases next to the one named by
//! `NUMBERSD_TEST_POSTGRES_URL`, one per test case, dropped again when the test is done.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Mutex;

use numbers_store_postgres::{PostgresStore, create_database};

pub const URL_VAR: &str = "NUMBERSD_TEST_POSTGRES_URL";

/// The server URL, or `None` (after saying so) when the variable is not set.
pub fn server_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            println!("skipped: {URL_VAR} not set");
            None
        }
    }
}

/// Creates databases named `<dbname of the URL>_<uuid>` and remembers them for `drop_all`.
pub struct FreshDbs {
    server_url: String,
    prefix: String,
    created: Mutex<Vec<String>>,
    last_url: Mutex<String>,
}

impl FreshDbs {
    pub fn new(server_url: String) -> Self {
        let config = tokio_postgres::Config::from_str(&server_url)
            .expect("NUMBERSD_TEST_POSTGRES_URL is not a PostgreSQL URL");
        let prefix = numbers_store_conformance::support::test_database_prefix(config.get_dbname());
        FreshDbs {
            server_url,
            prefix,
            created: Mutex::new(Vec::new()),
            last_url: Mutex::new(String::new()),
        }
    }

    pub async fn store(&self) -> PostgresStore {
        let name = format!("{}_{}", self.prefix, uuid::Uuid::new_v4().simple());
        let url = create_database(&self.server_url, &name)
            .await
            .expect("create test database");
        self.created.lock().unwrap().push(name);
        *self.last_url.lock().unwrap() = url.clone();
        PostgresStore::connect(&url)
            .await
            .expect("connect to the test database")
            .with_secrets(numbers_store_conformance::fixtures::secret_box())
    }

    /// The URL of the database `store` created last (to open more "processes" on it).
    pub fn last_url(&self) -> String {
        self.last_url.lock().unwrap().clone()
    }

    /// Drops `name` too in `drop_all`.
    pub fn adopt(&self, name: String) {
        self.created.lock().unwrap().push(name);
    }

    /// Drops every database this created (FORCE ends the stores' pooled connections).
    pub async fn drop_all(&self) {
        let names: Vec<String> = std::mem::take(&mut *self.created.lock().unwrap());
        let mut config = tokio_postgres::Config::from_str(&self.server_url).unwrap();
        config.dbname("postgres");
        let Ok((client, connection)) = config.connect(tokio_postgres::NoTls).await else {
            return;
        };
        let driver = tokio::spawn(connection);
        for name in names {
            let _ = client
                .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
        drop(client);
        let _ = driver.await;
    }
}
