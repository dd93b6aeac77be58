//! `reservations` rows: column list, mapping, and the statements both stores run.

use numbers_core::clock::{from_millis, to_millis};
use numbers_core::error::Result;
use numbers_core::reservation::{Reservation, ReservationStatus};

use super::{SqlRow, from_json, id, to_json};
use crate::SqlValue;

pub const RESERVATION_COLUMNS: &str =
    "id, account_id, numbers, status, created_at, expires_at, updated_at";

/// `SELECT <RESERVATION_COLUMNS> … WHERE id = $1`; a store appends its locking clause.
pub const RESERVATION_BY_ID: &str = "SELECT id, account_id, numbers, status, created_at, expires_at, updated_at FROM reservations WHERE id = $1";

/// A row of `RESERVATION_COLUMNS`.
pub fn read_reservation(r: &impl SqlRow) -> Result<Reservation> {
    Ok(Reservation {
        id: id("reservation id", &r.text(0)?)?,
        account: id("account id", &r.text(1)?)?,
        numbers: from_json("reservation numbers", &r.text(2)?)?,
        status: ReservationStatus::parse(&r.text(3)?),
        created_at: from_millis(r.int(4)?),
        expires_at: from_millis(r.int(5)?),
        updated_at: from_millis(r.int(6)?),
    })
}

/// The values of `RESERVATION_COLUMNS`, in order.
pub fn reservation_values(r: &Reservation) -> Result<Vec<SqlValue>> {
    Ok(vec![
        SqlValue::Text(r.id.to_string()),
        SqlValue::Text(r.account.to_string()),
        SqlValue::Text(to_json(&r.numbers)?),
        SqlValue::Text(r.status.as_str().into()),
        SqlValue::Int(to_millis(r.created_at)),
        SqlValue::Int(to_millis(r.expires_at)),
        SqlValue::Int(to_millis(r.updated_at)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_name_the_columns_in_order() {
        assert!(RESERVATION_BY_ID.contains(RESERVATION_COLUMNS));
        assert_eq!(
            super::super::insert_sql("reservations", RESERVATION_COLUMNS),
            "INSERT INTO reservations (id, account_id, numbers, status, created_at, expires_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
        );
    }
}
