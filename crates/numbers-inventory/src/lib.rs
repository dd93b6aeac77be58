//! numbers-inventory turns inventory that comes from outside numbersd into
//! `numbers_core::number::NewNumber` values: a streaming CSV importer for vendor files and a
//! deterministic generator of synthetic inventory for demos, load tests and benchmarks. It never
//! touches a database; callers (the CLI) stream the values into a store in batches.

pub mod csv_import;
pub mod generate;

pub use csv_import::{COLUMNS, CsvImportError, CsvImporter, RejectedRow};
pub use generate::generate;
