//! `disconnects` rows: column list, mapping, and the listing both stores run.

use numbers_core::clock::{from_millis, to_millis};
use numbers_core::disconnect::{Disconnect, NewDisconnect};
use numbers_core::error::{Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::order::OrderStatus;
use numbers_core::store::DisconnectFilter;

use super::order::Listing;
use super::{SqlRow, from_json, id, to_json};
use crate::{Placeholder, SqlParams, SqlValue};

pub const DISCONNECT_COLUMNS: &str = "id, account_id, status, numbers, mode, protected, name, customer_order_id, items, created_at, updated_at, completed_at";

/// A string enum (`mode`, `protected`) as its serde name.
fn enum_text<T: serde::Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v).map_err(Error::internal)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(Error::internal(format!(
            "expected a string enum, got {other}"
        ))),
    }
}

fn enum_from<T: serde::de::DeserializeOwned>(what: &str, s: String) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s))
        .map_err(|e| Error::internal(format!("stored {what} is not valid: {e}")))
}

/// A row of `DISCONNECT_COLUMNS`.
pub fn read_disconnect(r: &impl SqlRow) -> Result<Disconnect> {
    let status = r.text(2)?;
    Ok(Disconnect {
        new: NewDisconnect {
            id: id("disconnect id", &r.text(0)?)?,
            account: id("account id", &r.text(1)?)?,
            numbers: from_json("disconnect numbers", &r.text(3)?)?,
            mode: enum_from("disconnect mode", r.text(4)?)?,
            protected: enum_from("disconnect protected", r.text(5)?)?,
            name: r.opt_text(6)?,
            customer_order_id: r.opt_text(7)?,
            created_at: from_millis(r.int(9)?),
        },
        status: OrderStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored disconnect status {status}")))?,
        items: from_json("disconnect items", &r.text(8)?)?,
        updated_at: from_millis(r.int(10)?),
        completed_at: r.opt_int(11)?.map(from_millis),
    })
}

/// The values of `DISCONNECT_COLUMNS`, in order.
pub fn disconnect_values(d: &Disconnect) -> Result<Vec<SqlValue>> {
    Ok(vec![
        SqlValue::Text(d.id().to_string()),
        SqlValue::Text(d.new.account.to_string()),
        SqlValue::Text(d.status.as_str().into()),
        SqlValue::Text(to_json(&d.new.numbers)?),
        SqlValue::Text(enum_text(&d.new.mode)?),
        SqlValue::Text(enum_text(&d.new.protected)?),
        d.new.name.clone().into(),
        d.new.customer_order_id.clone().into(),
        SqlValue::Text(to_json(&d.items)?),
        SqlValue::Int(to_millis(d.new.created_at)),
        SqlValue::Int(to_millis(d.updated_at)),
        d.completed_at.map(to_millis).into(),
    ])
}

/// The account's disconnects matching `f`, newest first, one more than a page.
pub fn list_disconnects(
    account: AccountId,
    f: &DisconnectFilter,
    style: Placeholder,
) -> (String, SqlParams) {
    let listing = Listing {
        table: "disconnects",
        columns: DISCONNECT_COLUMNS,
        statuses: &f.statuses,
        created_from: f.created_from.map(to_millis),
        created_to: f.created_to.map(to_millis),
        customer_order_id: None,
        before: f.before.map(|b| b.to_string()),
        page_size: f.page_size,
    };
    listing.sql(account, style)
}
