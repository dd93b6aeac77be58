//! Reservations (`ReservationStore`): holding specific numbers for one account, all or nothing,
//! and giving them back on release or expiry. Numbers are locked `FOR UPDATE` in E.164 order so
//! two overlapping reservations queue instead of deadlocking.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::{EventKind, NewEvent};
use numbers_core::ids::{AccountId, ReservationId};
use numbers_core::number::{ClaimRefusal, E164, Number, NumberState};
use numbers_core::reservation::{NewReservation, Reservation, ReservationStatus};
use numbers_core::store::{ReservationRefusals, ReservationStore};
use tokio_postgres::{Row, Transaction};

use crate::events::number_event;
use crate::rows::{get, numbers_from_rows, select_numbers, update_numbers};
use crate::{PostgresStore, db_err};

pub(crate) const RESERVATION_COLUMNS: &str =
    "id, account_id, numbers, status, created_at, expires_at, updated_at";

pub(crate) fn reservation_from_row(row: &Row) -> Result<Reservation> {
    let id: String = get(row, 0)?;
    let account: String = get(row, 1)?;
    let numbers: String = get(row, 2)?;
    let status: String = get(row, 3)?;
    let bad_id = |what: &str, v: &str| {
        Error::internal(format!("stored reservation {what} '{v}' is not a UUID"))
    };
    Ok(Reservation {
        id: id.parse().map_err(|_| bad_id("id", &id))?,
        account: account.parse().map_err(|_| bad_id("account", &account))?,
        numbers: serde_json::from_str(&numbers)
            .map_err(|e| Error::internal(format!("stored reservation numbers: {e}")))?,
        status: ReservationStatus::parse(&status),
        created_at: from_millis(get(row, 4)?),
        expires_at: from_millis(get(row, 5)?),
        updated_at: from_millis(get(row, 6)?),
    })
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

/// Returns the locked `held` numbers of `reservation` to AVAILABLE (or AGING while their
/// `available_after` is ahead), with one `kind` event each.
pub(crate) async fn return_numbers(
    tx: &Transaction<'_>,
    reservation: &Reservation,
    mut held: Vec<Number>,
    kind: EventKind,
    now: Timestamp,
) -> Result<Vec<NewEvent>> {
    for n in &mut held {
        n.state = if n.available_after.is_some_and(|after| after > now) {
            NumberState::Aging
        } else {
            NumberState::Available
        };
        n.owner = None;
        n.reservation_id = None;
        n.reserved_until = None;
        n.updated_at = now;
        n.version += 1;
    }
    update_numbers(tx, &held).await?;
    Ok(held
        .iter()
        .map(|n| NewEvent {
            reservation_id: Some(reservation.id),
            ..number_event(kind, now, n, Some(reservation.account))
        })
        .collect())
}

pub(crate) async fn set_status(
    tx: &Transaction<'_>,
    id: ReservationId,
    status: ReservationStatus,
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "UPDATE reservations SET status = $2, updated_at = $3 WHERE id = $1",
        &[&id.to_string(), &status.as_str(), &to_millis(now)],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Reserves `r.numbers` for `r.account`, all or nothing, inside `tx` without committing:
/// the reservation, the reserved numbers as they now are, and the events to append. Refusals
/// leave nothing written. Number orders reserve through this too.
pub(crate) async fn reserve(
    tx: &Transaction<'_>,
    r: &NewReservation,
) -> Result<std::result::Result<(Reservation, Vec<Number>, Vec<NewEvent>), ReservationRefusals>> {
    let mut wanted: Vec<E164> = Vec::with_capacity(r.numbers.len());
    for e in &r.numbers {
        if !wanted.contains(e) {
            wanted.push(e.clone());
        }
    }
    let e164s: Vec<String> = wanted.iter().map(|e| e.as_str().to_string()).collect();
    let mut locked = lock_numbers(tx, &e164s).await?;
    let mut refusals = Vec::new();
    for e in &wanted {
        match locked.iter().find(|n| &n.e164 == e) {
            None => refusals.push((e.clone(), ClaimRefusal::NotFound)),
            Some(n) => {
                if let Err(refusal) = n.claimable_by(r.account, &[], r.created_at) {
                    refusals.push((e.clone(), refusal));
                }
            }
        }
    }
    if !refusals.is_empty() {
        return Ok(Err(refusals));
    }
    for n in &mut locked {
        n.state = NumberState::Reserved;
        n.owner = Some(r.account);
        n.reservation_id = Some(r.id);
        n.reserved_until = Some(r.expires_at);
        n.updated_at = r.created_at;
        n.version += 1;
    }
    update_numbers(tx, &locked).await?;
    let reservation = Reservation {
        id: r.id,
        account: r.account,
        numbers: wanted,
        status: ReservationStatus::Active,
        created_at: r.created_at,
        expires_at: r.expires_at,
        updated_at: r.created_at,
    };
    let numbers_json = serde_json::to_string(&reservation.numbers).map_err(Error::internal)?;
    tx.execute(
        &format!(
            "INSERT INTO reservations ({RESERVATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ),
        &[
            &r.id.to_string(),
            &r.account.to_string(),
            &numbers_json,
            &ReservationStatus::Active.as_str(),
            &to_millis(r.created_at),
            &to_millis(r.expires_at),
            &to_millis(r.created_at),
        ],
    )
    .await
    .map_err(db_err)?;
    // Events (and the returned numbers) in the order the caller listed the numbers.
    let ordered: Vec<Number> = reservation
        .numbers
        .iter()
        .filter_map(|e| locked.iter().find(|n| &n.e164 == e).cloned())
        .collect();
    let events: Vec<NewEvent> = ordered
        .iter()
        .map(|n| NewEvent {
            reservation_id: Some(r.id),
            ..number_event(EventKind::NumberReserved, r.created_at, n, Some(r.account))
        })
        .collect();
    Ok(Ok((reservation, ordered, events)))
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
            Ok((reservation, _, events)) => {
                self.append_and_commit(tx, &events).await?;
                Ok(Ok(reservation))
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
        if reservation.status_at(now) != ReservationStatus::Active {
            return Err(Error::conflict(
                numbers_core::error::ConflictKind::ReservationNotActive,
                format!(
                    "reservation {id} is {}",
                    reservation.status_at(now).as_str().to_ascii_lowercase()
                ),
            ));
        }
        let events = return_numbers(
            &tx,
            &reservation,
            held,
            EventKind::NumberReservationReleased,
            now,
        )
        .await?;
        set_status(&tx, id, ReservationStatus::Released, now).await?;
        self.append_and_commit(tx, &events).await?;
        reservation.status = ReservationStatus::Released;
        reservation.updated_at = now;
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
            let Some(reservation) = row.as_ref().map(reservation_from_row).transpose()? else {
                continue;
            };
            events.extend(
                return_numbers(
                    &tx,
                    &reservation,
                    held,
                    EventKind::NumberReservationExpired,
                    now,
                )
                .await?,
            );
            set_status(&tx, id, ReservationStatus::Expired, now).await?;
            expired += 1;
        }
        self.append_and_commit(tx, &events).await?;
        Ok(expired)
    }
}
