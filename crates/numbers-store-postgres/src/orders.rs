//! Orders (`OrderStore`): intake with idempotency keys, the work queue several processes claim
//! from (`FOR UPDATE SKIP LOCKED`), and fulfilment. A fulfilment attempt locks the order, locks
//! its candidate numbers (explicit ones `FOR UPDATE` in E.164 order; search candidates
//! `SKIP LOCKED`, so concurrent orders take different numbers instead of queueing), lets
//! `numbers_core::order::plan_*` decide, then claims by conditional update. The unique index
//! `assignments_one_live_per_number` backs the claim at the database level: a violation rolls the
//! attempt back as `Error::retry`.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::{EventKind, NewEvent};
use numbers_core::ids::{AccountId, AssignmentId, OrderId, ReservationId};
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{AssignmentData, E164, Number, NumberState};
use numbers_core::order::{
    ExplicitCandidate, ItemOutcome, NewOrder, Order, OrderItem, OrderRequest, OrderStatus,
    plan_explicit, plan_search, status_after_close,
};
use numbers_core::store::{CreatedOrder, OrderFilter, OrderStore};
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, Row, Transaction};

use crate::events::number_event;
use crate::reservations::lock_numbers;
use crate::rows::{get, update_numbers};
use crate::{Bind, PostgresStore, db_err, refs, retry};

const ORDER_COLUMNS: &str = "id, account_id, status, request, partial_allowed, backorder_requested, reservation_ids, \
template, name, customer_order_id, idempotency_key, request_fingerprint, dialect_data, created_at, updated_at, \
completed_at, closed, lease_until, version";

fn json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| Error::internal(format!("stored order {what} is not valid: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(Error::internal)
}

fn order_from_row(row: &Row, items: Vec<OrderItem>) -> Result<Order> {
    let id: String = get(row, 0)?;
    let account: String = get(row, 1)?;
    let status: String = get(row, 2)?;
    let bad_id =
        |what: &str, v: &str| Error::internal(format!("stored order {what} '{v}' is not a UUID"));
    Ok(Order {
        new: NewOrder {
            id: id.parse().map_err(|_| bad_id("id", &id))?,
            account: account.parse().map_err(|_| bad_id("account", &account))?,
            request: json("request", &get::<String>(row, 3)?)?,
            partial_allowed: get(row, 4)?,
            backorder_requested: get(row, 5)?,
            reservation_ids: json("reservation_ids", &get::<String>(row, 6)?)?,
            template: json("template", &get::<String>(row, 7)?)?,
            name: get(row, 8)?,
            customer_order_id: get(row, 9)?,
            idempotency_key: get(row, 10)?,
            request_fingerprint: get(row, 11)?,
            dialect_data: json("dialect_data", &get::<String>(row, 12)?)?,
            created_at: from_millis(get(row, 13)?),
        },
        status: OrderStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored order status '{status}' is unknown")))?,
        items,
        updated_at: from_millis(get(row, 14)?),
        completed_at: get::<Option<i64>>(row, 15)?.map(from_millis),
        closed: get(row, 16)?,
        version: get(row, 18)?,
    })
}

fn item_from_row(row: &Row) -> Result<OrderItem> {
    let number_id: Option<String> = get(row, 2)?;
    let outcome: String = get(row, 3)?;
    Ok(OrderItem {
        e164: get::<Option<String>>(row, 1)?.map(E164::from_trusted),
        number_id: number_id
            .map(|v| {
                v.parse().map_err(|_| {
                    Error::internal(format!("stored item number id '{v}' is not a UUID"))
                })
            })
            .transpose()?,
        outcome: if outcome == "COMPLETED" {
            ItemOutcome::Completed
        } else {
            ItemOutcome::Failed {
                code: get::<Option<String>>(row, 4)?.unwrap_or_default(),
                message: get::<Option<String>>(row, 5)?.unwrap_or_default(),
            }
        },
    })
}

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
    let ids: Vec<String> = rows
        .iter()
        .map(|r| get::<String>(r, 0))
        .collect::<Result<_>>()?;
    let item_rows = c
        .query(
            "SELECT order_id, e164, number_id, outcome, code, message FROM order_items WHERE order_id = ANY($1) ORDER BY order_id, seq",
            &[&ids],
        )
        .await
        .map_err(db_err)?;
    let mut items: HashMap<String, Vec<OrderItem>> = HashMap::new();
    for row in &item_rows {
        items
            .entry(get(row, 0)?)
            .or_default()
            .push(item_from_row(row)?);
    }
    rows.iter()
        .zip(ids)
        .map(|(row, id)| order_from_row(row, items.remove(&id).unwrap_or_default()))
        .collect()
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

/// The answer to a repeated idempotency key.
fn repeated(existing: Order, new: &NewOrder) -> Result<CreatedOrder> {
    if existing.new.request_fingerprint == new.request_fingerprint {
        Ok(CreatedOrder::Existing(existing))
    } else {
        Err(Error::conflict(
            numbers_core::error::ConflictKind::IdempotencyKeyReused,
            "this idempotency key was already used with a different request",
        ))
    }
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
        match &item.outcome {
            ItemOutcome::Completed => {
                outcomes.push("COMPLETED".to_string());
                codes.push(None);
                messages.push(None);
            }
            ItemOutcome::Failed { code, message } => {
                outcomes.push("FAILED".to_string());
                codes.push(Some(code.clone()));
                messages.push(Some(message.clone()));
            }
        }
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

fn order_event(kind: EventKind, at: Timestamp, order: &Order) -> NewEvent {
    NewEvent {
        account_id: Some(order.new.account),
        order_id: Some(order.id()),
        resource_version: order.version,
        ..NewEvent::new(kind, at)
    }
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

/// Moves the planned numbers to ASSIGNED for the order's account and records their live
/// assignments; returns them as changed.
async fn claim(
    tx: &Transaction<'_>,
    order: &Order,
    mut claims: Vec<Number>,
    now: Timestamp,
) -> Result<Vec<Number>> {
    if claims.is_empty() {
        return Ok(claims);
    }
    let account = order.new.account;
    let template = AssignmentPatch::from_data(&order.new.template);
    let mut emptied_reservations: Vec<ReservationId> = Vec::new();
    for n in &mut claims {
        if n.state == NumberState::Reserved
            && let Some(r) = n.reservation_id
            && !emptied_reservations.contains(&r)
        {
            emptied_reservations.push(r);
        }
        let mut data = AssignmentData::default();
        template.apply(&mut data);
        n.state = NumberState::Assigned;
        n.owner = Some(account);
        n.assignment_id = Some(AssignmentId::new());
        n.reservation_id = None;
        n.reserved_until = None;
        n.available_after = None;
        n.assigned_at = Some(now);
        n.assignment = data;
        n.updated_at = now;
        n.version += 1;
    }
    update_numbers(tx, &claims).await?;
    let assignment_ids: Vec<String> = claims
        .iter()
        .filter_map(|n| n.assignment_id.map(|a| a.to_string()))
        .collect();
    let number_ids: Vec<String> = claims.iter().map(|n| n.id.to_string()).collect();
    tx.execute(
        "INSERT INTO assignments (id, number_id, account_id, order_id, created_at, released_at) \
         SELECT id, number_id, $3, $4, $5, NULL FROM UNNEST($1::TEXT[], $2::TEXT[]) AS u(id, number_id)",
        &[&assignment_ids, &number_ids, &account.to_string(), &order.id().to_string(), &to_millis(now)],
    )
    .await
    .map_err(db_err)?;
    if !emptied_reservations.is_empty() {
        let ids: Vec<String> = emptied_reservations.iter().map(|r| r.to_string()).collect();
        tx.execute(
            "UPDATE reservations SET status = 'ORDERED', updated_at = $2 \
             WHERE id = ANY($1) AND status = 'ACTIVE' \
               AND NOT EXISTS (SELECT 1 FROM numbers WHERE numbers.reservation_id = reservations.id AND numbers.state = 'RESERVED')",
            &[&ids, &to_millis(now)],
        )
        .await
        .map_err(db_err)?;
    }
    Ok(claims)
}

#[async_trait]
impl OrderStore for PostgresStore {
    async fn create_order(&self, o: &NewOrder) -> Result<CreatedOrder> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        if let Some(key) = &o.idempotency_key
            && let Some(existing) = find_by_key(&*tx, o.account, key).await?
        {
            return repeated(existing, o);
        }
        let inserted = tx
            .execute(
                &format!(
                    "INSERT INTO orders ({ORDER_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, NULL, FALSE, NULL, 1) \
                     ON CONFLICT ON CONSTRAINT orders_idempotency_key DO NOTHING"
                ),
                &[
                    &o.id.to_string(),
                    &o.account.to_string(),
                    &OrderStatus::Received.as_str(),
                    &to_json(&o.request)?,
                    &o.partial_allowed,
                    &o.backorder_requested,
                    &to_json(&o.reservation_ids)?,
                    &to_json(&o.template)?,
                    &o.name,
                    &o.customer_order_id,
                    &o.idempotency_key,
                    &o.request_fingerprint,
                    &to_json(&o.dialect_data)?,
                    &to_millis(o.created_at),
                ],
            )
            .await
            .map_err(db_err)?;
        if inserted == 0 {
            // A concurrent request with the same key committed first (we waited on its index
            // entry); this statement's fresh snapshot sees its order.
            let key = o.idempotency_key.as_deref().unwrap_or_default();
            let existing = find_by_key(&*tx, o.account, key)
                .await?
                .ok_or_else(|| retry("concurrent order with the same key"))?;
            return repeated(existing, o);
        }
        let order = Order {
            new: o.clone(),
            status: OrderStatus::Received,
            items: vec![],
            updated_at: o.created_at,
            completed_at: None,
            closed: false,
            version: 1,
        };
        self.append_and_commit(
            tx,
            &[order_event(EventKind::OrderReceived, o.created_at, &order)],
        )
        .await?;
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
        let mut clauses = vec!["account_id = $1".to_string()];
        let mut params: Vec<Bind> = vec![Box::new(account.to_string())];
        let mut push = |clause: &str, value: Bind| {
            params.push(value);
            clauses.push(clause.replace('?', &format!("${}", params.len())));
        };
        if !filter.statuses.is_empty() {
            let statuses: Vec<String> = filter
                .statuses
                .iter()
                .map(|s| s.as_str().to_string())
                .collect();
            push("status = ANY(?)", Box::new(statuses));
        }
        if let Some(from) = filter.created_from {
            push("created_at >= ?", Box::new(to_millis(from)));
        }
        if let Some(to) = filter.created_to {
            push("created_at <= ?", Box::new(to_millis(to)));
        }
        if let Some(c) = &filter.customer_order_id {
            push("customer_order_id = ?", Box::new(c.clone()));
        }
        if let Some(before) = filter.before {
            // Keyset on (created_at, id) descending; an unknown `before` yields an empty page.
            push(
                "(created_at, id) < (SELECT b.created_at, b.id FROM orders b WHERE b.id = ? AND b.account_id = $1)",
                Box::new(before.to_string()),
            );
        }
        params.push(Box::new(i64::from(filter.page_size) + 1));
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE {} ORDER BY created_at DESC, id DESC LIMIT ${}",
            clauses.join(" AND "),
            params.len()
        );
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
        let was_received = order.status == OrderStatus::Received;
        order.status = OrderStatus::Processing;
        order.updated_at = now;
        order.version += 1;
        tx.execute(
            "UPDATE orders SET status = 'PROCESSING', lease_until = $2, updated_at = $3, version = $4 WHERE id = $1",
            &[&order.id().to_string(), &to_millis(lease_until), &to_millis(now), &order.version],
        )
        .await
        .map_err(db_err)?;
        let events = if was_received {
            vec![order_event(EventKind::OrderProcessing, now, &order)]
        } else {
            vec![]
        };
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
            .ok_or_else(|| Error::not_found(numbers_core::error::Resource::Order, id))?;
        if order.status.is_final() {
            return Ok(order);
        }
        let mut events = Vec::new();
        if order.begin_processing(now) {
            events.push(order_event(EventKind::OrderProcessing, now, &order));
        }
        let plan = plan(&tx, &order, now).await?;
        let claimed = claim(&tx, &order, plan.claims, now).await?;

        let completed: Vec<OrderItem> = claimed
            .iter()
            .map(|n| OrderItem {
                e164: Some(n.e164.clone()),
                number_id: Some(n.id),
                outcome: ItemOutcome::Completed,
            })
            .collect();
        let new_items: Vec<OrderItem> = completed.into_iter().chain(plan.failures).collect();
        insert_items(&tx, id, order.items.len() as i64 + 1, &new_items).await?;

        let previous = order.status;
        order.items.extend(new_items);
        order.status = plan.status;
        if plan.status.is_final() {
            order.completed_at = Some(now);
        }
        order.updated_at = now;
        order.version += 1;
        tx.execute(
            "UPDATE orders SET status = $2, completed_at = $3, lease_until = NULL, updated_at = $4, version = $5 WHERE id = $1",
            &[&id.to_string(), &order.status.as_str(), &order.completed_at.map(to_millis), &to_millis(now), &order.version],
        )
        .await
        .map_err(db_err)?;

        let account = order.new.account;
        events.extend(claimed.iter().map(|n| NewEvent {
            order_id: Some(id),
            ..number_event(EventKind::NumberAssigned, now, n, Some(account))
        }));
        let kind = match order.status {
            OrderStatus::Complete => Some(EventKind::OrderCompleted),
            OrderStatus::Partial => Some(EventKind::OrderPartial),
            OrderStatus::Failed => Some(EventKind::OrderFailed),
            // A retried backorder that is still waiting says nothing new.
            OrderStatus::Backordered if previous != OrderStatus::Backordered => {
                Some(EventKind::OrderBackordered)
            }
            _ => None,
        };
        if let Some(kind) = kind {
            events.push(NewEvent {
                details: order.outcome_details(),
                ..order_event(kind, now, &order)
            });
        }
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
        if order.status != OrderStatus::Backordered {
            return Err(Error::conflict(
                numbers_core::error::ConflictKind::OrderNotBackordered,
                format!("order {id} is not backordered"),
            ));
        }
        order.closed = true;
        order.status = status_after_close(&order);
        order.completed_at = Some(now);
        order.updated_at = now;
        order.version += 1;
        tx.execute(
            "UPDATE orders SET closed = TRUE, status = $2, completed_at = $3, lease_until = NULL, updated_at = $3, version = $4 \
             WHERE id = $1",
            &[&id.to_string(), &order.status.as_str(), &to_millis(now), &order.version],
        )
        .await
        .map_err(db_err)?;
        let event = NewEvent {
            details: serde_json::json!({ "status": order.status.as_str() }),
            ..order_event(EventKind::OrderClosed, now, &order)
        };
        self.append_and_commit(tx, &[event]).await?;
        Ok(Some(order))
    }
}
