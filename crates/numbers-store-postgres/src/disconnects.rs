//! `DisconnectStore` and `OrderNoteStore`: disconnect orders (stored RECEIVED, then processed whole
//! in one transaction — the disconnect taken with SKIP LOCKED, its numbers locked in E.164 order,
//! each released exactly as `release_number` releases it) and notes on orders. The decisions are
//! `disconnect::plan_number` and `disconnect::final_status`.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::disconnect::{Disconnect, NewDisconnect};
use numbers_core::error::{Error, Result};
use numbers_core::event::{EventKind, NewEvent};
use numbers_core::ids::{AccountId, DisconnectId, OrderId};
use numbers_core::note::{NoteText, OrderNote};
use numbers_core::order::OrderStatus;
use numbers_core::service::AgingPolicy;
use numbers_core::store::{DisconnectFilter, DisconnectStore, OrderNoteStore};
use tokio_postgres::{GenericClient, Row};

use crate::numbers::save_released;
use crate::reservations::lock_numbers;
use crate::rows::get;
use crate::{Bind, PostgresStore, db_err, refs};

const DISCONNECT_COLUMNS: &str = "id, account_id, status, numbers, mode, protected, name, customer_order_id, items, created_at, updated_at, completed_at";

fn enum_text<T: serde::Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v).map_err(Error::internal)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(Error::internal(format!(
            "expected a string enum, got {other}"
        ))),
    }
}

fn enum_from<T: serde::de::DeserializeOwned>(s: String) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s)).map_err(Error::internal)
}

fn json_from<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(Error::internal)
}

fn disconnect_from_row(row: &Row) -> Result<Disconnect> {
    let id: String = get(row, 0)?;
    let account: String = get(row, 1)?;
    let status: String = get(row, 2)?;
    let numbers: String = get(row, 3)?;
    let items: String = get(row, 8)?;
    let completed: Option<i64> = get(row, 11)?;
    Ok(Disconnect {
        new: NewDisconnect {
            id: id.parse()?,
            account: account.parse()?,
            numbers: json_from(&numbers)?,
            mode: enum_from(get(row, 4)?)?,
            protected: enum_from(get(row, 5)?)?,
            name: get(row, 6)?,
            customer_order_id: get(row, 7)?,
            created_at: from_millis(get(row, 9)?),
        },
        status: OrderStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored disconnect status {status}")))?,
        items: json_from(&items)?,
        updated_at: from_millis(get(row, 10)?),
        completed_at: completed.map(from_millis),
    })
}

async fn load_disconnect<C: GenericClient + Sync>(c: &C, id: &str) -> Result<Option<Disconnect>> {
    let sql = format!("SELECT {DISCONNECT_COLUMNS} FROM disconnects WHERE id = $1");
    c.query_opt(sql.as_str(), &[&id])
        .await
        .map_err(db_err)?
        .as_ref()
        .map(disconnect_from_row)
        .transpose()
}

#[async_trait]
impl DisconnectStore for PostgresStore {
    async fn create_disconnect(&self, d: &NewDisconnect) -> Result<Disconnect> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let numbers = serde_json::to_string(&d.numbers).map_err(Error::internal)?;
        tx.execute(
            &format!("INSERT INTO disconnects ({DISCONNECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '[]', $9, $9, NULL)"),
            &[
                &d.id.to_string(),
                &d.account.to_string(),
                &OrderStatus::Received.as_str(),
                &numbers,
                &enum_text(&d.mode)?,
                &enum_text(&d.protected)?,
                &d.name,
                &d.customer_order_id,
                &to_millis(d.created_at),
            ],
        )
        .await
        .map_err(db_err)?;
        let stored = load_disconnect(&*tx, &d.id.to_string())
            .await?
            .ok_or_else(|| Error::internal("inserted disconnect vanished"))?;
        let (_, event) = Disconnect::received(d.clone());
        self.append_and_commit(tx, &[event]).await?;
        Ok(stored)
    }

    async fn get_disconnect(
        &self,
        account: AccountId,
        id: DisconnectId,
    ) -> Result<Option<Disconnect>> {
        let client = self.client().await?;
        Ok(load_disconnect(&**client, &id.to_string())
            .await?
            .filter(|d| d.new.account == account))
    }

    async fn list_disconnects(
        &self,
        account: AccountId,
        filter: &DisconnectFilter,
    ) -> Result<Vec<Disconnect>> {
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
        if let Some(before) = filter.before {
            push(
                "(created_at, id) < (SELECT b.created_at, b.id FROM disconnects b WHERE b.id = ? AND b.account_id = $1)",
                Box::new(before.to_string()),
            );
        }
        params.push(Box::new(i64::from(filter.page_size) + 1));
        let sql = format!(
            "SELECT {DISCONNECT_COLUMNS} FROM disconnects WHERE {} ORDER BY created_at DESC, id DESC LIMIT ${}",
            clauses.join(" AND "),
            params.len()
        );
        let client = self.client().await?;
        client
            .query(sql.as_str(), &refs(&params))
            .await
            .map_err(db_err)?
            .iter()
            .map(disconnect_from_row)
            .collect()
    }

    async fn process_next_disconnect(
        &self,
        aging: &AgingPolicy,
        now: Timestamp,
    ) -> Result<Option<Disconnect>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let sql = format!(
            "SELECT {DISCONNECT_COLUMNS} FROM disconnects WHERE status = 'RECEIVED' \
             ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
        );
        let Some(row) = tx.query_opt(sql.as_str(), &[]).await.map_err(db_err)? else {
            return Ok(None);
        };
        let mut d = disconnect_from_row(&row)?;
        let e164s: Vec<String> = d
            .new
            .numbers
            .iter()
            .map(|e| e.as_str().to_string())
            .collect();
        // Same lock order as fulfilment (E.164 ascending), so no lock cycle with an order.
        let found = lock_numbers(&tx, &e164s).await?;
        let (released, outcome) = d.process(found, aging, now);
        let mut events = save_released(&tx, released, now).await?;
        let items_json = serde_json::to_string(&d.items).map_err(Error::internal)?;
        tx.execute(
            "UPDATE disconnects SET status = $2, items = $3, updated_at = $4, completed_at = $5 WHERE id = $1",
            &[&d.id().to_string(), &d.status.as_str(), &items_json, &to_millis(d.updated_at), &d.completed_at.map(to_millis)],
        )
        .await
        .map_err(db_err)?;
        events.push(outcome);
        self.append_and_commit(tx, &events).await?;
        Ok(Some(d))
    }
}

const NOTE_COLUMNS: &str = "id, order_id, account_id, user_id, description, created_at";

fn note_from_row(row: &Row) -> Result<OrderNote> {
    let order: String = get(row, 1)?;
    let account: String = get(row, 2)?;
    Ok(OrderNote {
        id: get(row, 0)?,
        order_id: order.parse()?,
        account: account.parse()?,
        text: NoteText {
            user_id: get(row, 3)?,
            description: get(row, 4)?,
        },
        created_at: from_millis(get(row, 5)?),
    })
}

async fn order_is_accounts<C: GenericClient + Sync>(
    c: &C,
    account: AccountId,
    order: OrderId,
) -> Result<bool> {
    Ok(c.query_opt(
        "SELECT 1 FROM orders WHERE id = $1 AND account_id = $2",
        &[&order.to_string(), &account.to_string()],
    )
    .await
    .map_err(db_err)?
    .is_some())
}

#[async_trait]
impl OrderNoteStore for PostgresStore {
    async fn add_order_note(
        &self,
        account: AccountId,
        order: OrderId,
        text: &NoteText,
        now: Timestamp,
    ) -> Result<Option<OrderNote>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        if !order_is_accounts(&*tx, account, order).await? {
            return Ok(None);
        }
        let sql = format!(
            "INSERT INTO order_notes (order_id, account_id, user_id, description, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {NOTE_COLUMNS}"
        );
        let row = tx
            .query_one(
                sql.as_str(),
                &[
                    &order.to_string(),
                    &account.to_string(),
                    &text.user_id,
                    &text.description,
                    &to_millis(now),
                ],
            )
            .await
            .map_err(db_err)?;
        let note = note_from_row(&row)?;
        let event = NewEvent {
            account_id: Some(account),
            order_id: Some(order),
            details: serde_json::json!({ "note_id": note.id }),
            ..NewEvent::new(EventKind::OrderNoteAdded, now)
        };
        self.append_and_commit(tx, &[event]).await?;
        Ok(Some(note))
    }

    async fn list_order_notes(
        &self,
        account: AccountId,
        order: OrderId,
    ) -> Result<Option<Vec<OrderNote>>> {
        let client = self.client().await?;
        if !order_is_accounts(&**client, account, order).await? {
            return Ok(None);
        }
        let sql = format!("SELECT {NOTE_COLUMNS} FROM order_notes WHERE order_id = $1 ORDER BY id");
        client
            .query(sql.as_str(), &[&order.to_string()])
            .await
            .map_err(db_err)?
            .iter()
            .map(note_from_row)
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}
