//! Reservations: hold specific numbers for one account for a while.

use chrono::Duration;

use crate::error::{ConflictKind, Error, Resource, Result};
use crate::ids::{AccountId, ReservationId};
use crate::number::E164;
use crate::reservation::{MAX_NUMBERS_PER_RESERVATION, NewReservation, Reservation};

use super::Service;

impl Service {
    /// All or nothing. A refusal answers `Conflict` of kind `NumbersUnavailable` whose message
    /// names every refused number and why. `ttl_seconds` is the client's number as sent: it is
    /// bounded here, as an integer, before it becomes a `Duration` (whose constructor panics far
    /// below `u64::MAX`).
    pub async fn reserve(
        &self,
        account: AccountId,
        numbers: Vec<E164>,
        ttl_seconds: Option<u64>,
    ) -> Result<Reservation> {
        if numbers.is_empty() || numbers.len() > MAX_NUMBERS_PER_RESERVATION {
            return Err(Error::invalid(
                "numbers",
                format!("must list 1 to {MAX_NUMBERS_PER_RESERVATION} numbers"),
            ));
        }
        let max_seconds = self.config.reservation_max_ttl.num_seconds();
        let ttl = match ttl_seconds {
            None => self.config.reservation_default_ttl,
            Some(seconds) => match i64::try_from(seconds) {
                Ok(seconds) if (1..=max_seconds).contains(&seconds) => Duration::seconds(seconds),
                _ => {
                    return Err(Error::invalid(
                        "ttl_seconds",
                        format!("must be from 1 to {max_seconds} seconds"),
                    ));
                }
            },
        };
        let mut unique = numbers;
        unique.sort();
        unique.dedup();
        let now = self.now();
        let new = NewReservation {
            id: ReservationId::new(),
            account,
            numbers: unique,
            created_at: now,
            expires_at: now + ttl,
        };
        match self.store.create_reservation(&new).await? {
            Ok(reservation) => Ok(reservation),
            Err(refusals) => {
                let detail: Vec<String> = refusals
                    .iter()
                    .map(|(e164, why)| format!("{e164}: {}", why.message()))
                    .collect();
                Err(Error::conflict(
                    ConflictKind::NumbersUnavailable,
                    format!("cannot reserve: {}", detail.join("; ")),
                ))
            }
        }
    }

    pub async fn get_reservation(
        &self,
        account: AccountId,
        id: ReservationId,
    ) -> Result<Reservation> {
        self.store
            .get_reservation(account, id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Reservation, id))
    }

    pub async fn release_reservation(
        &self,
        account: AccountId,
        id: ReservationId,
    ) -> Result<Reservation> {
        let released = self
            .store
            .release_reservation(account, id, self.now())
            .await?;
        let reservation = released.ok_or_else(|| Error::not_found(Resource::Reservation, id))?;
        self.inventory_changed.notify_one();
        Ok(reservation)
    }
}
