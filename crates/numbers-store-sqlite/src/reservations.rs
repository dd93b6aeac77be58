//! `ReservationStore`: holding numbers for one account until an expiry, releasing them, and the
//! expiry sweep. The transitions are core's (`NewReservation::reserve`, `Reservation::{release,
//! end}`); this module loads the rows inside the writer's transaction and saves the result.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::Result;
use numbers_core::ids::{AccountId, ReservationId};
use numbers_core::number::Number;
use numbers_core::reservation::{
    NewReservation, Reservation, ReservationStatus, Reserved, Returned,
};
use numbers_core::store::{ReservationRefusals, ReservationStore};
use numbers_store_sql::lifecycle::{
    RESERVATION_COLUMNS, insert_sql, question_numbered, read_reservation, reservation_values,
};
use rusqlite::{Connection, params, params_from_iter};

use crate::SqliteStore;
use crate::db::{DbResult, values};
use crate::rows::{
    insert_event, load_reservation, number_by_e164, query_all, set_reservation_status,
    update_number,
};

/// The numbers listed on `r` as they now are (any no longer in the inventory left out).
pub(crate) fn numbers_of(
    conn: &Connection,
    e164s: &[numbers_core::number::E164],
) -> Result<Vec<Number>> {
    let mut found = Vec::with_capacity(e164s.len());
    for e164 in e164s {
        found.extend(number_by_e164(conn, e164.as_str())?);
    }
    Ok(found)
}

/// Saves what ending a reservation changed: the numbers it gave back, their events, its status.
fn save_returned(conn: &Connection, r: &Reservation, returned: Returned) -> Result<()> {
    for (n, event) in returned.numbers.iter().zip(&returned.events) {
        update_number(conn, n)?;
        insert_event(conn, event)?;
    }
    set_reservation_status(conn, r)
}

/// Ends `r` as `status` (`Reservation::end`) and saves the outcome.
pub(crate) fn end_reservation(
    conn: &Connection,
    r: &mut Reservation,
    status: ReservationStatus,
    now: Timestamp,
) -> Result<()> {
    let held = numbers_of(conn, &r.numbers)?;
    let returned = r.end(status, held, now);
    save_returned(conn, r, returned)
}

/// Reserves `r.numbers` for `r.account`, all or nothing (`NewReservation::reserve`), and saves
/// the outcome. Number orders reserve through this too.
pub(crate) fn reserve(
    tx: &Connection,
    r: &NewReservation,
) -> Result<std::result::Result<Reserved, ReservationRefusals>> {
    let reserved = match r.reserve(numbers_of(tx, &r.wanted())?) {
        Ok(reserved) => reserved,
        // Nothing was written: the (empty) transaction commits harmlessly.
        Err(refusals) => return Ok(Err(refusals)),
    };
    for (n, event) in reserved.numbers.iter().zip(&reserved.events) {
        update_number(tx, n)?;
        insert_event(tx, event)?;
    }
    let mut stmt = tx
        .prepare_cached(&question_numbered(&insert_sql(
            "reservations",
            RESERVATION_COLUMNS,
        )))
        .db()?;
    stmt.execute(params_from_iter(values(&reservation_values(
        &reserved.reservation,
    )?)))
    .db()?;
    Ok(Ok(reserved))
}

#[async_trait]
impl ReservationStore for SqliteStore {
    async fn create_reservation(
        &self,
        reservation: &NewReservation,
    ) -> Result<std::result::Result<Reservation, ReservationRefusals>> {
        let r = reservation.clone();
        self.write(move |tx| Ok(reserve(tx, &r)?.map(|done| done.reservation)))
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
            let held = numbers_of(tx, &r.numbers)?;
            let returned = r.release(held, now)?;
            save_returned(tx, &r, returned)?;
            Ok(Some(r))
        })
        .await
    }

    async fn expire_reservations(&self, now: Timestamp, limit: u32) -> Result<u32> {
        self.write(move |tx| {
            let due = query_all(
                tx,
                &format!(
                    "SELECT {RESERVATION_COLUMNS} FROM reservations WHERE status = 'ACTIVE' AND expires_at <= ?1 \
                     ORDER BY expires_at, id LIMIT ?2"
                ),
                params![to_millis(now), i64::from(limit)],
                |r| read_reservation(r),
            )?;
            let count = due.len() as u32;
            for mut r in due {
                end_reservation(tx, &mut r, ReservationStatus::Expired, now)?;
            }
            Ok(count)
        })
        .await
    }
}
