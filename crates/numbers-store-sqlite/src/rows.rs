//! Reading and writing whole rows: numbers (through the shared `NumberRow` mapping), events,
//! orders with their items, and reservations. The store calls compose these inside their
//! transactions; every statement goes through the prepared-statement cache.

use std::sync::LazyLock;

use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::{Event, EventKind, NewEvent};
use numbers_core::ids::OrderId;
use numbers_core::number::{Number, NumberChange};
use numbers_core::order::{Order, OrderItem};
use numbers_core::reservation::Reservation;
use numbers_store_sql::lifecycle::{
    ITEM_COLUMNS, ORDER_COLUMNS, RESERVATION_BY_ID, SqlRow, insert_sql, item_values,
    question_numbered, read_item, read_order, read_reservation,
};
use numbers_store_sql::{NUMBER_COLUMNS, NumberRow, number_state_columns};
use rusqlite::types::Value;
use rusqlite::{Connection, Row, Statement, params, params_from_iter};

use crate::db::{DbResult, from_json, parse_id, retry, to_json, values};

// ---- numbers ----------------------------------------------------------------------------------

/// A rusqlite row as the shared row mappings read it (`numbers_store_sql::SqlRow`).
pub(crate) struct SqliteRow<'a, 'r>(pub &'a Row<'r>);

impl SqlRow for SqliteRow<'_, '_> {
    fn text(&self, i: usize) -> Result<String> {
        self.0.get(i).db()
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        self.0.get(i).db()
    }
    fn int(&self, i: usize) -> Result<i64> {
        self.0.get(i).db()
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        self.0.get(i).db()
    }
    fn bool(&self, i: usize) -> Result<bool> {
        self.0.get(i).db()
    }
}

/// Runs a cached statement and maps every row through `read`.
pub(crate) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    read: impl Fn(&SqliteRow<'_, '_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let mut rows = stmt.query(params).db()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        out.push(read(&SqliteRow(row))?);
    }
    Ok(out)
}

/// Whole numbers selected by `where_sql` (already with its ORDER BY / LIMIT) and its values.
pub(crate) fn select_numbers(
    conn: &Connection,
    tail: &str,
    params: Vec<Value>,
) -> Result<Vec<Number>> {
    query_numbers(
        conn,
        &format!("SELECT {NUMBER_COLUMNS} FROM numbers WHERE {tail}"),
        params,
    )
}

/// Whole numbers selected by a complete statement (its columns `NUMBER_COLUMNS`).
pub(crate) fn query_numbers(
    conn: &Connection,
    sql: &str,
    params: Vec<Value>,
) -> Result<Vec<Number>> {
    query_all(conn, sql, params_from_iter(params), |r| {
        NumberRow::read(r)?.into_number()
    })
}

pub(crate) fn number_by_e164(conn: &Connection, e164: &str) -> Result<Option<Number>> {
    Ok(
        select_numbers(conn, "e164 = ?1", vec![Value::Text(e164.to_string())])?
            .into_iter()
            .next(),
    )
}

pub(crate) fn number_by_id(conn: &Connection, id: &str) -> Result<Option<Number>> {
    Ok(
        select_numbers(conn, "id = ?1", vec![Value::Text(id.to_string())])?
            .into_iter()
            .next(),
    )
}

pub(crate) static INSERT_NUMBER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{} ON CONFLICT (e164) DO NOTHING",
        question_numbered(&insert_sql("numbers", NUMBER_COLUMNS))
    )
});

/// Inserts a new number unless its E.164 exists; true if it was inserted. Takes the prepared
/// `INSERT_NUMBER` statement so a bulk import prepares (and looks up in the cache) only once.
pub(crate) fn insert_number(stmt: &mut Statement<'_>, n: &NumberRow) -> Result<bool> {
    let changed = stmt
        .execute(params![
            n.id,
            n.e164,
            n.national,
            n.country,
            n.number_type,
            n.capabilities,
            n.classification,
            n.rate_center,
            n.state_code,
            n.city,
            n.lata,
            n.zip,
            n.tier,
            n.vendor_id,
            n.vendor_name,
            n.setup_price_micros,
            n.monthly_price_micros,
            n.currency,
            n.protected,
            n.state,
            n.owner_account_id,
            n.last_owner_account_id,
            n.assignment_id,
            n.reservation_id,
            n.reserved_until,
            n.available_after,
            n.assigned_at,
            n.available_from,
            n.assignment,
            n.created_at,
            n.updated_at,
            n.version,
        ])
        .db()?;
    Ok(changed == 1)
}

static UPDATE_NUMBER: LazyLock<String> = LazyLock::new(|| {
    let columns = number_state_columns();
    let sets: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect();
    let k = columns.len();
    format!(
        "UPDATE numbers SET {}, version = ?{} WHERE id = ?{} AND version = ?{}",
        sets.join(", "),
        k + 1,
        k + 2,
        k + 3
    )
});

/// Writes the lifecycle columns of `n` (whose `version` is already the new one) if the row is
/// still at `n.version - 1`; a lost race is `Error::retry`.
pub(crate) fn update_number(conn: &Connection, n: &Number) -> Result<()> {
    let mut vals = values(&NumberRow::state_values(n)?);
    vals.push(Value::Integer(n.version));
    vals.push(Value::Text(n.id.to_string()));
    vals.push(Value::Integer(n.version - 1));
    let mut stmt = conn.prepare_cached(&UPDATE_NUMBER).db()?;
    match stmt.execute(params_from_iter(vals)).db()? {
        1 => Ok(()),
        _ => Err(retry(format!("number {} changed concurrently", n.e164))),
    }
}

/// Saves one transition of core's: the number's new state, then its event.
pub(crate) fn save_number(conn: &Connection, change: &NumberChange) -> Result<()> {
    update_number(conn, &change.number)?;
    insert_event(conn, &change.event)
}

// ---- events -----------------------------------------------------------------------------------

pub(crate) fn insert_event(conn: &Connection, e: &NewEvent) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO events (id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .db()?;
    stmt.execute(params![
        e.id.to_string(),
        e.kind.as_str(),
        to_millis(e.at),
        e.account_id.map(|v| v.to_string()),
        e.number_id.map(|v| v.to_string()),
        e.e164.as_ref().map(|v| v.as_str()),
        e.order_id.map(|v| v.to_string()),
        e.reservation_id.map(|v| v.to_string()),
        e.resource_version,
        to_json(&e.details)?,
    ])
    .db()?;
    Ok(())
}

/// The event of a change to one number, with the number's fields filled in.
pub(crate) fn number_event(kind: EventKind, n: &Number, at: Timestamp) -> NewEvent {
    let mut e = NewEvent::new(kind, at);
    e.number_id = Some(n.id);
    e.e164 = Some(n.e164.clone());
    e.resource_version = n.version;
    e
}

pub(crate) const EVENT_COLUMNS: &str = "seq, id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details";

type RawEvent = (
    i64,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    String,
);

pub(crate) fn raw_event(r: &Row<'_>) -> rusqlite::Result<RawEvent> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

pub(crate) fn event_from_raw(raw: RawEvent) -> Result<Event> {
    let (seq, id, kind, at, account, number, e164, order, reservation, version, details) = raw;
    Ok(Event {
        seq,
        event: NewEvent {
            id: parse_id("event id", &id)?,
            kind: EventKind::parse(&kind)
                .ok_or_else(|| Error::internal(format!("stored event kind '{kind}' is unknown")))?,
            at: from_millis(at),
            account_id: account
                .as_deref()
                .map(|s| parse_id("account id", s))
                .transpose()?,
            number_id: number
                .as_deref()
                .map(|s| parse_id("number id", s))
                .transpose()?,
            e164: e164.map(numbers_core::number::E164::from_trusted),
            order_id: order
                .as_deref()
                .map(|s| parse_id("order id", s))
                .transpose()?,
            reservation_id: reservation
                .as_deref()
                .map(|s| parse_id("reservation id", s))
                .transpose()?,
            resource_version: version,
            details: from_json("event details", &details)?,
        },
    })
}

// ---- orders -----------------------------------------------------------------------------------

/// Orders selected by `sql` (of `ORDER_COLUMNS`), each with its items.
pub(crate) fn query_orders(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Order>> {
    let mut orders = query_all(conn, sql, params, |r| read_order(r))?;
    for order in &mut orders {
        order.items = query_all(
            conn,
            &format!("SELECT {ITEM_COLUMNS} FROM order_items WHERE order_id = ?1 ORDER BY seq"),
            [order.id().to_string()],
            |r| Ok(read_item(r)?.1),
        )?;
    }
    Ok(orders)
}

/// One order by id, only if it belongs to `account` when one is given.
pub(crate) fn load_order(
    conn: &Connection,
    account: Option<&str>,
    id: OrderId,
) -> Result<Option<Order>> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1");
    Ok(query_orders(conn, &sql, [id.to_string()])?
        .pop()
        .filter(|o| account.is_none_or(|a| a == o.new.account.to_string())))
}

pub(crate) fn insert_order_item(
    conn: &Connection,
    order: OrderId,
    seq: i64,
    item: &OrderItem,
) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO order_items (order_id, seq, e164, number_id, outcome, code, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .db()?;
    let (outcome, code, message) = item_values(item);
    stmt.execute(params![
        order.to_string(),
        seq,
        item.e164.as_ref().map(|e| e.as_str()),
        item.number_id.map(|n| n.to_string()),
        outcome,
        code,
        message,
    ])
    .db()?;
    Ok(())
}

/// Writes status, timestamps, closed flag and version of `order` (already bumped) if the row is
/// still at the previous version; the lease is cleared or set as given.
pub(crate) fn update_order(
    conn: &Connection,
    order: &Order,
    lease_until: Option<i64>,
) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(
            "UPDATE orders SET status = ?1, updated_at = ?2, completed_at = ?3, closed = ?4, lease_until = ?5, version = ?6 \
             WHERE id = ?7 AND version = ?8",
        )
        .db()?;
    let changed = stmt
        .execute(params![
            order.status.as_str(),
            to_millis(order.updated_at),
            order.completed_at.map(to_millis),
            order.closed,
            lease_until,
            order.version,
            order.id().to_string(),
            order.version - 1,
        ])
        .db()?;
    match changed {
        1 => Ok(()),
        _ => Err(retry(format!("order {} changed concurrently", order.id()))),
    }
}

// ---- reservations -----------------------------------------------------------------------------

pub(crate) fn load_reservation(conn: &Connection, id: &str) -> Result<Option<Reservation>> {
    Ok(
        query_all(conn, &question_numbered(RESERVATION_BY_ID), [id], |r| {
            read_reservation(r)
        })?
        .pop(),
    )
}

pub(crate) fn set_reservation_status(conn: &Connection, r: &Reservation) -> Result<()> {
    let mut stmt = conn
        .prepare_cached("UPDATE reservations SET status = ?1, updated_at = ?2 WHERE id = ?3")
        .db()?;
    stmt.execute(params![
        r.status.as_str(),
        to_millis(r.updated_at),
        r.id.to_string()
    ])
    .db()?;
    Ok(())
}
