//! `NumberOrderStore` on SQLite: KYC requirements, number orders and their uploaded documents.
//! An order is one row whose indexed columns (account, state, expiry, reservation) sit beside a
//! JSON document of the whole `NumberOrder` (minus attachments, which have their own rows with
//! their bytes). Every change loads the row inside the single-writer transaction, asks the
//! order's own methods whether it may change, and writes the result with its events.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::ids::{AccountId, NumberOrderId};
use numbers_core::kyc::{NumberRequirements, Registration};
use numbers_core::number::NumberType;
use numbers_core::number_order::{
    AttachmentMeta, NewAttachment, NewNumberOrder, NumberOrder, NumberOrderAction,
    NumberOrderFilter, OrderedNumber, UploadStatus,
};
use numbers_core::reservation::{NewReservation, ReservationStatus};
use numbers_core::store::{NumberOrderStore, ReservationRefusals, StoredAttachment};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use uuid::Uuid;

use crate::SqliteStore;
use crate::db::{DbResult, from_json, parse_id, to_json};
use crate::reservations::{end_reservation, reserve};
use crate::rows::{insert_event, load_reservation};

const ATTACHMENT_META_COLUMNS: &str = "attachment_id, file_name, mime_type, document_type, size_bytes, upload_status, created_at, updated_at";

fn attachment_meta(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, AttachmentMeta)> {
    let id: String = r.get(0)?;
    Ok((
        id,
        AttachmentMeta {
            attachment_id: Uuid::nil(),
            file_name: r.get(1)?,
            mime_type: r.get(2)?,
            document_type: r.get(3)?,
            size_bytes: r.get::<_, i64>(4)?.max(0) as u64,
            upload_status: UploadStatus::parse(&r.get::<_, String>(5)?),
            created_at: from_millis(r.get(6)?),
            updated_at: from_millis(r.get(7)?),
        },
    ))
}

fn with_id((id, mut meta): (String, AttachmentMeta)) -> Result<AttachmentMeta> {
    meta.attachment_id = Uuid::parse_str(&id)
        .map_err(|_| Error::internal(format!("stored attachment id '{id}' is not a UUID")))?;
    Ok(meta)
}

/// The order `id` (of `account`, when given) with its attachments' metadata.
fn load(
    conn: &Connection,
    account: Option<AccountId>,
    id: NumberOrderId,
) -> Result<Option<NumberOrder>> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT document FROM number_orders WHERE id = ?1")
        .db()?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()
        .db()?;
    let Some(doc) = doc else { return Ok(None) };
    let mut order: NumberOrder = from_json("number order", &doc)?;
    if account.is_some_and(|a| a != order.account) {
        return Ok(None);
    }
    let metas = conn
        .prepare_cached(&format!(
            "SELECT {ATTACHMENT_META_COLUMNS} FROM number_order_attachments WHERE number_order_id = ?1"
        ))
        .db()?
        .query_map([id.to_string()], attachment_meta)
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    let mut attachments = metas.into_iter().map(with_id).collect::<Result<Vec<_>>>()?;
    let rank: Vec<Uuid> = order
        .requirements
        .attachments
        .iter()
        .map(|a| a.id)
        .collect();
    attachments.sort_by_key(|a| rank.iter().position(|r| *r == a.attachment_id));
    order.attachments = attachments;
    Ok(Some(order))
}

/// Writes the order's columns and document (attachments live in their own rows).
fn save(conn: &Connection, order: &NumberOrder, insert: bool) -> Result<()> {
    let mut doc = order.clone();
    doc.attachments.clear();
    let doc = to_json(&doc)?;
    let sql = if insert {
        "INSERT INTO number_orders (id, account_id, state, reservation_id, expire_at, created_at, updated_at, version, document) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    } else {
        "UPDATE number_orders SET account_id = ?2, state = ?3, reservation_id = ?4, expire_at = ?5, created_at = ?6, \
         updated_at = ?7, version = ?8, document = ?9 WHERE id = ?1"
    };
    conn.prepare_cached(sql)
        .db()?
        .execute(params![
            order.id.to_string(),
            order.account.to_string(),
            order.state.as_str(),
            order.reservation_id.to_string(),
            to_millis(order.expire_at),
            to_millis(order.created_at),
            to_millis(order.updated_at),
            order.version,
            doc,
        ])
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
            tx.prepare_cached(
                "INSERT INTO number_requirements (region_code, number_type, document, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (region_code, number_type) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at",
            )
            .db()?
            .execute(params![r.region_code, r.number_type.as_str(), to_json(&r)?, to_millis(at)])
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
            let doc: Option<String> = tx
                .prepare_cached(
                    "SELECT document FROM number_requirements WHERE region_code = ?1 AND number_type = ?2",
                )
                .db()?
                .query_row(params![region, number_type.as_str()], |r| r.get(0))
                .optional()
                .db()?;
            doc.map(|d| from_json("number requirements", &d)).transpose()
        })
        .await
    }

    async fn list_number_requirements(&self) -> Result<Vec<NumberRequirements>> {
        self.read(|tx| {
            let docs = tx
                .prepare_cached(
                    "SELECT document FROM number_requirements ORDER BY region_code, number_type",
                )
                .db()?
                .query_map([], |r| r.get::<_, String>(0))
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
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
            let reservation = NewReservation {
                id: new.reservation_id,
                account: new.account,
                numbers: new.numbers.clone(),
                created_at: new.created_at,
                expires_at: new.expire_at,
            };
            let numbers = match reserve(tx, &reservation)? {
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
            let mut clauses = Vec::new();
            let mut values: Vec<String> = Vec::new();
            if let Some(a) = f.account {
                values.push(a.to_string());
                clauses.push(format!("account_id = ?{}", values.len()));
            }
            if !f.states.is_empty() {
                let marks: Vec<String> = f
                    .states
                    .iter()
                    .map(|s| {
                        values.push(s.as_str().to_string());
                        format!("?{}", values.len())
                    })
                    .collect();
                clauses.push(format!("state IN ({})", marks.join(", ")));
            }
            if let Some(before) = f.before {
                values.push(before.to_string());
                clauses.push(format!("id < ?{}", values.len()));
            }
            let where_sql = if clauses.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", clauses.join(" AND "))
            };
            let ids = tx
                .prepare_cached(&format!(
                    "SELECT id FROM number_orders {where_sql} ORDER BY id DESC LIMIT {}",
                    u64::from(f.page_size) + 1
                ))
                .db()?
                .query_map(params_from_iter(values.iter()), |r| r.get::<_, String>(0))
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
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
            order.put_attachment(attachment.meta.clone(), now)?;
            let m = order
                .attachments
                .iter()
                .find(|a| a.attachment_id == attachment.meta.attachment_id)
                .cloned()
                .ok_or_else(|| Error::internal("attachment vanished while being stored"))?;
            tx.prepare_cached(
                "INSERT INTO number_order_attachments (number_order_id, attachment_id, file_name, mime_type, document_type, \
                 size_bytes, upload_status, content, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (number_order_id, attachment_id) DO UPDATE SET file_name = excluded.file_name, \
                 mime_type = excluded.mime_type, document_type = excluded.document_type, size_bytes = excluded.size_bytes, \
                 upload_status = excluded.upload_status, content = excluded.content, updated_at = excluded.updated_at",
            )
            .db()?
            .execute(params![
                id.to_string(),
                m.attachment_id.to_string(),
                m.file_name,
                m.mime_type,
                m.document_type,
                m.size_bytes as i64,
                m.upload_status.as_str(),
                attachment.content,
                to_millis(m.created_at),
                to_millis(m.updated_at),
            ])
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
            let row = tx
                .prepare_cached(&format!(
                    "SELECT {ATTACHMENT_META_COLUMNS}, content FROM number_order_attachments \
                     WHERE number_order_id = ?1 AND attachment_id = ?2"
                ))
                .db()?
                .query_row(params![id.to_string(), attachment_id.to_string()], |r| {
                    Ok((attachment_meta(r)?, r.get::<_, Vec<u8>>(8)?))
                })
                .optional()
                .db()?;
            row.map(|(meta, content)| {
                Ok(StoredAttachment {
                    meta: with_id(meta)?,
                    content,
                })
            })
            .transpose()
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
            let ids = tx
                .prepare_cached(
                    "SELECT o.id FROM number_orders o WHERE o.state IN ('CREATED', 'IN_REVIEW') AND o.expire_at <= ?1 \
                     AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.id = o.reservation_id AND r.status = 'ORDERED') \
                     ORDER BY o.expire_at, o.id LIMIT ?2",
                )
                .db()?
                .query_map(params![to_millis(now), i64::from(limit)], |r| {
                    r.get::<_, String>(0)
                })
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
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
