//! Black-box tests of the real server over real HTTP: one test binary, a fresh database and
//! server (on port 0) per test, a manual clock so time rules are tested without sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bandwidth;
mod bandwidth_fidelity;
mod bandwidth_sdk;
mod bandwidth_subscriptions;
mod cli;
mod edge;
mod errors;
mod extremes;
mod helpers;
mod lifecycle;
mod messagemedia;
mod mm_schema;
mod number_orders;
mod openapi_drift;
mod orders;
mod outbound_urls;
mod properties;
mod receiver;
mod reservations;
mod sdk_install;
mod search;
mod search_budgets;
mod search_under_orders;
mod secrets_at_rest;
mod sinch;
mod sinch_callbacks;
mod sinch_fidelity;
mod sinch_sdk;
mod snapshots;
mod webhooks;
