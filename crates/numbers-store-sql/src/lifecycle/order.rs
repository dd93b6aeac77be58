//! `orders` and `order_items` rows: column lists, mapping, and the listing both stores run.

use numbers_core::clock::{from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::note::{NoteText, OrderNote};
use numbers_core::number::E164;
use numbers_core::order::{ItemOutcome, NewOrder, Order, OrderItem, OrderStatus};
use numbers_core::store::OrderFilter;

use super::{SqlRow, from_json, id, to_json};
use crate::{Placeholder, SqlParams, SqlValue};

pub const ORDER_COLUMNS: &str = "id, account_id, status, request, partial_allowed, backorder_requested, reservation_ids, \
template, name, customer_order_id, idempotency_key, request_fingerprint, dialect_data, created_at, updated_at, \
completed_at, closed, lease_until, version";

/// The item columns read by `read_item`, in order.
pub const ITEM_COLUMNS: &str = "order_id, e164, number_id, outcome, code, message";

/// The columns of `order_notes`, in the order `read_note` reads them.
pub const NOTE_COLUMNS: &str = "id, order_id, account_id, user_id, description, created_at";

/// The notes of an order (`$1`), oldest first.
pub const NOTES_OF: &str = "SELECT id, order_id, account_id, user_id, description, created_at \
FROM order_notes WHERE order_id = $1 ORDER BY id";

/// A row of `NOTE_COLUMNS`.
pub fn read_note(r: &impl SqlRow) -> Result<OrderNote> {
    Ok(OrderNote {
        id: r.int(0)?,
        order_id: id("order id", &r.text(1)?)?,
        account: id("account id", &r.text(2)?)?,
        text: NoteText {
            user_id: r.text(3)?,
            description: r.text(4)?,
        },
        created_at: from_millis(r.int(5)?),
    })
}

/// A row of `ORDER_COLUMNS`, without its items (the store attaches them).
pub fn read_order(r: &impl SqlRow) -> Result<Order> {
    let status = r.text(2)?;
    Ok(Order {
        new: NewOrder {
            id: id("order id", &r.text(0)?)?,
            account: id("account id", &r.text(1)?)?,
            request: from_json("order request", &r.text(3)?)?,
            partial_allowed: r.bool(4)?,
            backorder_requested: r.bool(5)?,
            reservation_ids: from_json("order reservation ids", &r.text(6)?)?,
            template: from_json("order template", &r.text(7)?)?,
            name: r.opt_text(8)?,
            customer_order_id: r.opt_text(9)?,
            idempotency_key: r.opt_text(10)?,
            request_fingerprint: r.text(11)?,
            dialect_data: from_json("order dialect data", &r.text(12)?)?,
            created_at: from_millis(r.int(13)?),
        },
        status: OrderStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored order status '{status}' is unknown")))?,
        items: Vec::new(),
        updated_at: from_millis(r.int(14)?),
        completed_at: r.opt_int(15)?.map(from_millis),
        closed: r.bool(16)?,
        version: r.int(18)?,
    })
}

/// The values of `ORDER_COLUMNS` for a new order (RECEIVED, version 1, no lease).
pub fn order_values(order: &Order) -> Result<Vec<SqlValue>> {
    let o = &order.new;
    let text = |s: &Option<String>| SqlValue::from(s.clone());
    Ok(vec![
        SqlValue::Text(o.id.to_string()),
        SqlValue::Text(o.account.to_string()),
        SqlValue::Text(order.status.as_str().into()),
        SqlValue::Text(to_json(&o.request)?),
        SqlValue::Bool(o.partial_allowed),
        SqlValue::Bool(o.backorder_requested),
        SqlValue::Text(to_json(&o.reservation_ids)?),
        SqlValue::Text(to_json(&o.template)?),
        text(&o.name),
        text(&o.customer_order_id),
        text(&o.idempotency_key),
        SqlValue::Text(o.request_fingerprint.clone()),
        SqlValue::Text(to_json(&o.dialect_data)?),
        SqlValue::Int(to_millis(o.created_at)),
        SqlValue::Int(to_millis(order.updated_at)),
        order.completed_at.map(to_millis).into(),
        SqlValue::Bool(order.closed),
        SqlValue::NullInt,
        SqlValue::Int(order.version),
    ])
}

/// A row of `ITEM_COLUMNS`: the order id and the item.
pub fn read_item(r: &impl SqlRow) -> Result<(String, OrderItem)> {
    let item = OrderItem {
        e164: r.opt_text(1)?.map(E164::from_trusted),
        number_id: r
            .opt_text(2)?
            .map(|v| id("item number id", &v))
            .transpose()?,
        outcome: if r.text(3)? == "COMPLETED" {
            ItemOutcome::Completed
        } else {
            ItemOutcome::Failed {
                code: r.opt_text(4)?.unwrap_or_default(),
                message: r.opt_text(5)?.unwrap_or_default(),
            }
        },
    };
    Ok((r.text(0)?, item))
}

/// The `outcome, code, message` columns of an item.
pub fn item_values(item: &OrderItem) -> (&'static str, Option<String>, Option<String>) {
    match &item.outcome {
        ItemOutcome::Completed => ("COMPLETED", None, None),
        ItemOutcome::Failed { code, message } => {
            ("FAILED", Some(code.clone()), Some(message.clone()))
        }
    }
}

/// The account's orders matching `f`, newest first (`created_at DESC, id DESC`), one more than
/// a page: the statement and its values.
pub fn list_orders(account: AccountId, f: &OrderFilter, style: Placeholder) -> (String, SqlParams) {
    let listing = Listing {
        table: "orders",
        columns: ORDER_COLUMNS,
        statuses: &f.statuses,
        created_from: f.created_from.map(to_millis),
        created_to: f.created_to.map(to_millis),
        customer_order_id: f.customer_order_id.as_deref(),
        before: f.before.map(|b| b.to_string()),
        page_size: f.page_size,
    };
    listing.sql(account, style)
}

/// A newest-first keyset listing of an account's orders or disconnects.
pub(super) struct Listing<'a> {
    pub table: &'static str,
    pub columns: &'static str,
    pub statuses: &'a [OrderStatus],
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    pub customer_order_id: Option<&'a str>,
    pub before: Option<String>,
    pub page_size: u32,
}

impl Listing<'_> {
    pub fn sql(&self, account: AccountId, style: Placeholder) -> (String, SqlParams) {
        let mut params = SqlParams::new(style);
        let account = params.text(account.to_string());
        let mut clauses = vec![format!("account_id = {account}")];
        if !self.statuses.is_empty() {
            let list: Vec<String> = self
                .statuses
                .iter()
                .map(|s| params.text(s.as_str()))
                .collect();
            clauses.push(format!("status IN ({})", list.join(", ")));
        }
        if let Some(from) = self.created_from {
            clauses.push(format!("created_at >= {}", params.int(from)));
        }
        if let Some(to) = self.created_to {
            clauses.push(format!("created_at <= {}", params.int(to)));
        }
        if let Some(c) = self.customer_order_id {
            clauses.push(format!("customer_order_id = {}", params.text(c)));
        }
        if let Some(before) = &self.before {
            // Keyset on (created_at, id) descending, within the account: an unknown `before`
            // (or another account's) yields an empty page.
            let p = params.text(before.clone());
            clauses.push(format!(
                "(created_at, id) < (SELECT b.created_at, b.id FROM {} b WHERE b.id = {p} AND b.account_id = {account})",
                self.table
            ));
        }
        let limit = params.int(i64::from(self.page_size) + 1);
        let sql = format!(
            "SELECT {} FROM {} WHERE {} ORDER BY created_at DESC, id DESC LIMIT {limit}",
            self.columns,
            self.table,
            clauses.join(" AND ")
        );
        (sql, params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_binds_every_filter_once() {
        let f = OrderFilter {
            statuses: vec![OrderStatus::Complete, OrderStatus::Failed],
            created_from: None,
            created_to: None,
            customer_order_id: Some("c".into()),
            page_size: 10,
            before: None,
        };
        let (sql, params) = list_orders(AccountId::new(), &f, Placeholder::DollarNumbered);
        assert!(sql.contains("status IN ($2, $3)") && sql.ends_with("LIMIT $5"));
        assert_eq!(params.values.len(), 5);
    }
}
