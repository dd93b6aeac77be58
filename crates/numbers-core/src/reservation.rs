//! Reservations hold specific numbers for one account until an expiry. Only that account can
//! order them (by naming the reservation id); everyone else sees them as taken until the
//! reservation is released or the expiry sweep returns them.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{ConflictKind, Error};
use crate::event::NewEvent;
use crate::ids::{AccountId, ReservationId};
use crate::number::{ClaimRefusal, E164, Number, NumberState, Unreserve};

pub const DEFAULT_TTL_SECONDS: i64 = 4 * 3600;
pub const MAX_TTL_SECONDS: i64 = 48 * 3600;
pub const MAX_NUMBERS_PER_RESERVATION: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    Active,
    Released,
    Expired,
    /// Every number of it was ordered.
    Ordered,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Active => "ACTIVE",
            ReservationStatus::Released => "RELEASED",
            ReservationStatus::Expired => "EXPIRED",
            ReservationStatus::Ordered => "ORDERED",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "RELEASED" => ReservationStatus::Released,
            "EXPIRED" => ReservationStatus::Expired,
            "ORDERED" => ReservationStatus::Ordered,
            _ => ReservationStatus::Active,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReservation {
    pub id: ReservationId,
    pub account: AccountId,
    pub numbers: Vec<E164>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Per requested number, why a reservation was refused (nothing is written then).
pub type ReservationRefusals = Vec<(E164, ClaimRefusal)>;

/// A reservation as created: the row to insert, its numbers as they now are (to save) and the
/// `number.reserved` events, both in the order the caller listed the numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reserved {
    pub reservation: Reservation,
    pub numbers: Vec<Number>,
    pub events: Vec<NewEvent>,
}

/// The numbers a reservation gave back (to save) and their events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Returned {
    pub numbers: Vec<Number>,
    pub events: Vec<NewEvent>,
}

impl NewReservation {
    /// The requested numbers without repeats, in the order first listed.
    pub fn wanted(&self) -> Vec<E164> {
        let mut seen = std::collections::HashSet::new();
        self.numbers
            .iter()
            .filter(|e| seen.insert(*e))
            .cloned()
            .collect()
    }

    /// Reserves `self.wanted()` all or nothing, given the numbers the store found (and locked)
    /// for them in any order: every one must exist and be `claimable_by` the account now.
    pub fn reserve(&self, found: Vec<Number>) -> Result<Reserved, ReservationRefusals> {
        let wanted = self.wanted();
        let mut found: std::collections::HashMap<E164, Number> =
            found.into_iter().map(|n| (n.e164.clone(), n)).collect();
        let mut claimable = Vec::with_capacity(wanted.len());
        let mut refusals = Vec::new();
        for e164 in &wanted {
            match found.remove(e164) {
                None => refusals.push((e164.clone(), ClaimRefusal::NotFound)),
                Some(n) => match n.claimable_by(self.account, &[], self.created_at) {
                    Ok(()) => claimable.push(n),
                    Err(refusal) => refusals.push((e164.clone(), refusal)),
                },
            }
        }
        if !refusals.is_empty() {
            return Err(refusals);
        }
        let (numbers, events) = claimable
            .into_iter()
            .map(|n| {
                let c = n.reserve(self.account, self.id, self.expires_at, self.created_at);
                (c.number, c.event)
            })
            .unzip();
        Ok(Reserved {
            reservation: Reservation {
                id: self.id,
                account: self.account,
                numbers: wanted,
                status: ReservationStatus::Active,
                created_at: self.created_at,
                expires_at: self.expires_at,
                updated_at: self.created_at,
            },
            numbers,
            events,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub id: ReservationId,
    pub account: AccountId,
    pub numbers: Vec<E164>,
    pub status: ReservationStatus,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Reservation {
    /// The status as of `now`: an ACTIVE reservation past its expiry is EXPIRED even before the
    /// sweep has run.
    pub fn status_at(&self, now: Timestamp) -> ReservationStatus {
        if self.status == ReservationStatus::Active && self.expires_at <= now {
            ReservationStatus::Expired
        } else {
            self.status
        }
    }

    /// Whether `n` is still held under this reservation.
    fn holds(&self, n: &Number) -> bool {
        n.state == NumberState::Reserved && n.reservation_id == Some(self.id)
    }

    /// The tenant's release: refused unless the reservation is active now.
    pub fn release(&mut self, held: Vec<Number>, now: Timestamp) -> Result<Returned, Error> {
        if self.status_at(now) != ReservationStatus::Active {
            return Err(Error::conflict(
                ConflictKind::ReservationNotActive,
                format!("reservation {} is no longer active", self.id),
            ));
        }
        Ok(self.end(ReservationStatus::Released, held, now))
    }

    /// Ends the reservation as `status` (RELEASED or EXPIRED) and gives back those of `held`
    /// (the numbers the store loaded for it, in the order it wants the events) still RESERVED
    /// under it: AGING while their `available_after` is ahead, else AVAILABLE.
    pub fn end(
        &mut self,
        status: ReservationStatus,
        held: Vec<Number>,
        now: Timestamp,
    ) -> Returned {
        let why = match status {
            ReservationStatus::Expired => Unreserve::Expired,
            _ => Unreserve::Released,
        };
        let (numbers, events) = held
            .into_iter()
            .filter(|n| self.holds(n))
            .map(|n| {
                let c = n.unreserve(self.account, self.id, why, now);
                (c.number, c.event)
            })
            .unzip();
        self.status = status;
        self.updated_at = now;
        Returned { numbers, events }
    }

    /// After an order claimed some of its numbers: an ACTIVE reservation with none of `numbers`
    /// (its numbers as they now are, after the claim) still RESERVED under it is ORDERED.
    /// True when it changed (the store saves it then).
    pub fn settle_after_order(&mut self, numbers: &[Number], now: Timestamp) -> bool {
        if self.status != ReservationStatus::Active || numbers.iter().any(|n| self.holds(n)) {
            return false;
        }
        self.status = ReservationStatus::Ordered;
        self.updated_at = now;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_millis;
    use crate::number::lifecycle::tests::available;

    fn new_reservation(numbers: &[&str]) -> NewReservation {
        NewReservation {
            id: ReservationId::new(),
            account: AccountId::new(),
            numbers: numbers.iter().map(|e| E164::parse(e).unwrap()).collect(),
            created_at: from_millis(10),
            expires_at: from_millis(100),
        }
    }

    #[test]
    fn reserving_is_all_or_nothing_in_the_listed_order() {
        let r = new_reservation(&["+12065550101", "+12065550100", "+12065550101"]);
        let found = vec![available("+12065550100"), available("+12065550101")];
        let done = r.reserve(found.clone()).unwrap();
        let order: Vec<_> = done.numbers.iter().map(|n| n.e164.as_str()).collect();
        assert_eq!(order, ["+12065550101", "+12065550100"]);
        assert_eq!(done.reservation.numbers.len(), 2);
        assert!(
            done.numbers
                .iter()
                .all(|n| n.state == NumberState::Reserved)
        );
        assert_eq!(done.events.len(), 2);
        let refused = r.reserve(found[..1].to_vec()).unwrap_err();
        assert_eq!(
            refused,
            vec![(E164::parse("+12065550101").unwrap(), ClaimRefusal::NotFound)]
        );
    }

    /// A reservation of two numbers, and the numbers as reserved.
    fn two_reserved() -> (Reservation, Vec<Number>) {
        let new = new_reservation(&["+12065550100", "+12065550101"]);
        let done = new
            .reserve(vec![available("+12065550100"), available("+12065550101")])
            .unwrap();
        (done.reservation, done.numbers)
    }

    #[test]
    fn ending_returns_only_what_it_still_holds() {
        let (mut r, mut numbers) = two_reserved();
        numbers[1].state = NumberState::Assigned;
        numbers[1].reservation_id = None;
        let back = r.end(ReservationStatus::Expired, numbers, from_millis(200));
        assert_eq!(back.numbers.len(), 1);
        assert_eq!(back.numbers[0].state, NumberState::Available);
        assert_eq!(r.status, ReservationStatus::Expired);
        assert!(r.release(vec![], from_millis(200)).is_err());
    }

    #[test]
    fn a_reservation_is_ordered_once_no_number_is_reserved_under_it() {
        let (mut r, mut numbers) = two_reserved();
        assert!(!r.settle_after_order(&numbers, from_millis(20)));
        for n in &mut numbers {
            n.state = NumberState::Assigned;
            n.reservation_id = None;
        }
        assert!(r.settle_after_order(&numbers, from_millis(20)));
        assert_eq!(r.status, ReservationStatus::Ordered);
        assert!(!r.settle_after_order(&numbers, from_millis(30)));
    }
}
