//! The conformance suite every numbersd `Store` must pass (SQLite and PostgreSQL alike). It owns
//! the executable form of `docs/STORE-SEMANTICS.md`: each case drives one area of the contract
//! through the public `Store` trait only, on a fresh empty database, and checks results against
//! the domain's reference rules (`SearchQuery::matches`, `Number::is_publicly_available`,
//! `Number::claimable_by`, `order::plan_*`). Time is passed explicitly (`now` arguments), so no
//! clock and no sleeping is involved.
//!
//! `tests/conformance.rs` runs every case against both stores as its own test (`sqlite::<case>`
//! and `postgres::<case>`), each on its own fresh database, so cases run in parallel and one
//! failure hides none of the others. The list of cases is `for_each_case!`; a test fails when a
//! case function is missing from it. One case alone: `cargo test -p numbers-store-conformance
//! sqlite::order_race`.
#![forbid(unsafe_code)]

mod cases;
pub mod fixtures;
pub mod query_shapes;
pub mod support;

pub use cases::*;

/// Calls the macro `$callback` with every case, one line each: `name` for a case run on a store
/// opened with the default search limits, `name with LIMITS` for one opened with the
/// `SearchLimits` constant `LIMITS` (of this crate). Adding a case is adding its line here (the
/// test `every_case_is_listed` fails until it is).
#[macro_export]
macro_rules! for_each_case {
    ($callback:ident) => {
        $callback! {
            health,
            accounts_and_keys,
            import_numbers,
            search_facets,
            search_paging,
            search_excludes_unavailable,
            search_budgets with SMALL_LIMITS,
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
            emergency_addresses,
        }
    };
}

macro_rules! case_names {
    ($($name:ident $(with $limits:ident)?),+ $(,)?) => {
        /// The names of every case in `for_each_case!`, in its order.
        pub const CASES: &[&str] = &[$(stringify!($name)),+];
    };
}

for_each_case!(case_names);
