//! Runs every conformance case against both stores, each case as its own test on its own fresh
//! database: `sqlite::<case>` on a temp-file database, `postgres::<case>` on a database created
//! next to the one `NUMBERSD_TEST_POSTGRES_URL` names and dropped after (whether the case passed
//! or not). The tests are generated from `for_each_case!`, so cases run in parallel under
//! `cargo test` and a failing case hides none of the others; `every_case_is_listed` fails when a
//! case function is missing from that list.
//!
//! PostgreSQL: with the variable unset the `postgres::` tests pass without running (saying so),
//! as the stores' suites always have; with it set, an unreachable server fails every one of them.

// Test code: a failed unwrap is a failed test, with its location.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use futures::FutureExt;
use numbers_core::store::SearchLimits;
use numbers_store_conformance::fixtures::secret_box;
use numbers_store_conformance::support::{DynStore, test_database_prefix};
use numbers_store_postgres::{PostgresStore, create_database, drop_database};
use numbers_store_sqlite::SqliteStore;
use tokio::sync::Semaphore;

const URL_VAR: &str = "NUMBERSD_TEST_POSTGRES_URL";

/// PostgreSQL cases running at once in this test binary, whatever `--test-threads` says. A store
/// pools up to 26 connections (16 general, 8 search, 2 sequencer) and a case holds one more to
/// create and drop its database, so three cases never hold more than 81 of the server's
/// `max_connections` (100 by default), leaving room for others sharing the server. In practice
/// four cases at once peaked at 20 connections (`pg_stat_activity`, `--test-threads 8`).
const POSTGRES_CASES_AT_ONCE: usize = 3;

static POSTGRES_SLOTS: Semaphore = Semaphore::const_new(POSTGRES_CASES_AT_ONCE);

/// The search limits of a case's store: the default, or the named constant of the suite.
macro_rules! limits {
    () => {
        SearchLimits::default()
    };
    ($limits:ident) => {
        numbers_store_conformance::$limits
    };
}

/// One `#[tokio::test]` per case in `mod sqlite` and one in `mod postgres`.
macro_rules! per_store {
    ($($name:ident $(with $limits:ident)?),+ $(,)?) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    run_on_sqlite(limits!($($limits)?), numbers_store_conformance::$name).await;
                }
            )+
        }

        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    run_on_postgres(limits!($($limits)?), numbers_store_conformance::$name).await;
                }
            )+
        }
    };
}

numbers_store_conformance::for_each_case!(per_store);

/// Runs `case` on a fresh SQLite database in a temp directory of its own, removed afterwards.
async fn run_on_sqlite<F>(limits: SearchLimits, case: fn(DynStore) -> F)
where
    F: Future<Output = ()>,
{
    let dir = TempDir(std::env::temp_dir().join(format!(
        "numbersd-conformance-{}",
        uuid::Uuid::new_v4().simple()
    )));
    let url = format!("sqlite://{}", dir.0.join("numbers.db").display());
    let store = SqliteStore::open_with(&url, limits)
        .await
        .expect("open the case's temp database")
        .with_secrets(secret_box());
    case(Arc::new(store)).await;
}

/// Removes its directory when dropped, also while a failing case unwinds.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `case` on a database of its own on the server of `NUMBERSD_TEST_POSTGRES_URL`, named
/// after that URL's database, and drops it afterwards (also when the case fails).
async fn run_on_postgres<F>(limits: SearchLimits, case: fn(DynStore) -> F)
where
    F: Future<Output = ()>,
{
    let server = match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => url,
        _ => {
            println!("skipped: {URL_VAR} not set");
            return;
        }
    };
    let _slot = POSTGRES_SLOTS.acquire().await.unwrap();
    let name = format!(
        "{}_{}",
        database_prefix(&server),
        uuid::Uuid::new_v4().simple()
    );
    // The URL may hold a password: name the variable, not its value.
    let url = create_database(&server, &name).await.unwrap_or_else(|e| {
        panic!("{URL_VAR} is set but the case's database cannot be created there: {e:?}")
    });
    let outcome = AssertUnwindSafe(async {
        let store = PostgresStore::connect_with(&url, limits)
            .await
            .unwrap_or_else(|e| panic!("connect to the case's database {name}: {e:?}"))
            .with_secrets(secret_box());
        case(Arc::new(store)).await;
    })
    .catch_unwind()
    .await;
    // FORCE (in `drop_database`) ends the connections the store's pools still hold.
    if let Err(e) = drop_database(&server, &name).await {
        eprintln!("could not drop the case's database {name}: {e:?}");
    }
    if let Err(payload) = outcome {
        std::panic::resume_unwind(payload);
    }
}

/// `support::test_database_prefix` of the URL's database.
fn database_prefix(server_url: &str) -> String {
    let config = tokio_postgres::Config::from_str(server_url)
        .unwrap_or_else(|e| panic!("{URL_VAR} is not a PostgreSQL URL: {e}"));
    test_database_prefix(config.get_dbname())
}

/// Every `pub async fn` under `src/cases` is a case (`cases/mod.rs`); each must have its line in
/// `for_each_case!`, or it would silently never run.
#[test]
fn every_case_is_listed() {
    let mut defined = BTreeSet::new();
    collect_case_fns(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cases"),
        &mut defined,
    );
    let listed: BTreeSet<String> = numbers_store_conformance::CASES
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        listed.len(),
        numbers_store_conformance::CASES.len(),
        "a case is listed twice in for_each_case!"
    );
    let missing: Vec<&String> = defined.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "add these cases to for_each_case! in src/lib.rs (one line each): {missing:?}"
    );
}

fn collect_case_fns(dir: &Path, into: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_case_fns(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).unwrap();
            for line in source.lines() {
                if let Some(rest) = line.trim_start().strip_prefix("pub async fn ") {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    into.insert(name);
                }
            }
        }
    }
}
