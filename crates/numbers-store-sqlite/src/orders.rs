//! `OrderStore`: storing orders (idempotently), listing them, the worker's claim / lease, and
//! one fulfilment attempt. The partial / backorder decisions are `order::plan_explicit` and
//! `plan_search`; this module only finds the candidates and applies the plan, and the unique
//! index on live assignments makes a double sale impossible even if a decision were wrong.

use std::collections::{BTreeSet, HashSet};

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{ConflictKind, Error, Resource, Result};
use numbers_core::ids::{AccountId, OrderId};
use numbers_core::order::{
    ExplicitCandidate, Fulfilment, NewOrder, Order, OrderRequest, plan_explicit, plan_search,
};
use numbers_core::store::{CreatedOrder, OrderFilter, OrderStore};
use numbers_store_sql::Placeholder;
use numbers_store_sql::lifecycle::{
    ORDER_COLUMNS, insert_sql, list_orders, order_values, question_numbered,
};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use crate::SqliteStore;
use crate::db::{DbResult, is_unique_violation, retry, values};
use crate::reservations::numbers_of;
use crate::rows::{
    insert_event, insert_order_item, load_order, load_reservation, number_by_e164, query_orders,
    set_reservation_status, update_number, update_order,
};

fn insert_order(conn: &Connection, o: &Order) -> Result<()> {
    let mut stmt = conn
        .prepare_cached(&question_numbered(&insert_sql("orders", ORDER_COLUMNS)))
        .db()?;
    stmt.execute(params_from_iter(values(&order_values(o)?)))
        .map_err(|e| {
            if is_unique_violation(&e) {
                // The idempotency key is looked up first inside this transaction, so this is the id.
                Error::conflict(
                    ConflictKind::OrderExists,
                    format!("order {} already exists", o.id()),
                )
            } else {
                Error::internal(format!("sqlite: {e}"))
            }
        })?;
    Ok(())
}

/// Saves one attempt (`Order::apply_plan`): each assigned number with its live assignment row,
/// item and event; then the failures; every reservation of the account that no longer holds
/// a number (ORDERED); the order and its outcome event.
fn save_attempt(conn: &Connection, order: &Order, done: Fulfilment, now: Timestamp) -> Result<()> {
    let first_seq = (order.items.len() - done.new_items.len()) as i64;
    let mut events = done.events.iter();
    for (i, n) in done.assigned.iter().enumerate() {
        update_number(conn, n)?;
        let mut stmt = conn
            .prepare_cached(
                "INSERT INTO assignments (id, number_id, account_id, order_id, created_at, released_at) VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
            )
            .db()?;
        stmt.execute(params![
            n.assignment_id.map(|a| a.to_string()),
            n.id.to_string(),
            order.new.account.to_string(),
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
        insert_order_item(conn, order.id(), first_seq + i as i64, &done.new_items[i])?;
        if let Some(event) = events.next() {
            insert_event(conn, event)?;
        }
    }
    for r in done.reservations {
        if let Some(mut r) = load_reservation(conn, &r.to_string())?
            && r.settle_after_order(&numbers_of(conn, &r.numbers)?, now)
        {
            set_reservation_status(conn, &r)?;
        }
    }
    for (i, item) in done.new_items.iter().enumerate().skip(done.assigned.len()) {
        insert_order_item(conn, order.id(), first_seq + i as i64, item)?;
    }
    update_order(conn, order, None)?;
    for event in events {
        insert_event(conn, event)?;
    }
    Ok(())
}

fn fulfil(conn: &Connection, id: OrderId, now: Timestamp) -> Result<Order> {
    let mut order =
        load_order(conn, None, id)?.ok_or_else(|| Error::not_found(Resource::Order, id))?;
    if order.status.is_final() {
        return Ok(order);
    }
    if let Some(event) = order.begin_processing(now) {
        update_order(conn, &order, None)?;
        insert_event(conn, &event)?;
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

    let done = order.apply_plan(plan, now);
    save_attempt(conn, &order, done, now)?;
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
                    return CreatedOrder::repeated(earlier, &o);
                }
            }
            let (order, event) = Order::received(o);
            insert_order(tx, &order)?;
            insert_event(tx, &event)?;
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
            let (sql, params) = list_orders(account, &f, Placeholder::QuestionNumbered);
            query_orders(tx, &sql, params_from_iter(values(&params.values)))
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
            let event = order.claim(now);
            update_order(tx, &order, Some(to_millis(lease_until)))?;
            if let Some(event) = event {
                insert_event(tx, &event)?;
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
            let event = order.close_backorder(now)?;
            update_order(tx, &order, None)?;
            insert_event(tx, &event)?;
            Ok(Some(order))
        })
        .await
    }
}
