//! One module per command family. Commands act as the operator directly on the database (whoever
//! can run them can read the database file anyway).

pub mod accounts;
pub mod bench;
pub mod demo;
pub mod inventory;
pub mod number_orders;
pub mod secrets;
pub mod serve;
