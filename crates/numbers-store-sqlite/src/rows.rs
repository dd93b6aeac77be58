//! Reading and writing whole rows: numbers (through the shared `NumberRow` mapping), events,
//! orders with their items, and reservations. The store calls compose these inside their
//! transactions; every statement goes through the prepared-statement cache.

use std::sync::LazyLock;

use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::{Event, EventKind, NewEvent};
use numbers_core::ids::OrderId;
use numbers_core::number::Number;
use numbers_core::order::{ItemOutcome, NewOrder, Order, OrderItem, OrderStatus};
use numbers_core::reservation::{Reservation, ReservationStatus};
use numbers_store_sql::{NUMBER_COLUMNS, NumberRow, number_state_columns};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, Statement, params, params_from_iter};

use crate::db::{DbResult, from_json, parse_id, retry, to_json, values};

// ---- numbers ----------------------------------------------------------------------------------

pub(crate) fn number_row(r: &Row<'_>) -> rusqlite::Result<NumberRow> {
    Ok(NumberRow {
        id: r.get(0)?,
        e164: r.get(1)?,
        national: r.get(2)?,
        country: r.get(3)?,
        number_type: r.get(4)?,
        capabilities: r.get(5)?,
        classification: r.get(6)?,
        rate_center: r.get(7)?,
        state_code: r.get(8)?,
        city: r.get(9)?,
        lata: r.get(10)?,
        zip: r.get(11)?,
        tier: r.get(12)?,
        vendor_id: r.get(13)?,
        vendor_name: r.get(14)?,
        setup_price_micros: r.get(15)?,
        monthly_price_micros: r.get(16)?,
        currency: r.get(17)?,
        protected: r.get(18)?,
        state: r.get(19)?,
        owner_account_id: r.get(20)?,
        last_owner_account_id: r.get(21)?,
        assignment_id: r.get(22)?,
        reservation_id: r.get(23)?,
        reserved_until: r.get(24)?,
        available_after: r.get(25)?,
        assigned_at: r.get(26)?,
        available_from: r.get(27)?,
        assignment: r.get(28)?,
        created_at: r.get(29)?,
        updated_at: r.get(30)?,
        version: r.get(31)?,
    })
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
    let mut stmt = conn.prepare_cached(sql).db()?;
    let rows = stmt
        .query_map(params_from_iter(params), number_row)
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    rows.into_iter().map(NumberRow::into_number).collect()
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
    let placeholders: Vec<String> = (1..=NUMBER_COLUMNS.split(',').count())
        .map(|i| format!("?{i}"))
        .collect();
    format!(
        "INSERT INTO numbers ({NUMBER_COLUMNS}) VALUES ({}) ON CONFLICT (e164) DO NOTHING",
        placeholders.join(", ")
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

pub(crate) const ORDER_COLUMNS: &str = "id, account_id, status, request, partial_allowed, backorder_requested, \
reservation_ids, template, name, customer_order_id, idempotency_key, request_fingerprint, dialect_data, created_at, \
updated_at, completed_at, closed, version";

pub(crate) struct OrderRow {
    id: String,
    account_id: String,
    status: String,
    request: String,
    partial_allowed: bool,
    backorder_requested: bool,
    reservation_ids: String,
    template: String,
    name: Option<String>,
    customer_order_id: Option<String>,
    idempotency_key: Option<String>,
    request_fingerprint: String,
    dialect_data: String,
    created_at: i64,
    updated_at: i64,
    completed_at: Option<i64>,
    closed: bool,
    version: i64,
}

pub(crate) fn order_row(r: &Row<'_>) -> rusqlite::Result<OrderRow> {
    Ok(OrderRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        status: r.get(2)?,
        request: r.get(3)?,
        partial_allowed: r.get(4)?,
        backorder_requested: r.get(5)?,
        reservation_ids: r.get(6)?,
        template: r.get(7)?,
        name: r.get(8)?,
        customer_order_id: r.get(9)?,
        idempotency_key: r.get(10)?,
        request_fingerprint: r.get(11)?,
        dialect_data: r.get(12)?,
        created_at: r.get(13)?,
        updated_at: r.get(14)?,
        completed_at: r.get(15)?,
        closed: r.get(16)?,
        version: r.get(17)?,
    })
}

fn order_items(conn: &Connection, order_id: &str) -> Result<Vec<OrderItem>> {
    let mut stmt =
        conn.prepare_cached("SELECT e164, number_id, outcome, code, message FROM order_items WHERE order_id = ?1 ORDER BY seq").db()?;
    let raw = stmt
        .query_map([order_id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    raw.into_iter()
        .map(|(e164, number_id, outcome, code, message)| {
            Ok(OrderItem {
                e164: e164.map(numbers_core::number::E164::from_trusted),
                number_id: number_id
                    .as_deref()
                    .map(|s| parse_id("number id", s))
                    .transpose()?,
                outcome: match outcome.as_str() {
                    "COMPLETED" => ItemOutcome::Completed,
                    _ => ItemOutcome::Failed {
                        code: code.unwrap_or_default(),
                        message: message.unwrap_or_default(),
                    },
                },
            })
        })
        .collect()
}

/// The order of a row, with its items.
pub(crate) fn order_from_row(conn: &Connection, row: OrderRow) -> Result<Order> {
    let items = order_items(conn, &row.id)?;
    Ok(Order {
        new: NewOrder {
            id: parse_id("order id", &row.id)?,
            account: parse_id("account id", &row.account_id)?,
            request: from_json("order request", &row.request)?,
            partial_allowed: row.partial_allowed,
            backorder_requested: row.backorder_requested,
            reservation_ids: from_json("order reservation ids", &row.reservation_ids)?,
            template: from_json("order template", &row.template)?,
            name: row.name,
            customer_order_id: row.customer_order_id,
            idempotency_key: row.idempotency_key,
            request_fingerprint: row.request_fingerprint,
            dialect_data: from_json("order dialect data", &row.dialect_data)?,
            created_at: from_millis(row.created_at),
        },
        status: OrderStatus::parse(&row.status).ok_or_else(|| {
            Error::internal(format!("stored order status '{}' is unknown", row.status))
        })?,
        items,
        updated_at: from_millis(row.updated_at),
        completed_at: row.completed_at.map(from_millis),
        closed: row.closed,
        version: row.version,
    })
}

/// One order by id, only if it belongs to `account` when one is given.
pub(crate) fn load_order(
    conn: &Connection,
    account: Option<&str>,
    id: OrderId,
) -> Result<Option<Order>> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"))
        .db()?;
    let row = stmt
        .query_row([id.to_string()], order_row)
        .optional()
        .db()?;
    match row {
        Some(row) if account.is_none_or(|a| a == row.account_id) => {
            order_from_row(conn, row).map(Some)
        }
        _ => Ok(None),
    }
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
    let (outcome, code, message) = match &item.outcome {
        ItemOutcome::Completed => ("COMPLETED", None, None),
        ItemOutcome::Failed { code, message } => {
            ("FAILED", Some(code.as_str()), Some(message.as_str()))
        }
    };
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

pub(crate) const RESERVATION_COLUMNS: &str =
    "id, account_id, numbers, status, created_at, expires_at, updated_at";

type RawReservation = (String, String, String, String, i64, i64, i64);

pub(crate) fn raw_reservation(r: &Row<'_>) -> rusqlite::Result<RawReservation> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

pub(crate) fn reservation_from_raw(raw: RawReservation) -> Result<Reservation> {
    let (id, account, numbers, status, created_at, expires_at, updated_at) = raw;
    Ok(Reservation {
        id: parse_id("reservation id", &id)?,
        account: parse_id("account id", &account)?,
        numbers: from_json("reservation numbers", &numbers)?,
        status: ReservationStatus::parse(&status),
        created_at: from_millis(created_at),
        expires_at: from_millis(expires_at),
        updated_at: from_millis(updated_at),
    })
}

pub(crate) fn load_reservation(conn: &Connection, id: &str) -> Result<Option<Reservation>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = ?1"
        ))
        .db()?;
    stmt.query_row([id], raw_reservation)
        .optional()
        .db()?
        .map(reservation_from_raw)
        .transpose()
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
