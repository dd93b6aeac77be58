//! `OrderStore`: storing orders (idempotently), listing them, the worker's claim / lease, and
//! one fulfilment attempt. The partial / backorder decisions are `order::plan_explicit` and
//! `plan_search`; this module only finds the candidates and applies the plan, and the unique
//! index on live assignments makes a double sale impossible even if a decision were wrong.

use std::collections::{BTreeSet, HashSet};

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::{EventKind, NewEvent};
use numbers_core::ids::{AccountId, AssignmentId, OrderId, ReservationId};
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{AssignmentData, Number, NumberState};
use numbers_core::order::{
    ExplicitCandidate, ItemOutcome, NewOrder, Order, OrderItem, OrderRequest, OrderStatus,
    plan_explicit, plan_search, status_after_close,
};
use numbers_core::reservation::ReservationStatus;
use numbers_core::store::{CreatedOrder, OrderFilter, OrderStore};
use numbers_store_sql::{Placeholder, SqlParams, SqlValue};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use crate::SqliteStore;
use crate::db::{DbResult, is_unique_violation, retry, to_json, values};
use crate::rows::{
    ORDER_COLUMNS, insert_event, insert_order_item, load_order, load_reservation, number_by_e164,
    order_from_row, order_row, set_reservation_status, update_order,
};

fn order_event(kind: EventKind, order: &Order, at: Timestamp) -> NewEvent {
    let mut e = NewEvent::new(kind, at);
    e.account_id = Some(order.new.account);
    e.order_id = Some(order.id());
    e.resource_version = order.version;
    e
}

fn insert_order(conn: &Connection, o: &NewOrder) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "INSERT INTO orders ({ORDER_COLUMNS}, lease_until) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, NULL)"
        ))
        .db()?;
    stmt.execute(params![
        o.id.to_string(),
        o.account.to_string(),
        OrderStatus::Received.as_str(),
        to_json(&o.request)?,
        o.partial_allowed,
        o.backorder_requested,
        to_json(&o.reservation_ids)?,
        to_json(&o.template)?,
        o.name,
        o.customer_order_id,
        o.idempotency_key,
        o.request_fingerprint,
        to_json(&o.dialect_data)?,
        to_millis(o.created_at),
        to_millis(o.created_at),
        Option::<i64>::None,
        false,
        1_i64,
    ])
    .map_err(|e| {
        if is_unique_violation(&e) {
            // The idempotency key is looked up first inside this transaction, so this is the id.
            Error::conflict(
                numbers_core::error::ConflictKind::OrderExists,
                format!("order {} already exists", o.id),
            )
        } else {
            Error::internal(format!("sqlite: {e}"))
        }
    })?;
    Ok(())
}

/// Moves one claimed number to ASSIGNED for the order and records its assignment, item and
/// event. Returns the reservation it was held under, if it was the account's own.
fn assign(
    conn: &Connection,
    order: &mut Order,
    mut n: Number,
    template: &AssignmentPatch,
    now: Timestamp,
) -> Result<Option<ReservationId>> {
    let account = order.new.account;
    let held_under = (n.state == NumberState::Reserved && n.owner == Some(account))
        .then_some(n.reservation_id)
        .flatten();
    let assignment_id = AssignmentId::new();
    n.state = NumberState::Assigned;
    n.owner = Some(account);
    n.assignment_id = Some(assignment_id);
    n.reservation_id = None;
    n.reserved_until = None;
    n.available_after = None;
    n.assigned_at = Some(now);
    let mut data = AssignmentData::default();
    template.apply(&mut data);
    n.assignment = data;
    n.version += 1;
    n.updated_at = now;
    crate::rows::update_number(conn, &n)?;
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO assignments (id, number_id, account_id, order_id, created_at, released_at) VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
        )
        .db()?;
    stmt.execute(params![
        assignment_id.to_string(),
        n.id.to_string(),
        account.to_string(),
        order.id().to_string(),
        to_millis(now)
    ])
    .map_err(|e| {
        if is_unique_violation(&e) {
            retry(format!("number {} already has a live assignment", n.e164))
        } else {
            Error::internal(format!("sqlite: {e}"))
        }
    })?;
    let item = OrderItem {
        e164: Some(n.e164.clone()),
        number_id: Some(n.id),
        outcome: ItemOutcome::Completed,
    };
    insert_order_item(conn, order.id(), order.items.len() as i64, &item)?;
    order.items.push(item);
    let mut event = crate::rows::number_event(EventKind::NumberAssigned, &n, now);
    event.account_id = Some(account);
    event.order_id = Some(order.id());
    insert_event(conn, &event)?;
    Ok(held_under)
}

/// A reservation whose numbers have all been ordered becomes ORDERED.
fn settle_reservation(conn: &Connection, id: ReservationId, now: Timestamp) -> Result<()> {
    let Some(mut r) = load_reservation(conn, &id.to_string())? else {
        return Ok(());
    };
    if r.status != ReservationStatus::Active {
        return Ok(());
    }
    for e164 in &r.numbers {
        let still_held = number_by_e164(conn, e164.as_str())?
            .is_some_and(|n| n.state == NumberState::Reserved && n.reservation_id == Some(id));
        if still_held {
            return Ok(());
        }
    }
    r.status = ReservationStatus::Ordered;
    r.updated_at = now;
    set_reservation_status(conn, &r)
}

fn fulfil(conn: &Connection, id: OrderId, now: Timestamp) -> Result<Order> {
    let mut order = load_order(conn, None, id)?
        .ok_or_else(|| Error::not_found(numbers_core::error::Resource::Order, id))?;
    if order.status.is_final() {
        return Ok(order);
    }
    if order.begin_processing(now) {
        update_order(conn, &order, None)?;
        insert_event(conn, &order_event(EventKind::OrderProcessing, &order, now))?;
    }
    let plan = match &order.new.request {
        OrderRequest::Numbers(numbers) => {
            let won: HashSet<&str> = order
                .completed()
                .filter_map(|i| i.e164.as_ref().map(|e| e.as_str()))
                .collect();
            // E.164 order: the lock order the PostgreSQL store uses; kept the same here so both
            // stores record items in the same order.
            let pending: BTreeSet<_> = numbers
                .iter()
                .filter(|e| !won.contains(e.as_str()))
                .cloned()
                .collect();
            let mut candidates = Vec::with_capacity(pending.len());
            for e164 in pending {
                let number = number_by_e164(conn, e164.as_str())?;
                candidates.push(ExplicitCandidate { e164, number });
            }
            plan_explicit(&order, candidates, now)
        }
        OrderRequest::Search { query, .. } => {
            let mut query = query.clone();
            query.after = None;
            let wanted = order.remaining_quantity() as usize;
            let candidates = crate::search::matching(conn, &query, now, wanted, None)?;
            plan_search(&order, candidates, now)
        }
    };

    let template = AssignmentPatch::from_data(&order.new.template);
    let mut reservations = BTreeSet::new();
    for n in plan.claims {
        if let Some(r) = assign(conn, &mut order, n, &template, now)? {
            reservations.insert(r);
        }
    }
    for r in reservations {
        settle_reservation(conn, r, now)?;
    }
    for item in plan.failures {
        insert_order_item(conn, order.id(), order.items.len() as i64, &item)?;
        order.items.push(item);
    }

    let previous = order.status;
    order.status = plan.status;
    if order.status.is_final() {
        order.completed_at = Some(now);
    }
    order.version += 1;
    order.updated_at = now;
    update_order(conn, &order, None)?;
    let kind = match order.status {
        OrderStatus::Complete => Some(EventKind::OrderCompleted),
        OrderStatus::Partial => Some(EventKind::OrderPartial),
        OrderStatus::Failed => Some(EventKind::OrderFailed),
        // A retried backorder that is still waiting has nothing new to say.
        OrderStatus::Backordered if previous != OrderStatus::Backordered => {
            Some(EventKind::OrderBackordered)
        }
        _ => None,
    };
    if let Some(kind) = kind {
        let mut event = order_event(kind, &order, now);
        event.details = order.outcome_details();
        insert_event(conn, &event)?;
    }
    Ok(order)
}

#[async_trait]
impl OrderStore for SqliteStore {
    async fn create_order(&self, order: &NewOrder) -> Result<CreatedOrder> {
        let o = order.clone();
        self.write(move |tx| {
            if let Some(key) = &o.idempotency_key {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT id FROM orders WHERE account_id = ?1 AND idempotency_key = ?2",
                    )
                    .db()?;
                let existing: Option<String> = stmt
                    .query_row(params![o.account.to_string(), key], |r| r.get(0))
                    .optional()
                    .db()?;
                if let Some(existing) = existing {
                    let existing_id = crate::db::parse_id("order id", &existing)?;
                    let earlier = load_order(tx, None, existing_id)?
                        .ok_or_else(|| Error::internal("order vanished"))?;
                    if earlier.new.request_fingerprint == o.request_fingerprint {
                        return Ok(CreatedOrder::Existing(earlier));
                    }
                    return Err(Error::conflict(
                        numbers_core::error::ConflictKind::IdempotencyKeyReused,
                        "this idempotency key was already used with a different request",
                    ));
                }
            }
            insert_order(tx, &o)?;
            let created_at = o.created_at;
            let order = Order {
                new: o,
                status: OrderStatus::Received,
                items: Vec::new(),
                updated_at: created_at,
                completed_at: None,
                closed: false,
                version: 1,
            };
            insert_event(
                tx,
                &order_event(EventKind::OrderReceived, &order, created_at),
            )?;
            Ok(CreatedOrder::Created(order))
        })
        .await
    }

    async fn get_order(&self, account: Option<AccountId>, id: OrderId) -> Result<Option<Order>> {
        self.read(move |tx| load_order(tx, account.map(|a| a.to_string()).as_deref(), id))
            .await
    }

    async fn list_orders(&self, account: AccountId, filter: &OrderFilter) -> Result<Vec<Order>> {
        let f = filter.clone();
        self.read(move |tx| {
            let mut params = SqlParams::new(Placeholder::QuestionNumbered);
            let mut clauses = vec![format!("account_id = {}", params.text(account.to_string()))];
            if !f.statuses.is_empty() {
                let list: Vec<String> = f.statuses.iter().map(|s| params.text(s.as_str())).collect();
                clauses.push(format!("status IN ({})", list.join(", ")));
            }
            if let Some(from) = f.created_from {
                clauses.push(format!("created_at >= {}", params.int(to_millis(from))));
            }
            if let Some(to) = f.created_to {
                clauses.push(format!("created_at <= {}", params.int(to_millis(to))));
            }
            if let Some(c) = &f.customer_order_id {
                clauses.push(format!("customer_order_id = {}", params.text(c.clone())));
            }
            if let Some(before) = f.before {
                let p = params.text(before.to_string());
                clauses.push(format!("(created_at, id) < (SELECT created_at, id FROM orders WHERE id = {p})"));
            }
            let limit = params.push(SqlValue::Int(i64::from(f.page_size) + 1));
            let sql = format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE {} ORDER BY created_at DESC, id DESC LIMIT {limit}",
                clauses.join(" AND ")
            );
            let mut stmt = tx.prepare_cached(&sql).db()?;
            let rows =
                stmt.query_map(params_from_iter(values(&params.values)), order_row).db()?.collect::<rusqlite::Result<Vec<_>>>().db()?;
            drop(stmt);
            rows.into_iter().map(|row| order_from_row(tx, row)).collect()
        })
        .await
    }

    async fn claim_next_order(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<OrderId>> {
        self.write(move |tx| {
            // The single writer (and BEGIN IMMEDIATE across processes) is what SKIP LOCKED gives
            // PostgreSQL: nobody else can claim between this read and the update.
            let mut stmt = tx
                .prepare_cached(
                    "SELECT id FROM orders WHERE status = 'RECEIVED' OR (status = 'PROCESSING' AND lease_until < ?1) \
                     ORDER BY created_at, id LIMIT 1",
                )
                .db()?;
            let Some(id) = stmt.query_row([to_millis(now)], |r| r.get::<_, String>(0)).optional().db()? else {
                return Ok(None);
            };
            drop(stmt);
            let id: OrderId = crate::db::parse_id("order id", &id)?;
            let mut order = load_order(tx, None, id)?.ok_or_else(|| Error::internal("order vanished"))?;
            let was_received = order.status == OrderStatus::Received;
            order.status = OrderStatus::Processing;
            order.version += 1;
            order.updated_at = now;
            update_order(tx, &order, Some(to_millis(lease_until)))?;
            if was_received {
                insert_event(tx, &order_event(EventKind::OrderProcessing, &order, now))?;
            }
            Ok(Some(id))
        })
        .await
    }

    async fn backordered_orders(&self, limit: u32) -> Result<Vec<OrderId>> {
        self.read(move |tx| {
            let mut stmt = tx
                .prepare_cached("SELECT id FROM orders WHERE status = 'BACKORDERED' ORDER BY created_at, id LIMIT ?1")
                .db()?;
            let ids = stmt
                .query_map([i64::from(limit)], |r| r.get::<_, String>(0))
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
            ids.iter().map(|id| crate::db::parse_id("order id", id)).collect()
        })
        .await
    }

    async fn fulfil_order(&self, id: OrderId, now: Timestamp) -> Result<Order> {
        self.write(move |tx| fulfil(tx, id, now)).await
    }

    async fn close_backorder(
        &self,
        account: AccountId,
        id: OrderId,
        now: Timestamp,
    ) -> Result<Option<Order>> {
        self.write(move |tx| {
            let Some(mut order) = load_order(tx, Some(&account.to_string()), id)? else {
                return Ok(None);
            };
            if order.status != OrderStatus::Backordered {
                return Err(Error::conflict(
                    numbers_core::error::ConflictKind::OrderNotBackordered,
                    format!("order {id} is not backordered"),
                ));
            }
            order.closed = true;
            order.status = status_after_close(&order);
            order.completed_at = Some(now);
            order.version += 1;
            order.updated_at = now;
            update_order(tx, &order, None)?;
            let mut event = order_event(EventKind::OrderClosed, &order, now);
            event.details = serde_json::json!({ "status": order.status.as_str() });
            insert_event(tx, &event)?;
            Ok(Some(order))
        })
        .await
    }
}
