//! Reservations hold specific numbers for one account until an expiry. Only that account can
//! order them (by naming the reservation id); everyone else sees them as taken until the
//! reservation is released or the expiry sweep returns them.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::ids::{AccountId, ReservationId};
use crate::number::E164;

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
}
