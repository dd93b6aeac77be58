//! `DisconnectStore` and `OrderNoteStore`: disconnect orders (stored RECEIVED, then processed whole
//! in one transaction — the disconnect taken with SKIP LOCKED, its numbers locked in E.164 order,
//! each released exactly as `release_number` releases it) and notes on orders. The decisions are
//! `disconnect::plan_number` and `disconnect::final_status`.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::disconnect::{Disconnect, NewDisconnect};
use numbers_core::error::{Error, Result};
use numbers_core::event::{EventKind, NewEvent};
use numbers_core::ids::{AccountId, DisconnectId, OrderId};
use numbers_core::note::{NoteText, OrderNote};
use numbers_core::service::AgingPolicy;
use numbers_core::store::{DisconnectFilter, DisconnectStore, OrderNoteStore};
use numbers_store_sql::Placeholder;
use numbers_store_sql::lifecycle::{
    DISCONNECT_COLUMNS, NOTE_COLUMNS, NOTES_OF, disconnect_values, insert_sql, list_disconnects,
    read_disconnect, read_note,
};
use tokio_postgres::GenericClient;

use crate::numbers::save_released;
use crate::reservations::lock_numbers;
use crate::rows::PgRow;
use crate::{PostgresStore, binds, db_err, refs};

async fn load_disconnect<C: GenericClient + Sync>(c: &C, id: &str) -> Result<Option<Disconnect>> {
    let sql = format!("SELECT {DISCONNECT_COLUMNS} FROM disconnects WHERE id = $1");
    c.query_opt(sql.as_str(), &[&id])
        .await
        .map_err(db_err)?
        .as_ref()
        .map(|r| read_disconnect(&PgRow(r)))
        .transpose()
}

#[async_trait]
impl DisconnectStore for PostgresStore {
    async fn create_disconnect(&self, d: &NewDisconnect) -> Result<Disconnect> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let (stored, event) = Disconnect::received(d.clone());
        let values = binds(disconnect_values(&stored)?);
        tx.execute(
            &insert_sql("disconnects", DISCONNECT_COLUMNS),
            &refs(&values),
        )
        .await
        .map_err(db_err)?;
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
        let (sql, params) = list_disconnects(account, filter, Placeholder::DollarNumbered);
        let params = binds(params.values);
        let client = self.client().await?;
        client
            .query(sql.as_str(), &refs(&params))
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| read_disconnect(&PgRow(r)))
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
        let mut d = read_disconnect(&PgRow(&row))?;
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
        let note = read_note(&PgRow(&row))?;
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
        client
            .query(NOTES_OF, &[&order.to_string()])
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| read_note(&PgRow(r)))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}
