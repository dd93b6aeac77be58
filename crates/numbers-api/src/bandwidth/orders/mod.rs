//! `/accounts/{id}/orders`: an `<Order>` (common fields plus exactly one of the eleven order-type
//! elements) becomes one core order — the numbers it wins are ASSIGNED in the core, visible
//! through every dialect — carrying its Bandwidth echo (order type element and its fields) in
//! `dialect_data` and its SiteId / PeerId / TnAttributes in the assignment template. Also the
//! order's status document, list, backorder close (PUT), history, TNs and notes. `parse` reads
//! the wire (the `<Order>` document, the list's query), `render` writes Bandwidth's documents,
//! `handlers` are the routes in between.

mod handlers;
mod parse;
mod render;

pub use handlers::{add_note, create, get, history, list, notes, tns, update};
