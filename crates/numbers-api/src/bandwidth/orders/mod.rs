//! `/accounts/{id}/orders`: an `<Order>` (common fields plus exactly one of the eleven order-type
//! elements) becomes one core order — the numbers it wins are ASSIGNED in the core, visible
//! through every dialect — carrying its Bandwidth echo (order type element and its fields) in
//! `dialect_data` and its SiteId / PeerId / TnAttributes in the assignment template. Also the
//! order's status document, list, backorder close (PUT), history, TNs (also counted by area code, NPA-NXX and in total) and notes. `parse` reads
//! the wire (the `<Order>` document, the list's query), `render` writes Bandwidth's documents,
//! `handlers` are the routes in between.

mod handlers;
mod parse;
mod render;

pub use handlers::{
    add_note, area_codes, create, get, history, list, notes, npa_nxx, tns, totals, update,
};
