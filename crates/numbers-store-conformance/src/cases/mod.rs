//! The cases, grouped by area of the Store contract. Each is a `pub async fn(Arc<dyn Store>)`
//! that expects a fresh empty database and panics with a precise message on the first deviation.

mod accounts;
mod bandwidth;
mod counts;
mod digit_search;
mod emergency_addresses;
mod inventory;
mod number_orders;
mod numbers;
mod orders;
mod provisioning;
mod reservations;
mod search_budget;
mod secrets;
mod webhooks;

pub use accounts::*;
pub use bandwidth::*;
pub use counts::*;
pub use digit_search::*;
pub use emergency_addresses::*;
pub use inventory::*;
pub use number_orders::*;
pub use numbers::*;
pub use orders::*;
pub use provisioning::*;
pub use reservations::*;
pub use search_budget::*;
pub use secrets::*;
pub use webhooks::*;
