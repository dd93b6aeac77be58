//! `NumberOrderStore` on PostgreSQL: KYC requirements, number orders and their uploaded
//! documents (BYTEA). An order is one row whose indexed columns sit beside a JSON document of
//! the whole `NumberOrder` (minus attachments, which have their own rows). Every change locks the
//! order row `FOR UPDATE` first, asks the order's own methods whether it may change, then — when
//! numbers go back — locks them and the reservation in the order every other step uses
//! (numbers, then the reservation row), and appends its events last before COMMIT.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::NewEvent;
use numbers_core::ids::{AccountId, NumberOrderId};
use numbers_core::kyc::{NumberRequirements, Registration};
use numbers_core::number::NumberType;
use numbers_core::number_order::{
    AttachmentMeta, NewAttachment, NewNumberOrder, NumberOrder, NumberOrderAction,
    NumberOrderFilter, OrderedNumber, UploadStatus,
};
use numbers_core::reservation::{NewReservation, ReservationStatus};
use numbers_core::store::{NumberOrderStore, ReservationRefusals, StoredAttachment};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Transaction};
use uuid::Uuid;

use crate::reservations::{
    RESERVATION_COLUMNS, lock_held, reservation_from_row, reserve, save_returned,
};
use crate::rows::get;
use crate::{Bind, PostgresStore, db_err, refs};

const ATTACHMENT_META_COLUMNS: &str = "attachment_id, file_name, mime_type, document_type, size_bytes, upload_status, created_at, updated_at";

fn attachment_meta(row: &Row) -> Result<AttachmentMeta> {
    let id: String = get(row, 0)?;
    Ok(AttachmentMeta {
        attachment_id: Uuid::parse_str(&id)
            .map_err(|_| Error::internal(format!("stored attachment id '{id}' is not a UUID")))?,
        file_name: get(row, 1)?,
        mime_type: get(row, 2)?,
        document_type: get(row, 3)?,
        size_bytes: get::<i64>(row, 4)?.max(0) as u64,
        upload_status: UploadStatus::parse(&get::<String>(row, 5)?),
        created_at: from_millis(get(row, 6)?),
        updated_at: from_millis(get(row, 7)?),
    })
}

fn parse_order(doc: &str) -> Result<NumberOrder> {
    serde_json::from_str(doc)
        .map_err(|e| Error::internal(format!("stored number order is not valid JSON: {e}")))
}

/// The order `id` (of `account`, when given) with its attachments' metadata; `lock` takes the
/// row `FOR UPDATE`.
async fn load(
    tx: &Transaction<'_>,
    account: Option<AccountId>,
    id: NumberOrderId,
    lock: bool,
) -> Result<Option<NumberOrder>> {
    let sql = if lock {
        "SELECT document FROM number_orders WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT document FROM number_orders WHERE id = $1"
    };
    let Some(row) = tx
        .query_opt(sql, &[&id.to_string()])
        .await
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    let mut order = parse_order(&get::<String>(&row, 0)?)?;
    if account.is_some_and(|a| a != order.account) {
        return Ok(None);
    }
    let rows = tx
        .query(
            &format!(
                "SELECT {ATTACHMENT_META_COLUMNS} FROM number_order_attachments WHERE number_order_id = $1"
            ),
            &[&id.to_string()],
        )
        .await
        .map_err(db_err)?;
    let mut attachments = rows
        .iter()
        .map(attachment_meta)
        .collect::<Result<Vec<_>>>()?;
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

async fn save(tx: &Transaction<'_>, order: &NumberOrder, insert: bool) -> Result<()> {
    let mut doc = order.clone();
    doc.attachments.clear();
    let doc = serde_json::to_string(&doc).map_err(Error::internal)?;
    let sql = if insert {
        "INSERT INTO number_orders (id, account_id, state, reservation_id, expire_at, created_at, updated_at, version, document) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    } else {
        "UPDATE number_orders SET account_id = $2, state = $3, reservation_id = $4, expire_at = $5, created_at = $6, \
         updated_at = $7, version = $8, document = $9 WHERE id = $1"
    };
    tx.execute(
        sql,
        &[
            &order.id.to_string(),
            &order.account.to_string(),
            &order.state.as_str(),
            &order.reservation_id.to_string(),
            &to_millis(order.expire_at),
            &to_millis(order.created_at),
            &to_millis(order.updated_at),
            &order.version,
            &doc,
        ],
    )
    .await
    .map_err(db_err)?;
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
                "INSERT INTO number_requirements (region_code, number_type, document, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT ON CONSTRAINT number_requirements_pkey DO UPDATE SET document = EXCLUDED.document, updated_at = EXCLUDED.updated_at",
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
            .query_opt(
                "SELECT document FROM number_requirements WHERE region_code = $1 AND number_type = $2",
                &[&region_code, &number_type.as_str()],
            )
            .await
            .map_err(db_err)?;
        row.map(|r| {
            let doc: String = get(&r, 0)?;
            serde_json::from_str(&doc).map_err(|e| {
                Error::internal(format!(
                    "stored number requirements are not valid JSON: {e}"
                ))
            })
        })
        .transpose()
    }

    async fn list_number_requirements(&self) -> Result<Vec<NumberRequirements>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT document FROM number_requirements ORDER BY region_code, number_type",
                &[],
            )
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let doc: String = get(r, 0)?;
                serde_json::from_str(&doc).map_err(|e| {
                    Error::internal(format!(
                        "stored number requirements are not valid JSON: {e}"
                    ))
                })
            })
            .collect()
    }

    async fn create_number_order(
        &self,
        new: &NewNumberOrder,
    ) -> Result<std::result::Result<NumberOrder, ReservationRefusals>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let reservation = NewReservation {
            id: new.reservation_id,
            account: new.account,
            numbers: new.numbers.clone(),
            created_at: new.created_at,
            expires_at: new.expire_at,
        };
        let (numbers, mut events) = match reserve(&tx, &reservation).await? {
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
        let mut clauses = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        if let Some(a) = filter.account {
            binds.push(Box::new(a.to_string()));
            clauses.push(format!("account_id = ${}", binds.len()));
        }
        if !filter.states.is_empty() {
            let states: Vec<String> = filter
                .states
                .iter()
                .map(|s| s.as_str().to_string())
                .collect();
            binds.push(Box::new(states));
            clauses.push(format!("state = ANY(${})", binds.len()));
        }
        if let Some(before) = filter.before {
            binds.push(Box::new(before.to_string()));
            clauses.push(format!("id < ${}", binds.len()));
        }
        let where_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let params: Vec<&(dyn ToSql + Sync)> = refs(&binds);
        let rows = tx
            .query(
                &format!(
                    "SELECT id FROM number_orders {where_sql} ORDER BY id DESC LIMIT {}",
                    u64::from(filter.page_size) + 1
                ),
                &params,
            )
            .await
            .map_err(db_err)?;
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
        order.put_attachment(attachment.meta.clone(), now)?;
        let m = order
            .attachments
            .iter()
            .find(|a| a.attachment_id == attachment.meta.attachment_id)
            .cloned()
            .ok_or_else(|| Error::internal("attachment vanished while being stored"))?;
        tx.execute(
            "INSERT INTO number_order_attachments (number_order_id, attachment_id, file_name, mime_type, document_type, \
             size_bytes, upload_status, content, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT ON CONSTRAINT number_order_attachments_pkey DO UPDATE SET file_name = EXCLUDED.file_name, \
             mime_type = EXCLUDED.mime_type, document_type = EXCLUDED.document_type, size_bytes = EXCLUDED.size_bytes, \
             upload_status = EXCLUDED.upload_status, content = EXCLUDED.content, updated_at = EXCLUDED.updated_at",
            &[
                &id.to_string(),
                &m.attachment_id.to_string(),
                &m.file_name,
                &m.mime_type,
                &m.document_type,
                &(m.size_bytes as i64),
                &m.upload_status.as_str(),
                &attachment.content,
                &to_millis(m.created_at),
                &to_millis(m.updated_at),
            ],
        )
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
                &format!(
                    "SELECT {ATTACHMENT_META_COLUMNS}, content FROM number_order_attachments \
                     WHERE number_order_id = $1 AND attachment_id = $2"
                ),
                &[&id.to_string(), &attachment_id.to_string()],
            )
            .await
            .map_err(db_err)?;
        row.map(|r| {
            Ok(StoredAttachment {
                meta: attachment_meta(&r)?,
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
                "SELECT o.id FROM number_orders o WHERE o.state IN ('CREATED', 'IN_REVIEW') AND o.expire_at <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM reservations r WHERE r.id = o.reservation_id AND r.status = 'ORDERED') \
                 ORDER BY o.expire_at, o.id LIMIT $2 FOR UPDATE OF o SKIP LOCKED",
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
