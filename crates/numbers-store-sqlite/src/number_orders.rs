//! `NumberOrderStore` on SQLite: KYC requirements, number orders and their uploaded documents.
//! An order is one row whose indexed columns (account, state, expiry, reservation) sit beside a
//! JSON document of the whole `NumberOrder` (minus attachments, which have their own rows with
//! their bytes). Every change loads the row inside the single-writer transaction, asks the
//! order's own methods whether it may change, and writes the result with its events.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::Result;
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
    NUMBER_ORDER_COLUMNS, NUMBER_ORDER_DOCUMENT, PUT_REQUIREMENTS, REQUIREMENTS_BY_KEY, SqlRow,
    UPDATE_NUMBER_ORDER, UPSERT_ATTACHMENT, attachment_values, insert_sql, list_number_orders,
    number_order_values, question_numbered, read_attachment_meta, read_number_order,
    with_attachments,
};
use rusqlite::types::Value;
use rusqlite::{Connection, params, params_from_iter};
use uuid::Uuid;

use crate::SqliteStore;
use crate::db::{DbResult, from_json, parse_id, to_json, values};
use crate::reservations::{end_reservation, reserve};
use crate::rows::{insert_event, load_reservation, query_all};

/// The order `id` (of `account`, when given) with its attachments' metadata.
fn load(
    conn: &Connection,
    account: Option<AccountId>,
    id: NumberOrderId,
) -> Result<Option<NumberOrder>> {
    let id = id.to_string();
    let docs = query_all(
        conn,
        &question_numbered(NUMBER_ORDER_DOCUMENT),
        [&id],
        |r| r.text(0),
    )?;
    let Some(order) = docs.first().map(|d| read_number_order(d)).transpose()? else {
        return Ok(None);
    };
    if account.is_some_and(|a| a != order.account) {
        return Ok(None);
    }
    let metas = query_all(conn, &question_numbered(ATTACHMENTS_OF), [&id], |r| {
        read_attachment_meta(r)
    })?;
    Ok(Some(with_attachments(order, metas)))
}

/// Writes the order's columns and document (attachments live in their own rows).
fn save(conn: &Connection, order: &NumberOrder, new: bool) -> Result<()> {
    let sql = if new {
        question_numbered(&insert_sql("number_orders", NUMBER_ORDER_COLUMNS))
    } else {
        question_numbered(UPDATE_NUMBER_ORDER)
    };
    conn.prepare_cached(&sql)
        .db()?
        .execute(params_from_iter(values(&number_order_values(order)?)))
        .db()?;
    Ok(())
}

/// Applies `action` to the loaded order, moves its numbers as the effect says, saves it and
/// appends its state event.
fn act(
    conn: &Connection,
    mut order: NumberOrder,
    action: &NumberOrderAction,
    now: Timestamp,
) -> Result<NumberOrder> {
    let effect = order.apply(action, now)?;
    if let Some(status) = effect.ends_reservation_as()
        && let Some(mut r) = load_reservation(conn, &order.reservation_id.to_string())?
        // A reservation the reservation sweep already expired (or the tenant released) has
        // nothing left to return.
        && r.status == ReservationStatus::Active
    {
        end_reservation(conn, &mut r, status, now)?;
    }
    save(conn, &order, false)?;
    insert_event(conn, &order.state_event(now))?;
    Ok(order)
}

#[async_trait]
impl NumberOrderStore for SqliteStore {
    async fn put_number_requirements(
        &self,
        requirements: &NumberRequirements,
        at: Timestamp,
    ) -> Result<()> {
        let r = requirements.clone();
        self.write(move |tx| {
            tx.prepare_cached(&question_numbered(PUT_REQUIREMENTS))
                .db()?
                .execute(params![
                    r.region_code,
                    r.number_type.as_str(),
                    to_json(&r)?,
                    to_millis(at)
                ])
                .db()?;
            Ok(())
        })
        .await
    }

    async fn get_number_requirements(
        &self,
        region_code: &str,
        number_type: NumberType,
    ) -> Result<Option<NumberRequirements>> {
        let region = region_code.to_string();
        self.read(move |tx| {
            let docs = query_all(
                tx,
                &question_numbered(REQUIREMENTS_BY_KEY),
                params![region, number_type.as_str()],
                |r| r.text(0),
            )?;
            docs.first()
                .map(|d| from_json("number requirements", d))
                .transpose()
        })
        .await
    }

    async fn list_number_requirements(&self) -> Result<Vec<NumberRequirements>> {
        self.read(|tx| {
            let docs = query_all(tx, ALL_REQUIREMENTS, [], |r| r.text(0))?;
            docs.iter()
                .map(|d| from_json("number requirements", d))
                .collect()
        })
        .await
    }

    async fn create_number_order(
        &self,
        order: &NewNumberOrder,
    ) -> Result<std::result::Result<NumberOrder, ReservationRefusals>> {
        let new = order.clone();
        self.write(move |tx| {
            let numbers = match reserve(tx, &new.reservation())? {
                Ok(done) => done.numbers,
                Err(refusals) => return Ok(Err(refusals)),
            };
            let order = NumberOrder::created(&new, numbers.iter().map(OrderedNumber::of).collect());
            save(tx, &order, true)?;
            insert_event(tx, &order.state_event(order.created_at))?;
            Ok(Ok(order))
        })
        .await
    }

    async fn get_number_order(
        &self,
        account: Option<AccountId>,
        id: NumberOrderId,
    ) -> Result<Option<NumberOrder>> {
        self.read(move |tx| load(tx, account, id)).await
    }

    async fn list_number_orders(&self, filter: &NumberOrderFilter) -> Result<Vec<NumberOrder>> {
        let f = filter.clone();
        self.read(move |tx| {
            let (sql, params) = list_number_orders(&f, Placeholder::QuestionNumbered);
            let ids = query_all(tx, &sql, params_from_iter(values(&params.values)), |r| {
                r.text(0)
            })?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let id: NumberOrderId = parse_id("number order id", &id)?;
                if let Some(o) = load(tx, None, id)? {
                    out.push(o);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn set_number_order_registration(
        &self,
        account: AccountId,
        id: NumberOrderId,
        registration: &Registration,
        now: Timestamp,
    ) -> Result<Option<NumberOrder>> {
        let registration = registration.clone();
        self.write(move |tx| {
            let Some(mut order) = load(tx, Some(account), id)? else {
                return Ok(None);
            };
            order.set_registration(registration, now)?;
            save(tx, &order, false)?;
            Ok(Some(order))
        })
        .await
    }

    async fn put_number_order_attachment(
        &self,
        account: AccountId,
        id: NumberOrderId,
        attachment: &NewAttachment,
        now: Timestamp,
    ) -> Result<Option<NumberOrder>> {
        let attachment = attachment.clone();
        self.write(move |tx| {
            let Some(mut order) = load(tx, Some(account), id)? else {
                return Ok(None);
            };
            let m = order.put_attachment(attachment.meta.clone(), now)?;
            let mut binds = values(&attachment_values(&order, &m));
            binds.push(Value::Blob(attachment.content.clone()));
            tx.prepare_cached(&question_numbered(UPSERT_ATTACHMENT))
                .db()?
                .execute(params_from_iter(binds))
                .db()?;
            save(tx, &order, false)?;
            Ok(Some(order))
        })
        .await
    }

    async fn get_number_order_attachment(
        &self,
        account: Option<AccountId>,
        id: NumberOrderId,
        attachment_id: Uuid,
    ) -> Result<Option<StoredAttachment>> {
        self.read(move |tx| {
            if load(tx, account, id)?.is_none() {
                return Ok(None);
            }
            let found = query_all(
                tx,
                &question_numbered(ATTACHMENT_WITH_CONTENT),
                params![id.to_string(), attachment_id.to_string()],
                |r| {
                    Ok(StoredAttachment {
                        meta: read_attachment_meta(r)?,
                        content: r.0.get(8).db()?,
                    })
                },
            )?;
            Ok(found.into_iter().next())
        })
        .await
    }

    async fn act_on_number_order(
        &self,
        account: Option<AccountId>,
        id: NumberOrderId,
        action: &NumberOrderAction,
        now: Timestamp,
    ) -> Result<Option<NumberOrder>> {
        let action = action.clone();
        self.write(move |tx| {
            let Some(order) = load(tx, account, id)? else {
                return Ok(None);
            };
            act(tx, order, &action, now).map(Some)
        })
        .await
    }

    async fn expire_number_orders(&self, now: Timestamp, limit: u32) -> Result<u32> {
        self.write(move |tx| {
            let ids = query_all(
                tx,
                &question_numbered(DUE_NUMBER_ORDERS),
                params![to_millis(now), i64::from(limit)],
                |r| r.text(0),
            )?;
            let mut count = 0;
            for id in ids {
                let id: NumberOrderId = parse_id("number order id", &id)?;
                if let Some(order) = load(tx, None, id)? {
                    act(tx, order, &NumberOrderAction::Expire, now)?;
                    count += 1;
                }
            }
            Ok(count)
        })
        .await
    }
}
