//! `DisconnectStore` and `OrderNoteStore`: disconnect orders (stored RECEIVED, then processed whole
//! in one transaction, each number released exactly as `release_number` releases it) and notes on
//! orders. The decisions are `disconnect::plan_number` and `disconnect::final_status`.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::disconnect::{Disconnect, NewDisconnect};
use numbers_core::error::Result;
use numbers_core::event::{EventKind, NewEvent};
use numbers_core::ids::{AccountId, DisconnectId, OrderId};
use numbers_core::note::{NoteText, OrderNote};
use numbers_core::service::AgingPolicy;
use numbers_core::store::{DisconnectFilter, DisconnectStore, OrderNoteStore};
use numbers_store_sql::Placeholder;
use numbers_store_sql::lifecycle::{
    DISCONNECT_COLUMNS, NOTES_OF, disconnect_values, insert_sql, list_disconnects,
    question_numbered, read_disconnect, read_note,
};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use crate::SqliteStore;
use crate::db::{DbResult, to_json, values};
use crate::numbers::save_released;
use crate::reservations::numbers_of;
use crate::rows::{insert_event, load_order, query_all};

fn load_disconnect(conn: &Connection, id: &str) -> Result<Option<Disconnect>> {
    let sql = format!("SELECT {DISCONNECT_COLUMNS} FROM disconnects WHERE id = ?1");
    Ok(query_all(conn, &sql, [id], |r| read_disconnect(r))?.pop())
}

#[async_trait]
impl DisconnectStore for SqliteStore {
    async fn create_disconnect(&self, d: &NewDisconnect) -> Result<Disconnect> {
        let d = d.clone();
        self.write(move |tx| {
            let (stored, event) = Disconnect::received(d);
            tx.execute(
                &question_numbered(&insert_sql("disconnects", DISCONNECT_COLUMNS)),
                params_from_iter(values(&disconnect_values(&stored)?)),
            )
            .db()?;
            insert_event(tx, &event)?;
            Ok(stored)
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
            let (sql, params) = list_disconnects(account, &f, Placeholder::QuestionNumbered);
            query_all(tx, &sql, params_from_iter(values(&params.values)), |r| {
                read_disconnect(r)
            })
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

fn load_notes(conn: &Connection, order: OrderId) -> Result<Vec<OrderNote>> {
    query_all(
        conn,
        &question_numbered(NOTES_OF),
        [order.to_string()],
        |r| read_note(r),
    )
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
