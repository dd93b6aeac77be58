//! What the SQLite and PostgreSQL stores have in common, without a database driver: the column
//! list of `numbers`, the mapping of a row of plain values to a domain `Number` and back, the
//! translation of a `SearchQuery` / `NumberFilter` into a WHERE clause, and the rows of the
//! webhook tables. Both schemas use the same portable column types (TEXT ids, BIGINT epoch
//! milliseconds, INTEGER capability bit mask, TEXT JSON), so one translation serves both; only the
//! placeholder style differs. Also the digit index (`digit_index`), the in-memory cache both
//! stores answer contains / ends-with searches with.
#![forbid(unsafe_code)]

mod bulk_load;
mod count_sql;
pub mod digit_index;
pub mod emergency_row;
mod number_row;
mod provisioning_row;
pub mod sealed_fields;
pub mod search_plan;
mod search_sql;
mod webhook_rows;

pub use bulk_load::{inventory_is_empty_sql, search_indexes};
pub use count_sql::count_sql;
pub use number_row::available_from;
pub use number_row::{NUMBER_COLUMNS, NumberRow, number_state_columns};
pub use provisioning_row::{PROVISIONING_COLUMNS, ProvisioningRow};
pub use search_sql::{
    Placeholder, SqlParams, SqlValue, account_filter_matches, account_numbers_where,
};
pub use webhook_rows::{
    DELIVERY_COLUMNS, DeliveryRow, GONE_REASON, SUBSCRIPTION_COLUMNS, SubscriptionRow,
    attempt_result_columns,
};
