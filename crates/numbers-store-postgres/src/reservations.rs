//! Reservations (`ReservationStore`): holding specific numbers for one account, all or nothing,
//! and giving them back on release or expiry. Numbers are locked `FOR UPDATE` in E.164 order so
//! two overlapping reservations queue instead of deadlocking.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::NewEvent;
use numbers_core::ids::{AccountId, ReservationId};
use numbers_core::number::Number;
use numbers_core::reservation::{
    NewReservation, Reservation, ReservationStatus, Reserved, Returned,
};
use numbers_core::store::{ReservationRefusals, ReservationStore};
pub(crate) use numbers_store_sql::lifecycle::RESERVATION_COLUMNS;
use numbers_store_sql::lifecycle::{insert_sql, read_reservation, reservation_values};
use tokio_postgres::{Row, Transaction};

use crate::rows::{PgRow, get, numbers_from_rows, select_numbers, update_numbers};
use crate::{PostgresStore, binds, db_err, refs};

pub(crate) fn reservation_from_row(row: &Row) -> Result<Reservation> {
    read_reservation(&PgRow(row))
}

/// Locks the numbers with these E.164s, in E.164 order (the one lock order every step uses).
pub(crate) async fn lock_numbers(tx: &Transaction<'_>, e164s: &[String]) -> Result<Vec<Number>> {
    let sql = format!(
        "{} WHERE e164 = ANY($1) ORDER BY e164 FOR UPDATE",
        select_numbers()
    );
    let rows = tx.query(sql.as_str(), &[&e164s]).await.map_err(db_err)?;
    numbers_from_rows(&rows)
}

/// Locks the numbers still RESERVED under reservation `id`, in E.164 order.
///
/// Lock order: releasing and expiring lock a reservation's numbers BEFORE its row, as order
/// fulfilment does (numbers, then the reservation it marks ORDERED), so the two never wait on
/// each other in a cycle.
pub(crate) async fn lock_held(tx: &Transaction<'_>, id: ReservationId) -> Result<Vec<Number>> {
    let sql = format!(
        "{} WHERE reservation_id = $1 AND state = 'RESERVED' ORDER BY e164 FOR UPDATE",
        select_numbers()
    );
    let rows = tx
        .query(sql.as_str(), &[&id.to_string()])
        .await
        .map_err(db_err)?;
    numbers_from_rows(&rows)
}

/// Saves what ending a reservation changed (the numbers it gave back, its status); returns the
/// numbers' events for the caller to append last.
/// Locks the reservations with these ids, in id order.
pub(crate) async fn lock_reservations(
    tx: &Transaction<'_>,
    ids: &[String],
) -> Result<Vec<Reservation>> {
    let rows = tx
        .query(
            &format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = ANY($1) ORDER BY id FOR UPDATE"),
            &[&ids],
        )
        .await
        .map_err(db_err)?;
    rows.iter().map(reservation_from_row).collect()
}

/// Writes the status core gave each of these reservations, in one statement.
pub(crate) async fn save_statuses(tx: &Transaction<'_>, changed: &[Reservation]) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = changed.iter().map(|r| r.id.to_string()).collect();
    let statuses: Vec<&str> = changed.iter().map(|r| r.status.as_str()).collect();
    let updated: Vec<i64> = changed.iter().map(|r| to_millis(r.updated_at)).collect();
    tx.execute(
        "UPDATE reservations AS r SET status = u.status, updated_at = u.updated_at \
         FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BIGINT[]) AS u(id, status, updated_at) WHERE r.id = u.id",
        &[&ids, &statuses, &updated],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(crate) async fn save_returned(
    tx: &Transaction<'_>,
    r: &Reservation,
    returned: Returned,
) -> Result<Vec<NewEvent>> {
    update_numbers(tx, &returned.numbers).await?;
    save_statuses(tx, std::slice::from_ref(r)).await?;
    Ok(returned.events)
}

/// Reserves `r.numbers` for `r.account`, all or nothing (`NewReservation::reserve`), inside
/// `tx` without committing; refusals leave nothing written. Number orders reserve through this
/// too.
pub(crate) async fn reserve(
    tx: &Transaction<'_>,
    r: &NewReservation,
) -> Result<std::result::Result<Reserved, ReservationRefusals>> {
    let e164s: Vec<String> = r.wanted().iter().map(|e| e.as_str().to_string()).collect();
    let reserved = match r.reserve(lock_numbers(tx, &e164s).await?) {
        Ok(reserved) => reserved,
        Err(refusals) => return Ok(Err(refusals)),
    };
    update_numbers(tx, &reserved.numbers).await?;
    let values = binds(reservation_values(&reserved.reservation)?);
    tx.execute(
        &insert_sql("reservations", RESERVATION_COLUMNS),
        &refs(&values),
    )
    .await
    .map_err(db_err)?;
    Ok(Ok(reserved))
}

#[async_trait]
impl ReservationStore for PostgresStore {
    async fn create_reservation(
        &self,
        r: &NewReservation,
    ) -> Result<std::result::Result<Reservation, ReservationRefusals>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        match reserve(&tx, r).await? {
            // Nothing was written; dropping the transaction rolls back and releases the locks.
            Err(refusals) => Ok(Err(refusals)),
            Ok(reserved) => {
                self.append_and_commit(tx, &reserved.events).await?;
                Ok(Ok(reserved.reservation))
            }
        }
    }

    async fn get_reservation(
        &self,
        account: AccountId,
        id: ReservationId,
    ) -> Result<Option<Reservation>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = $1 AND account_id = $2"),
                &[&id.to_string(), &account.to_string()],
            )
            .await
            .map_err(db_err)?;
        row.as_ref().map(reservation_from_row).transpose()
    }

    async fn release_reservation(
        &self,
        account: AccountId,
        id: ReservationId,
        now: Timestamp,
    ) -> Result<Option<Reservation>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let by_account = format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE id = $1 AND account_id = $2"
        );
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] =
            [&id.to_string(), &account.to_string()];
        // Ownership never changes, so a plain read answers "not yours" before taking locks.
        if tx
            .query_opt(by_account.as_str(), &params)
            .await
            .map_err(db_err)?
            .is_none()
        {
            return Ok(None);
        }
        let held = lock_held(&tx, id).await?;
        let row = tx
            .query_opt(format!("{by_account} FOR UPDATE").as_str(), &params)
            .await
            .map_err(db_err)?;
        let Some(mut reservation) = row.as_ref().map(reservation_from_row).transpose()? else {
            return Ok(None);
        };
        let returned = reservation.release(held, now)?;
        let events = save_returned(&tx, &reservation, returned).await?;
        self.append_and_commit(tx, &events).await?;
        Ok(Some(reservation))
    }

    async fn expire_reservations(&self, now: Timestamp, limit: u32) -> Result<u32> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let due = tx
            .query(
                "SELECT id FROM reservations WHERE status = 'ACTIVE' AND expires_at <= $1 \
                 ORDER BY expires_at, id LIMIT $2",
                &[&to_millis(now), &i64::from(limit)],
            )
            .await
            .map_err(db_err)?;
        let mut expired = 0;
        let mut events = Vec::new();
        for row in &due {
            let id: String = get(row, 0)?;
            let id: ReservationId = id.parse().map_err(|_| {
                Error::internal(format!("stored reservation id '{id}' is not a UUID"))
            })?;
            let held = lock_held(&tx, id).await?;
            // SKIP LOCKED and the re-check: another sweeper (another process) or a release may
            // have taken this one since the unlocked read; then it is theirs, not ours.
            let row = tx
                .query_opt(
                    &format!(
                        "SELECT {RESERVATION_COLUMNS} FROM reservations \
                         WHERE id = $1 AND status = 'ACTIVE' AND expires_at <= $2 FOR UPDATE SKIP LOCKED"
                    ),
                    &[&id.to_string(), &to_millis(now)],
                )
                .await
                .map_err(db_err)?;
            let Some(mut reservation) = row.as_ref().map(reservation_from_row).transpose()? else {
                continue;
            };
            let returned = reservation.end(ReservationStatus::Expired, held, now);
            events.extend(save_returned(&tx, &reservation, returned).await?);
            expired += 1;
        }
        self.append_and_commit(tx, &events).await?;
        Ok(expired)
    }
}
