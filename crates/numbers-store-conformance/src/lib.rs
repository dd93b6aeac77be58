//! The conformance suite every numbersd `Store` must pass (SQLite and PostgreSQL alike). It owns
//! the executable form of `docs/STORE-SEMANTICS.md`: each case drives one area of the contract
//! through the public `Store` trait only, on a fresh empty database, and checks results against
//! the domain's reference rules (`SearchQuery::matches`, `Number::is_publicly_available`,
//! `Number::claimable_by`, `order::plan_*`). Time is passed explicitly (`now` arguments), so no
//! clock and no sleeping is involved.
//!
//! A store crate wires it in with a `StoreFactory` and one test:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! async fn conformance() {
//!     numbers_store_conformance::run_all(&MyFactory).await;
//! }
//! ```
//!
//! and can run one case alone while debugging (`numbers_store_conformance::order_race(store)`).
#![forbid(unsafe_code)]

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
use numbers_core::store::Store;

mod cases;
pub mod fixtures;
pub mod query_shapes;
pub mod support;

pub use cases::*;

/// Hands the suite a fresh, empty, migrated database for each case.
#[async_trait::async_trait]
pub trait StoreFactory: Send + Sync {
    async fn fresh(&self) -> Arc<dyn Store>;
}

type Case = fn(Arc<dyn Store>) -> BoxFuture<'static, ()>;

macro_rules! suite {
    ($($name:ident),+ $(,)?) => {
        /// The names of every case, in the order `run_all` runs them.
        pub const CASES: &[&str] = &[$(stringify!($name)),+];

        const CASE_FNS: &[(&str, Case)] = &[$((stringify!($name), |store| Box::pin($name(store)))),+];
    };
}

suite!(
    health,
    accounts_and_keys,
    import_numbers,
    search_facets,
    search_paging,
    search_excludes_unavailable,
    reservation_lifecycle,
    reservation_all_or_nothing,
    reservation_expiry,
    order_create_and_idempotency,
    order_claim_next,
    order_explicit_complete,
    order_explicit_partial,
    order_all_or_nothing,
    order_with_reservation,
    order_search,
    order_backorder,
    order_get_and_list,
    list_totals,
    order_race,
    release_and_aging,
    update_assignment_patch,
    list_account_numbers_filters,
    list_events_filters,
    event_polling_is_gap_free,
    inventory_stats,
    number_requirements_store,
    number_order_lifecycle,
    number_order_expiry,
    sites_and_peers,
    disconnect_processing,
    order_notes,
    access_tokens,
    callback_secrets,
    secrets_at_rest,
    provisioning_queue,
    catalog_regions_and_counts,
    webhook_subscriptions,
    webhook_fanout_cursor,
    webhook_claims_and_attempts,
    webhook_claim_race,
    digit_search_follows_imports_and_sales,
    bulk_load_sets_indexes_aside_only_when_empty,
);

/// Runs every case, each on `factory.fresh().await`, printing its name first; panics with the
/// case name and the failure on the first case that fails.
pub async fn run_all<F: StoreFactory>(factory: &F) {
    for (name, case) in CASE_FNS {
        run_case(factory, name, *case).await;
    }
}

/// Runs the one named case on a fresh store (the names are in `CASES`).
pub async fn run_named<F: StoreFactory>(factory: &F, name: &str) {
    let (name, case) = CASE_FNS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no conformance case named {name}; the cases are {CASES:?}"));
    run_case(factory, name, *case).await;
}

async fn run_case<F: StoreFactory>(factory: &F, name: &str, case: Case) {
    println!("conformance case: {name}");
    let store = factory.fresh().await;
    // Catch the panic so the report names the case; the panic hook has already printed the
    // original message with its location.
    if let Err(payload) = AssertUnwindSafe(case(store)).catch_unwind().await {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "(non-string panic payload)".to_string());
        panic!("conformance case `{name}` failed: {message}");
    }
}
