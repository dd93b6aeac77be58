//! The lifecycle tables (numbers, reservations, orders with their items, disconnects, number
//! orders with their attachments and requirements) as both
//! stores read and write them: each table's column list, the mapping of its row to the domain
//! value and back to bound values, and the SQL text the two stores share. SQL is written once
//! with `$n` placeholders (PostgreSQL's); `question_numbered` turns it into SQLite's `?n`. A driver
//! implements `SqlRow` for its row type, so one mapping serves both.

mod disconnect;
mod number_order;
mod order;
mod reservation;

use numbers_core::error::{Error, Result};

use crate::number_row::NumberRow;

pub use disconnect::{DISCONNECT_COLUMNS, disconnect_values, list_disconnects, read_disconnect};
pub use number_order::{
    ALL_REQUIREMENTS, ATTACHMENT_META_COLUMNS, ATTACHMENT_WITH_CONTENT, ATTACHMENTS_OF,
    DUE_NUMBER_ORDERS, NUMBER_ORDER_COLUMNS, NUMBER_ORDER_DOCUMENT, PUT_REQUIREMENTS,
    REQUIREMENTS_BY_KEY, UPDATE_NUMBER_ORDER, UPSERT_ATTACHMENT, attachment_values,
    list_number_orders, number_order_values, read_attachment_meta, read_number_order,
    with_attachments,
};
pub use order::{
    ITEM_COLUMNS, NOTE_COLUMNS, NOTES_OF, ORDER_COLUMNS, item_values, list_orders, order_values,
    read_item, read_note, read_order,
};
pub use reservation::{
    RESERVATION_BY_ID, RESERVATION_COLUMNS, read_reservation, reservation_values,
};

/// Shared SQL text (written with `$n`) in SQLite's placeholder style (`?n`), and the INSERT of
/// every column of a list: the statement seam's own (`crate::statement`), beside the lifecycle
/// rows that use them.
pub use crate::statement::{SqlRow, insert_sql, question_numbered};

/// A stored id column back into its newtype.
pub(crate) fn id<T: std::str::FromStr>(what: &str, s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| Error::internal(format!("stored {what} '{s}' is not a UUID")))
}

/// A stored JSON column back into its value.
pub fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| Error::internal(format!("stored {what} is not valid JSON: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::internal(format!("cannot encode JSON: {e}")))
}

impl NumberRow {
    /// A row of `NUMBER_COLUMNS`, in that order.
    pub fn read(r: &impl SqlRow) -> Result<Self> {
        Ok(NumberRow {
            id: r.text(0)?,
            e164: r.text(1)?,
            national: r.text(2)?,
            country: r.text(3)?,
            number_type: r.text(4)?,
            capabilities: r.int(5)?,
            classification: r.text(6)?,
            rate_center: r.opt_text(7)?,
            state_code: r.opt_text(8)?,
            city: r.opt_text(9)?,
            lata: r.opt_text(10)?,
            zip: r.opt_text(11)?,
            tier: r.opt_int(12)?,
            vendor_id: r.opt_text(13)?,
            vendor_name: r.opt_text(14)?,
            setup_price_micros: r.opt_int(15)?,
            monthly_price_micros: r.opt_int(16)?,
            currency: r.opt_text(17)?,
            protected: r.bool(18)?,
            state: r.text(19)?,
            owner_account_id: r.opt_text(20)?,
            last_owner_account_id: r.opt_text(21)?,
            assignment_id: r.opt_text(22)?,
            reservation_id: r.opt_text(23)?,
            reserved_until: r.opt_int(24)?,
            available_after: r.opt_int(25)?,
            assigned_at: r.opt_int(26)?,
            available_from: r.opt_int(27)?,
            assignment: r.text(28)?,
            created_at: r.int(29)?,
            updated_at: r.int(30)?,
            version: r.int(31)?,
        })
    }
}
