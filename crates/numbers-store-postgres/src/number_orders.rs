//! `NumberOrderStore` on PostgreSQL: KYC requirements, number orders and their uploaded
//! documents (BYTEA). An order is one row whose indexed columns sit beside a JSON document of
//! the whole `NumberOrder` (minus attachments, which have their own rows). Every change locks the
//! order row `FOR UPDATE` first, asks the order's own methods whether it may change, then — when
//! numbers go back — locks them and the reservation in the order every other step uses
//! (numbers, then the reservation row), and appends its events last before COMMIT.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::NewEvent;
use numbers_core::ids::{AccountId, NumberOrderId};
use numbers_core::kyc::{NumberRequirements, Registration};
use numbers_core::number::NumberType;
use numbers_core::number_order::{
    NewAttachment, NewNumberOrder, NumberOrder, NumberOrderAction, NumberOrderFilter, OrderedNumber,
};
use numbers_core::reservation::ReservationStatus;
use numbers_core::store::{NumberOrderStore, ReservationRefusals, StoredAttachment};
use numbers_store_sql::Placeholder;
use numbers_store_sql::lifecycle::{
    ALL_REQUIREMENTS, ATTACHMENT_WITH_CONTENT, ATTACHMENTS_OF, DUE_NUMBER_ORDERS,
    NUMBER_ORDER_COLUMNS, NUMBER_ORDER_DOCUMENT, PUT_REQUIREMENTS, REQUIREMENTS_BY_KEY,
    UPDATE_NUMBER_ORDER, UPSERT_ATTACHMENT, attachment_values, from_json, insert_sql,
    list_number_orders, number_order_values, read_attachment_meta, read_number_order,
    with_attachments,
};
use tokio_postgres::Transaction;
use uuid::Uuid;

use crate::reservations::{
    RESERVATION_COLUMNS, lock_held, reservation_from_row, reserve, save_returned,
};
use crate::rows::{PgRow, get};
use crate::{PostgresStore, binds, db_err, refs};

/// The order `id` (of `account`, when given) with its attachments' metadata; `lock` takes the
/// row `FOR UPDATE`.
async fn load(
    tx: &Transaction<'_>,
    account: Option<AccountId>,
    id: NumberOrderId,
    lock: bool,
) -> Result<Option<NumberOrder>> {
    let sql = if lock {
        format!("{NUMBER_ORDER_DOCUMENT} FOR UPDATE")
    } else {
        NUMBER_ORDER_DOCUMENT.to_string()
    };
    let id = id.to_string();
    let Some(row) = tx.query_opt(&sql, &[&id]).await.map_err(db_err)? else {
        return Ok(None);
    };
    let order = read_number_order(&get::<String>(&row, 0)?)?;
    if account.is_some_and(|a| a != order.account) {
        return Ok(None);
    }
    let rows = tx.query(ATTACHMENTS_OF, &[&id]).await.map_err(db_err)?;
    let metas = rows
        .iter()
        .map(|r| read_attachment_meta(&PgRow(r)))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(with_attachments(order, metas)))
}

/// Writes the order's columns and document (attachments live in their own rows).
async fn save(tx: &Transaction<'_>, order: &NumberOrder, new: bool) -> Result<()> {
    let sql = if new {
        insert_sql("number_orders", NUMBER_ORDER_COLUMNS)
    } else {
        UPDATE_NUMBER_ORDER.to_string()
    };
    let values = binds(number_order_values(order)?);
    tx.execute(&sql, &refs(&values)).await.map_err(db_err)?;
    Ok(())
}

/// Applies `action` to the locked order, returns its numbers when the effect says so, saves it;
/// the events to append (number events, then the order's state event).
async fn act(
    tx: &Transaction<'_>,
    mut order: NumberOrder,
    action: &NumberOrderAction,
    now: Timestamp,
) -> Result<(NumberOrder, Vec<NewEvent>)> {
    let effect = order.apply(action, now)?;
    let mut events = Vec::new();
    if let Some(status) = effect.ends_reservation_as() {
        let held = lock_held(tx, order.reservation_id).await?;
        let row = tx
            .query_opt(
                &format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = $1 FOR UPDATE"),
                &[&order.reservation_id.to_string()],
            )
            .await
            .map_err(db_err)?;
        // A reservation the reservation sweep already expired (or the tenant released) has
        // nothing left to return.
        if let Some(mut reservation) = row.as_ref().map(reservation_from_row).transpose()?
            && reservation.status == ReservationStatus::Active
        {
            let returned = reservation.end(status, held, now);
            events.extend(save_returned(tx, &reservation, returned).await?);
        }
    }
    save(tx, &order, false).await?;
    events.push(order.state_event(now));
    Ok((order, events))
}

#[async_trait]
impl NumberOrderStore for PostgresStore {
    async fn put_number_requirements(
        &self,
        requirements: &NumberRequirements,
        at: Timestamp,
    ) -> Result<()> {
        let client = self.client().await?;
        let doc = serde_json::to_string(requirements).map_err(Error::internal)?;
        client
            .execute(
                PUT_REQUIREMENTS,
                &[
                    &requirements.region_code,
                    &requirements.number_type.as_str(),
                    &doc,
                    &to_millis(at),
                ],
            )
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn get_number_requirements(
        &self,
        region_code: &str,
        number_type: NumberType,
    ) -> Result<Option<NumberRequirements>> {
        let client = self.client().await?;
        let row = client
            .query_opt(REQUIREMENTS_BY_KEY, &[&region_code, &number_type.as_str()])
            .await
            .map_err(db_err)?;
        row.map(|r| from_json("number requirements", &get::<String>(&r, 0)?))
            .transpose()
    }

    async fn list_number_requirements(&self) -> Result<Vec<NumberRequirements>> {
        let client = self.client().await?;
        let rows = client.query(ALL_REQUIREMENTS, &[]).await.map_err(db_err)?;
        rows.iter()
            .map(|r| from_json("number requirements", &get::<String>(r, 0)?))
            .collect()
    }

    async fn create_number_order(
        &self,
        new: &NewNumberOrder,
    ) -> Result<std::result::Result<NumberOrder, ReservationRefusals>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let (numbers, mut events) = match reserve(&tx, &new.reservation()).await? {
            Ok(done) => (done.numbers, done.events),
            Err(refusals) => return Ok(Err(refusals)),
        };
        let order = NumberOrder::created(new, numbers.iter().map(OrderedNumber::of).collect());
        save(&tx, &order, true).await?;
        events.push(order.state_event(order.created_at));
        self.append_and_commit(tx, &events).await?;
        Ok(Ok(order))
    }

    async fn get_number_order(
        &self,
        account: Option<AccountId>,
        id: NumberOrderId,
    ) -> Result<Option<NumberOrder>> {
        let mut client = self.client().await?;
        // One snapshot for the row and its attachments.
        let tx = client.transaction().await.map_err(db_err)?;
        load(&tx, account, id, false).await
    }

    async fn list_number_orders(&self, filter: &NumberOrderFilter) -> Result<Vec<NumberOrder>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let (sql, params) = list_number_orders(filter, Placeholder::DollarNumbered);
        let params = binds(params.values);
        let rows = tx.query(&sql, &refs(&params)).await.map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = get(row, 0)?;
            let id: NumberOrderId = id.parse().map_err(|_| {
                Error::internal(format!("stored number order id '{id}' is not a UUID"))
            })?;
            if let Some(o) = load(&tx, None, id, false).await? {
                out.push(o);
            }
        }
        Ok(out)
    }

    async fn set_number_order_registration(
        &self,
        account: AccountId,
        id: NumberOrderId,
        registration: &Registration,
        now: Timestamp,
    ) -> Result<Option<NumberOrder>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let Some(mut order) = load(&tx, Some(account), id, true).await? else {
            return Ok(None);
        };
        order.set_registration(registration.clone(), now)?;
        save(&tx, &order, false).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(order))
    }

    async fn put_number_order_attachment(
        &self,
        account: AccountId,
        id: NumberOrderId,
        attachment: &NewAttachment,
        now: Timestamp,
    ) -> Result<Option<NumberOrder>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let Some(mut order) = load(&tx, Some(account), id, true).await? else {
            return Ok(None);
        };
        let m = order.put_attachment(attachment.meta.clone(), now)?;
        let mut values = binds(attachment_values(&order, &m));
        values.push(Box::new(attachment.content.clone()));
        tx.execute(UPSERT_ATTACHMENT, &refs(&values))
            .await
            .map_err(db_err)?;
        save(&tx, &order, false).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(order))
    }

    async fn get_number_order_attachment(
        &self,
        account: Option<AccountId>,
        id: NumberOrderId,
        attachment_id: Uuid,
    ) -> Result<Option<StoredAttachment>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        if load(&tx, account, id, false).await?.is_none() {
            return Ok(None);
        }
        let row = tx
            .query_opt(
                ATTACHMENT_WITH_CONTENT,
                &[&id.to_string(), &attachment_id.to_string()],
            )
            .await
            .map_err(db_err)?;
        row.map(|r| {
            Ok(StoredAttachment {
                meta: read_attachment_meta(&PgRow(&r))?,
                content: get(&r, 8)?,
            })
        })
        .transpose()
    }

    async fn act_on_number_order(
        &self,
        account: Option<AccountId>,
        id: NumberOrderId,
        action: &NumberOrderAction,
        now: Timestamp,
    ) -> Result<Option<NumberOrder>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let Some(order) = load(&tx, account, id, true).await? else {
            return Ok(None);
        };
        let (order, events) = act(&tx, order, action, now).await?;
        self.append_and_commit(tx, &events).await?;
        Ok(Some(order))
    }

    async fn expire_number_orders(&self, now: Timestamp, limit: u32) -> Result<u32> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        // SKIP LOCKED: an order another process is changing right now is theirs; the next pass
        // re-reads it.
        let rows = tx
            .query(
                &format!("{DUE_NUMBER_ORDERS} FOR UPDATE OF o SKIP LOCKED"),
                &[&to_millis(now), &i64::from(limit)],
            )
            .await
            .map_err(db_err)?;
        let mut events = Vec::new();
        let mut count = 0;
        for row in &rows {
            let id: String = get(row, 0)?;
            let id: NumberOrderId = id.parse().map_err(|_| {
                Error::internal(format!("stored number order id '{id}' is not a UUID"))
            })?;
            // Locked above, so still open and due.
            if let Some(order) = load(&tx, None, id, false).await? {
                let (_, e) = act(&tx, order, &NumberOrderAction::Expire, now).await?;
                events.extend(e);
                count += 1;
            }
        }
        self.append_and_commit(tx, &events).await?;
        Ok(count)
    }
}
