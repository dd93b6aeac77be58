//! What the SQLite and PostgreSQL stores have in common, without a database driver. Both schemas
//! use the same portable column types (TEXT ids, BIGINT epoch milliseconds, INTEGER capability bit
//! mask, TEXT JSON), so one translation serves both; only the placeholder style differs, and
//! `statement` bridges it: SQL is written once with `$1` placeholders (`Statement`), a driver
//! hands rows over through `SqlRow`, and each row type builds itself with `FromRow`. Here: the
//! column list of `numbers` and its mapping to a domain `Number` and back, the translation of a
//! `SearchQuery` / `NumberFilter` into a WHERE clause, the rows and statements of accounts and
//! keys (`account_rows`), tokens and callback secrets (`token_rows`), sites and peers
//! (`site_rows`), provisioning tasks (`provisioning_row`), the webhook tables (`webhook_rows`),
//! sealed columns (`sealed_fields`), the catalog (`catalog`), emergency addresses (`emergency_row`)
//! and the lifecycle tables: numbers, reservations, orders, disconnects, number orders
//! (`lifecycle`). Also the digit index
//! (`digit_index`), the in-memory cache both stores answer contains / ends-with searches with.
#![forbid(unsafe_code)]

pub mod account_rows;
mod bulk_load;
pub mod catalog;
mod count_sql;
pub mod digit_index;
pub mod emergency_row;
pub mod lifecycle;
mod number_row;
pub mod provisioning_row;
pub mod sealed_fields;
pub mod search_plan;
mod search_sql;
pub mod site_rows;
mod statement;
pub mod token_rows;
pub mod webhook_rows;

pub use bulk_load::{inventory_is_empty_sql, search_indexes};
pub use count_sql::count_sql;
pub use number_row::available_from;
pub use number_row::{NUMBER_COLUMNS, NumberRow, number_state_columns};
pub use provisioning_row::{PROVISIONING_COLUMNS, ProvisioningRow};
pub use search_sql::{
    Placeholder, SqlParams, SqlValue, account_filter_matches, account_numbers_where,
};
pub use statement::{
    FromRow, SqlRow, Statement, UniqueKey, column_count, insert_sql, placeholders,
    question_numbered,
};
pub use webhook_rows::{DELIVERY_COLUMNS, DeliveryRow, SUBSCRIPTION_COLUMNS, SubscriptionRow};
