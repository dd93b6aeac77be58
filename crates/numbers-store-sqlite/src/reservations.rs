//! `ReservationStore`: holding numbers for one account until an expiry, releasing them, and the
//! expiry sweep. Decisions use `Number::claimable_by`; numbers change only by versioned update.

use std::collections::HashSet;

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::EventKind;
use numbers_core::ids::{AccountId, ReservationId};
use numbers_core::number::{ClaimRefusal, Number, NumberState};
use numbers_core::reservation::{NewReservation, Reservation, ReservationStatus};
use numbers_core::store::{ReservationRefusals, ReservationStore};
use rusqlite::{Connection, params};

use crate::SqliteStore;
use crate::db::{DbResult, to_json};
use crate::rows::{
    RESERVATION_COLUMNS, insert_event, load_reservation, number_by_e164, number_event,
    raw_reservation, reservation_from_raw, set_reservation_status, update_number,
};

/// Returns the numbers still RESERVED under `r` to the pool (AGING while their
/// `available_after` is ahead, else AVAILABLE), with one `kind` event per number, and moves the
/// reservation to `status`.
pub(crate) fn return_numbers(
    conn: &Connection,
    r: &mut Reservation,
    status: ReservationStatus,
    kind: EventKind,
    now: Timestamp,
) -> Result<()> {
    for e164 in &r.numbers {
        let Some(mut n) = number_by_e164(conn, e164.as_str())? else {
            continue;
        };
        if n.state != NumberState::Reserved || n.reservation_id != Some(r.id) {
            continue;
        }
        n.state = if n.available_after.is_some_and(|after| after > now) {
            NumberState::Aging
        } else {
            NumberState::Available
        };
        n.owner = None;
        n.reservation_id = None;
        n.reserved_until = None;
        n.version += 1;
        n.updated_at = now;
        update_number(conn, &n)?;
        let mut event = number_event(kind, &n, now);
        event.account_id = Some(r.account);
        event.reservation_id = Some(r.id);
        insert_event(conn, &event)?;
    }
    r.status = status;
    r.updated_at = now;
    set_reservation_status(conn, r)
}

/// Reserves `r.numbers` for `r.account`, all or nothing (see `create_reservation`); also returns
/// the reserved numbers as they now are. Number orders reserve through this too.
pub(crate) fn reserve(
    tx: &Connection,
    r: &NewReservation,
) -> Result<std::result::Result<(Reservation, Vec<Number>), ReservationRefusals>> {
    let mut seen = HashSet::new();
    let wanted: Vec<_> = r
        .numbers
        .iter()
        .filter(|e| seen.insert((*e).clone()))
        .cloned()
        .collect();
    let mut found = Vec::with_capacity(wanted.len());
    let mut refusals = Vec::new();
    for e164 in &wanted {
        match number_by_e164(tx, e164.as_str())? {
            None => refusals.push((e164.clone(), ClaimRefusal::NotFound)),
            Some(n) => match n.claimable_by(r.account, &[], r.created_at) {
                Ok(()) => found.push(n),
                Err(refusal) => refusals.push((e164.clone(), refusal)),
            },
        }
    }
    if !refusals.is_empty() {
        // Nothing was written: the (empty) transaction commits harmlessly.
        return Ok(Err(refusals));
    }
    let mut reserved = Vec::with_capacity(found.len());
    for mut n in found {
        n.state = NumberState::Reserved;
        n.owner = Some(r.account);
        n.reservation_id = Some(r.id);
        n.reserved_until = Some(r.expires_at);
        n.version += 1;
        n.updated_at = r.created_at;
        update_number(tx, &n)?;
        let mut event = number_event(EventKind::NumberReserved, &n, r.created_at);
        event.account_id = Some(r.account);
        event.reservation_id = Some(r.id);
        insert_event(tx, &event)?;
        reserved.push(n);
    }
    let stored = Reservation {
        id: r.id,
        account: r.account,
        numbers: wanted,
        status: ReservationStatus::Active,
        created_at: r.created_at,
        expires_at: r.expires_at,
        updated_at: r.created_at,
    };
    let mut stmt = tx
        .prepare_cached(&format!(
            "INSERT INTO reservations ({RESERVATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ))
        .db()?;
    stmt.execute(params![
        stored.id.to_string(),
        stored.account.to_string(),
        to_json(&stored.numbers)?,
        stored.status.as_str(),
        to_millis(stored.created_at),
        to_millis(stored.expires_at),
        to_millis(stored.updated_at),
    ])
    .db()?;
    Ok(Ok((stored, reserved)))
}

#[async_trait]
impl ReservationStore for SqliteStore {
    async fn create_reservation(
        &self,
        reservation: &NewReservation,
    ) -> Result<std::result::Result<Reservation, ReservationRefusals>> {
        let r = reservation.clone();
        self.write(move |tx| Ok(reserve(tx, &r)?.map(|(reservation, _)| reservation)))
            .await
    }

    async fn get_reservation(
        &self,
        account: AccountId,
        id: ReservationId,
    ) -> Result<Option<Reservation>> {
        self.read(move |tx| {
            Ok(load_reservation(tx, &id.to_string())?.filter(|r| r.account == account))
        })
        .await
    }

    async fn release_reservation(
        &self,
        account: AccountId,
        id: ReservationId,
        now: Timestamp,
    ) -> Result<Option<Reservation>> {
        self.write(move |tx| {
            let Some(mut r) =
                load_reservation(tx, &id.to_string())?.filter(|r| r.account == account)
            else {
                return Ok(None);
            };
            if r.status_at(now) != ReservationStatus::Active {
                return Err(Error::conflict(
                    numbers_core::error::ConflictKind::ReservationNotActive,
                    format!("reservation {id} is no longer active"),
                ));
            }
            return_numbers(
                tx,
                &mut r,
                ReservationStatus::Released,
                EventKind::NumberReservationReleased,
                now,
            )?;
            Ok(Some(r))
        })
        .await
    }

    async fn expire_reservations(&self, now: Timestamp, limit: u32) -> Result<u32> {
        self.write(move |tx| {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE status = 'ACTIVE' AND expires_at <= ?1 \
                     ORDER BY expires_at, id LIMIT ?2"
                ))
                .db()?;
            let raw = stmt
                .query_map(params![to_millis(now), i64::from(limit)], raw_reservation)
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
            drop(stmt);
            let mut count = 0;
            for raw in raw {
                let mut r = reservation_from_raw(raw)?;
                return_numbers(tx, &mut r, ReservationStatus::Expired, EventKind::NumberReservationExpired, now)?;
                count += 1;
            }
            Ok(count)
        })
        .await
    }
}
