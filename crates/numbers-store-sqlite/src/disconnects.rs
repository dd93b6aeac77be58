//! `DisconnectStore` and `OrderNoteStore`: disconnect orders (stored RECEIVED, then processed whole
//! in one transaction, each number released exactly as `release_number` releases it) and notes on
//! orders. The decisions are `disconnect::plan_number` and `disconnect::final_status`.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::disconnect::{Disconnect, DisconnectMode, NewDisconnect, ProtectedChange};
use numbers_core::error::{Error, Result};
use numbers_core::event::{EventKind, NewEvent};
use numbers_core::ids::{AccountId, DisconnectId, OrderId};
use numbers_core::note::{NoteText, OrderNote};
use numbers_core::order::OrderStatus;
use numbers_core::service::AgingPolicy;
use numbers_core::store::{DisconnectFilter, DisconnectStore, OrderNoteStore};
use numbers_store_sql::{Placeholder, SqlParams, SqlValue};
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::SqliteStore;
use crate::db::{DbResult, from_json, parse_id, to_json, values};
use crate::numbers::save_released;
use crate::reservations::numbers_of;
use crate::rows::{insert_event, load_order};

const DISCONNECT_COLUMNS: &str = "id, account_id, status, numbers, mode, protected, name, customer_order_id, items, created_at, updated_at, completed_at";

type RawDisconnect = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
    Option<i64>,
);

fn raw_disconnect(r: &Row<'_>) -> rusqlite::Result<RawDisconnect> {
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
        r.get(11)?,
    ))
}

fn json_str<T: serde::Serialize>(v: &T) -> Result<String> {
    match serde_json::to_value(v).map_err(Error::internal)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(Error::internal(format!(
            "expected a string enum, got {other}"
        ))),
    }
}

fn from_str_enum<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    from_json(what, &serde_json::Value::String(s.to_string()).to_string())
}

fn disconnect_from_raw(raw: RawDisconnect) -> Result<Disconnect> {
    let (
        id,
        account,
        status,
        numbers,
        mode,
        protected,
        name,
        customer_order_id,
        items,
        created,
        updated,
        completed,
    ) = raw;
    Ok(Disconnect {
        new: NewDisconnect {
            id: parse_id("disconnect id", &id)?,
            account: parse_id("account id", &account)?,
            numbers: from_json("disconnect numbers", &numbers)?,
            mode: from_str_enum::<DisconnectMode>("disconnect mode", &mode)?,
            protected: from_str_enum::<ProtectedChange>("disconnect protected", &protected)?,
            name,
            customer_order_id,
            created_at: from_millis(created),
        },
        status: OrderStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored disconnect status {status}")))?,
        items: from_json("disconnect items", &items)?,
        updated_at: from_millis(updated),
        completed_at: completed.map(from_millis),
    })
}

fn load_disconnect(conn: &Connection, id: &str) -> Result<Option<Disconnect>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {DISCONNECT_COLUMNS} FROM disconnects WHERE id = ?1"
        ))
        .db()?;
    stmt.query_row([id], raw_disconnect)
        .optional()
        .db()?
        .map(disconnect_from_raw)
        .transpose()
}

#[async_trait]
impl DisconnectStore for SqliteStore {
    async fn create_disconnect(&self, d: &NewDisconnect) -> Result<Disconnect> {
        let d = d.clone();
        self.write(move |tx| {
            tx.execute(
                &format!("INSERT INTO disconnects ({DISCONNECT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, '[]', ?9, ?9, NULL)"),
                params![
                    d.id.to_string(),
                    d.account.to_string(),
                    OrderStatus::Received.as_str(),
                    to_json(&d.numbers)?,
                    json_str(&d.mode)?,
                    json_str(&d.protected)?,
                    d.name,
                    d.customer_order_id,
                    to_millis(d.created_at),
                ],
            )
            .db()?;
            insert_event(tx, &Disconnect::received(d.clone()).1)?;
            load_disconnect(tx, &d.id.to_string())?.ok_or_else(|| Error::internal("inserted disconnect vanished"))
        })
        .await
    }

    async fn get_disconnect(
        &self,
        account: AccountId,
        id: DisconnectId,
    ) -> Result<Option<Disconnect>> {
        self.read(move |tx| {
            Ok(load_disconnect(tx, &id.to_string())?.filter(|d| d.new.account == account))
        })
        .await
    }

    async fn list_disconnects(
        &self,
        account: AccountId,
        filter: &DisconnectFilter,
    ) -> Result<Vec<Disconnect>> {
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
            if let Some(before) = f.before {
                let p = params.text(before.to_string());
                clauses.push(format!("(created_at, id) < (SELECT created_at, id FROM disconnects WHERE id = {p})"));
            }
            let limit = params.push(SqlValue::Int(i64::from(f.page_size) + 1));
            let sql = format!(
                "SELECT {DISCONNECT_COLUMNS} FROM disconnects WHERE {} ORDER BY created_at DESC, id DESC LIMIT {limit}",
                clauses.join(" AND ")
            );
            let mut stmt = tx.prepare_cached(&sql).db()?;
            let raw = stmt
                .query_map(params_from_iter(values(&params.values)), raw_disconnect)
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
            raw.into_iter().map(disconnect_from_raw).collect()
        })
        .await
    }

    async fn process_next_disconnect(
        &self,
        aging: &AgingPolicy,
        now: Timestamp,
    ) -> Result<Option<Disconnect>> {
        let aging = aging.clone();
        self.write(move |tx| {
            // The single writer is this store's SKIP LOCKED: nobody else processes meanwhile.
            let id: Option<String> = tx
                .query_row(
                    "SELECT id FROM disconnects WHERE status = 'RECEIVED' ORDER BY created_at, id LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .db()?;
            let Some(id) = id else { return Ok(None) };
            let Some(mut d) = load_disconnect(tx, &id)? else { return Ok(None) };
            let (released, outcome) = d.process(numbers_of(tx, &d.new.numbers)?, &aging, now);
            for change in &released {
                save_released(tx, change, now)?;
            }
            tx.execute(
                "UPDATE disconnects SET status = ?2, items = ?3, updated_at = ?4, completed_at = ?5 WHERE id = ?1",
                params![id, d.status.as_str(), to_json(&d.items)?, to_millis(d.updated_at), d.completed_at.map(to_millis)],
            )
            .db()?;
            insert_event(tx, &outcome)?;
            Ok(Some(d))
        })
        .await
    }
}

type RawNote = (i64, String, String, String, String, i64);

fn raw_note(r: &Row<'_>) -> rusqlite::Result<RawNote> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn note_from_raw(raw: RawNote) -> Result<OrderNote> {
    let (id, order, account, user_id, description, created) = raw;
    Ok(OrderNote {
        id,
        order_id: parse_id("order id", &order)?,
        account: parse_id("account id", &account)?,
        text: NoteText {
            user_id,
            description,
        },
        created_at: from_millis(created),
    })
}

fn load_notes(conn: &Connection, order: OrderId) -> Result<Vec<OrderNote>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, order_id, account_id, user_id, description, created_at FROM order_notes WHERE order_id = ?1 ORDER BY id")
        .db()?;
    let raw = stmt
        .query_map([order.to_string()], raw_note)
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    raw.into_iter().map(note_from_raw).collect()
}

#[async_trait]
impl OrderNoteStore for SqliteStore {
    async fn add_order_note(
        &self,
        account: AccountId,
        order: OrderId,
        text: &NoteText,
        now: Timestamp,
    ) -> Result<Option<OrderNote>> {
        let text = text.clone();
        self.write(move |tx| {
            let account_text = account.to_string();
            if load_order(tx, Some(&account_text), order)?.is_none() {
                return Ok(None);
            }
            tx.execute(
                "INSERT INTO order_notes (order_id, account_id, user_id, description, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![order.to_string(), account_text, text.user_id, text.description, to_millis(now)],
            )
            .db()?;
            let id = tx.last_insert_rowid();
            let mut event = NewEvent::new(EventKind::OrderNoteAdded, now);
            event.account_id = Some(account);
            event.order_id = Some(order);
            event.details = serde_json::json!({ "note_id": id });
            insert_event(tx, &event)?;
            Ok(load_notes(tx, order)?.into_iter().find(|n| n.id == id))
        })
        .await
    }

    async fn list_order_notes(
        &self,
        account: AccountId,
        order: OrderId,
    ) -> Result<Option<Vec<OrderNote>>> {
        self.read(move |tx| {
            if load_order(tx, Some(&account.to_string()), order)?.is_none() {
                return Ok(None);
            }
            load_notes(tx, order).map(Some)
        })
        .await
    }
}
