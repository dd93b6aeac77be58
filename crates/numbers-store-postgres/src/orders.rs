//! Orders (`OrderStore`): intake with idempotency keys, the work queue several processes claim
//! from (`FOR UPDATE SKIP LOCKED`), and fulfilment. A fulfilment attempt locks the order, locks
//! its candidate numbers (explicit ones `FOR UPDATE` in E.164 order; search candidates
//! `SKIP LOCKED`, so concurrent orders take different numbers instead of queueing), lets
//! `numbers_core::order::plan_*` decide, then claims by conditional update. The unique index
//! `assignments_one_live_per_number` backs the claim at the database level: a violation rolls the
//! attempt back as `Error::retry`.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{Error, Resource, Result};
use numbers_core::event::NewEvent;
use numbers_core::ids::{AccountId, OrderId};
use numbers_core::number::{E164, Number};
use numbers_core::order::{
    ExplicitCandidate, Fulfilment, NewOrder, Order, OrderItem, OrderRequest, plan_explicit,
    plan_search,
};
use numbers_core::store::{CreatedOrder, OrderFilter, OrderStore};
use numbers_store_sql::Placeholder;
use numbers_store_sql::lifecycle::{
    ITEM_COLUMNS, ORDER_COLUMNS, insert_sql, item_values, list_orders, order_values, read_item,
    read_order,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Transaction};

use crate::reservations::{lock_numbers, lock_reservations, save_statuses};
use crate::rows::{PgRow, get, numbers_from_rows, select_numbers, update_numbers};
use crate::{Bind, PostgresStore, binds, db_err, refs, retry};

/// Runs an order SELECT (of `ORDER_COLUMNS`, in the wanted order) and attaches each order's items.
async fn load_orders<C: GenericClient + Sync>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Order>> {
    let rows = c.query(sql, params).await.map_err(db_err)?;
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let mut orders: Vec<Order> = rows
        .iter()
        .map(|r| read_order(&PgRow(r)))
        .collect::<Result<_>>()?;
    let ids: Vec<String> = orders.iter().map(|o| o.id().to_string()).collect();
    let item_rows = c
        .query(
            &format!("SELECT {ITEM_COLUMNS} FROM order_items WHERE order_id = ANY($1) ORDER BY order_id, seq"),
            &[&ids],
        )
        .await
        .map_err(db_err)?;
    let mut items: HashMap<String, Vec<OrderItem>> = HashMap::new();
    for row in &item_rows {
        let (order, item) = read_item(&PgRow(row))?;
        items.entry(order).or_default().push(item);
    }
    for (order, id) in orders.iter_mut().zip(ids) {
        order.items = items.remove(&id).unwrap_or_default();
    }
    Ok(orders)
}

async fn find_by_key<C: GenericClient + Sync>(
    c: &C,
    account: AccountId,
    key: &str,
) -> Result<Option<Order>> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE account_id = $1 AND idempotency_key = $2"
    );
    Ok(load_orders(c, &sql, &[&account.to_string(), &key])
        .await?
        .pop())
}

async fn insert_items(
    tx: &Transaction<'_>,
    order: OrderId,
    first_seq: i64,
    items: &[OrderItem],
) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let seqs: Vec<i64> = (0..items.len() as i64).map(|i| first_seq + i).collect();
    let e164s: Vec<Option<String>> = items
        .iter()
        .map(|i| i.e164.as_ref().map(|e| e.as_str().to_string()))
        .collect();
    let number_ids: Vec<Option<String>> = items
        .iter()
        .map(|i| i.number_id.map(|n| n.to_string()))
        .collect();
    let mut outcomes = Vec::with_capacity(items.len());
    let mut codes = Vec::with_capacity(items.len());
    let mut messages = Vec::with_capacity(items.len());
    for item in items {
        let (outcome, code, message) = item_values(item);
        outcomes.push(outcome);
        codes.push(code);
        messages.push(message);
    }
    tx.execute(
        "INSERT INTO order_items (order_id, seq, e164, number_id, outcome, code, message) \
         SELECT $1, * FROM UNNEST($2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[])",
        &[&order.to_string(), &seqs, &e164s, &number_ids, &outcomes, &codes, &messages],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Locks and returns the order (with its items).
async fn lock_order(
    tx: &Transaction<'_>,
    account: Option<AccountId>,
    id: OrderId,
) -> Result<Option<Order>> {
    let mut sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    let mut params: Vec<Bind> = vec![Box::new(id.to_string())];
    if let Some(a) = account {
        sql.push_str(" AND account_id = $2");
        params.push(Box::new(a.to_string()));
    }
    sql.push_str(" FOR UPDATE");
    Ok(load_orders(tx, &sql, &refs(&params)).await?.pop())
}

/// Finds and locks the numbers this attempt may claim, and asks the planner.
async fn plan(
    tx: &Transaction<'_>,
    order: &Order,
    now: Timestamp,
) -> Result<numbers_core::order::FulfilmentPlan> {
    match &order.new.request {
        OrderRequest::Numbers(requested) => {
            let done: HashSet<&E164> = order.completed().filter_map(|i| i.e164.as_ref()).collect();
            let todo: Vec<E164> = requested
                .iter()
                .filter(|e| !done.contains(e))
                .cloned()
                .collect();
            let e164s: Vec<String> = todo.iter().map(|e| e.as_str().to_string()).collect();
            let mut locked: HashMap<String, Number> = lock_numbers(tx, &e164s)
                .await?
                .into_iter()
                .map(|n| (n.e164.as_str().to_string(), n))
                .collect();
            let candidates = todo
                .into_iter()
                .map(|e164| ExplicitCandidate {
                    number: locked.remove(e164.as_str()),
                    e164,
                })
                .collect();
            Ok(plan_explicit(order, candidates, now))
        }
        OrderRequest::Search { query, .. } => {
            let mut query = query.clone();
            query.after = None;
            crate::search::hold_to_plans(tx).await?;
            let plan = crate::search::plan(tx, &query, now).await?;
            let wanted = order.remaining_quantity() as usize;
            let candidates =
                crate::search::walk(tx, &plan, wanted, &crate::search::FOR_AN_ORDER).await?;
            Ok(plan_search(order, candidates, now))
        }
    }
}

/// Saves an attempt's assignments (`Order::apply_plan`): the numbers, their live assignment
/// rows, and every reservation of the account that no longer holds a number (ORDERED).
async fn save_assigned(
    tx: &Transaction<'_>,
    order: &Order,
    done: &Fulfilment,
    now: Timestamp,
) -> Result<()> {
    if done.assigned.is_empty() {
        return Ok(());
    }
    update_numbers(tx, &done.assigned).await?;
    let assignment_ids: Vec<String> = done
        .assigned
        .iter()
        .filter_map(|n| n.assignment_id.map(|a| a.to_string()))
        .collect();
    let number_ids: Vec<String> = done.assigned.iter().map(|n| n.id.to_string()).collect();
    tx.execute(
        "INSERT INTO assignments (id, number_id, account_id, order_id, created_at, released_at) \
         SELECT id, number_id, $3, $4, $5, NULL FROM UNNEST($1::TEXT[], $2::TEXT[]) AS u(id, number_id)",
        &[&assignment_ids, &number_ids, &order.new.account.to_string(), &order.id().to_string(), &to_millis(now)],
    )
    .await
    .map_err(db_err)?;
    if !done.reservations.is_empty() {
        let ids: Vec<String> = done.reservations.iter().map(|r| r.to_string()).collect();
        let mut reservations = lock_reservations(tx, &ids).await?;
        let still_held = format!(
            "{} WHERE reservation_id = ANY($1) AND state = 'RESERVED'",
            select_numbers()
        );
        let rows = tx
            .query(still_held.as_str(), &[&ids])
            .await
            .map_err(db_err)?;
        let held = numbers_from_rows(&rows)?;
        reservations.retain_mut(|r| r.settle_after_order(&held, now));
        save_statuses(tx, &reservations).await?;
    }
    Ok(())
}

#[async_trait]
impl OrderStore for PostgresStore {
    async fn create_order(&self, o: &NewOrder) -> Result<CreatedOrder> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        if let Some(key) = &o.idempotency_key
            && let Some(existing) = find_by_key(&*tx, o.account, key).await?
        {
            return CreatedOrder::repeated(existing, o);
        }
        let (order, event) = Order::received(o.clone());
        let values = binds(order_values(&order)?);
        let sql = format!(
            "{} ON CONFLICT ON CONSTRAINT orders_idempotency_key DO NOTHING",
            insert_sql("orders", ORDER_COLUMNS)
        );
        let inserted = tx
            .execute(sql.as_str(), &refs(&values))
            .await
            .map_err(db_err)?;
        if inserted == 0 {
            // A concurrent request with the same key committed first (we waited on its index
            // entry); this statement's fresh snapshot sees its order.
            let key = o.idempotency_key.as_deref().unwrap_or_default();
            let existing = find_by_key(&*tx, o.account, key)
                .await?
                .ok_or_else(|| retry("concurrent order with the same key"))?;
            return CreatedOrder::repeated(existing, o);
        }
        self.append_and_commit(tx, &[event]).await?;
        Ok(CreatedOrder::Created(order))
    }

    async fn get_order(&self, account: Option<AccountId>, id: OrderId) -> Result<Option<Order>> {
        let client = self.client().await?;
        let mut sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
        let mut params: Vec<Bind> = vec![Box::new(id.to_string())];
        if let Some(a) = account {
            sql.push_str(" AND account_id = $2");
            params.push(Box::new(a.to_string()));
        }
        Ok(load_orders(&**client, &sql, &refs(&params)).await?.pop())
    }

    async fn list_orders(&self, account: AccountId, filter: &OrderFilter) -> Result<Vec<Order>> {
        let (sql, params) = list_orders(account, filter, Placeholder::DollarNumbered);
        let params = binds(params.values);
        let client = self.client().await?;
        load_orders(&**client, &sql, &refs(&params)).await
    }

    async fn claim_next_order(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<OrderId>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        // SKIP LOCKED: workers of every process poll this; each gets a different order.
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders \
             WHERE status = 'RECEIVED' OR (status = 'PROCESSING' AND lease_until < $1) \
             ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
        );
        let Some(mut order) = load_orders(&*tx, &sql, &[&to_millis(now)]).await?.pop() else {
            return Ok(None);
        };
        let event = order.claim(now);
        tx.execute(
            "UPDATE orders SET status = $2, lease_until = $3, updated_at = $4, version = $5 WHERE id = $1",
            &[&order.id().to_string(), &order.status.as_str(), &to_millis(lease_until), &to_millis(order.updated_at), &order.version],
        )
        .await
        .map_err(db_err)?;
        let events: Vec<NewEvent> = event.into_iter().collect();
        self.append_and_commit(tx, &events).await?;
        Ok(Some(order.id()))
    }

    async fn backordered_orders(&self, limit: u32) -> Result<Vec<OrderId>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id FROM orders WHERE status = 'BACKORDERED' ORDER BY created_at, id LIMIT $1",
                &[&i64::from(limit)],
            )
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let id: String = get(r, 0)?;
                id.parse()
                    .map_err(|_| Error::internal(format!("stored order id '{id}' is not a UUID")))
            })
            .collect()
    }

    async fn fulfil_order(&self, id: OrderId, now: Timestamp) -> Result<Order> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let mut order = lock_order(&tx, None, id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Order, id))?;
        if order.status.is_final() {
            return Ok(order);
        }
        let mut events: Vec<NewEvent> = order.begin_processing(now).into_iter().collect();
        let plan = plan(&tx, &order, now).await?;
        let first_seq = order.items.len() as i64 + 1;
        let done = order.apply_plan(plan, now);
        save_assigned(&tx, &order, &done, now).await?;
        insert_items(&tx, id, first_seq, &done.new_items).await?;
        tx.execute(
            "UPDATE orders SET status = $2, completed_at = $3, lease_until = NULL, updated_at = $4, version = $5 WHERE id = $1",
            &[&id.to_string(), &order.status.as_str(), &order.completed_at.map(to_millis), &to_millis(order.updated_at), &order.version],
        )
        .await
        .map_err(db_err)?;
        events.extend(done.events);
        self.append_and_commit(tx, &events).await?;
        Ok(order)
    }

    async fn close_backorder(
        &self,
        account: AccountId,
        id: OrderId,
        now: Timestamp,
    ) -> Result<Option<Order>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let Some(mut order) = lock_order(&tx, Some(account), id).await? else {
            return Ok(None);
        };
        let event = order.close_backorder(now)?;
        tx.execute(
            "UPDATE orders SET closed = $2, status = $3, completed_at = $4, lease_until = NULL, updated_at = $5, version = $6 \
             WHERE id = $1",
            &[&id.to_string(), &order.closed, &order.status.as_str(), &order.completed_at.map(to_millis), &to_millis(order.updated_at), &order.version],
        )
        .await
        .map_err(db_err)?;
        self.append_and_commit(tx, &[event]).await?;
        Ok(Some(order))
    }
}
