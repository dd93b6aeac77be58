//! A telephone number in the inventory: identity, what it is, where it is, what it costs, where it
//! is in its lifecycle, and the assignment data its current owner set on it.

pub mod assignment;
pub mod classification;
pub mod e164;
pub mod kinds;
pub mod lifecycle;
pub mod nanp;
pub mod vanity;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, FieldErrors};
use crate::ids::{AccountId, AssignmentId, NumberId, ReservationId};

pub use assignment::{AssignmentData, Label, Metadata};
pub use e164::E164;
pub use kinds::{Capabilities, Capability, Classification, NumberState, NumberType};
pub use lifecycle::{NumberChange, Unreserve};
pub use nanp::NanpFacets;

/// Location facets. NANP numbers get rate center / state / city / LATA / ZIP from the import;
/// NPA, NXX and the thousands block are derived from the digits (see `NanpFacets`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub rate_center: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub lata: Option<String>,
    pub zip: Option<String>,
}

/// Prices in minor-unit-free decimal strings are error-prone; we keep integer micro-units
/// (1 USD = 1_000_000) and render decimals at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub setup_micros: i64,
    pub monthly_micros: i64,
    pub currency: String,
}

impl Price {
    pub fn parse(setup: &str, monthly: &str, currency: &str) -> Result<Self, Error> {
        let mut errors = FieldErrors::new();
        let setup = errors.take(parse_decimal_micros(setup, "setup_price"));
        let monthly = errors.take(parse_decimal_micros(monthly, "monthly_price"));
        let currency = currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push("currency", "must be an ISO 4217 code such as USD");
        }
        errors.into_result()?;
        Ok(Price {
            setup_micros: setup.unwrap_or(0),
            monthly_micros: monthly.unwrap_or(0),
            currency,
        })
    }

    pub fn setup_decimal(&self) -> String {
        micros_to_decimal(self.setup_micros)
    }

    pub fn monthly_decimal(&self) -> String {
        micros_to_decimal(self.monthly_micros)
    }
}

/// "1.5" → 1_500_000. At most six decimals, non-negative.
pub fn parse_decimal_micros(s: &str, field: &str) -> Result<i64, Error> {
    let s = s.trim();
    let bad = || {
        Error::invalid(
            field,
            "must be a non-negative decimal amount with at most 6 decimals, e.g. 1.25",
        )
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 6
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac_micros: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(1_000_000)
        .and_then(|w| w.checked_add(frac_micros))
        .ok_or_else(bad)
}

/// 1_500_000 → "1.50" (at least two decimals, more only when needed).
pub fn micros_to_decimal(micros: i64) -> String {
    let whole = micros / 1_000_000;
    let frac = format!("{:06}", (micros % 1_000_000).abs());
    let trimmed = frac.trim_end_matches('0');
    let decimals = if trimmed.len() < 2 {
        &frac[..2]
    } else {
        trimmed
    };
    format!("{whole}.{decimals}")
}

/// Everything an import knows about a new number; the store adds identity and lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewNumber {
    pub e164: E164,
    pub country: String,
    pub number_type: NumberType,
    pub capabilities: Capabilities,
    pub classification: Classification,
    pub location: Location,
    pub tier: Option<i32>,
    pub vendor_id: Option<String>,
    pub vendor_name: Option<String>,
    pub price: Option<Price>,
    pub protected: bool,
}

/// A number as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Number {
    pub id: NumberId,
    pub e164: E164,
    pub country: String,
    pub number_type: NumberType,
    pub capabilities: Capabilities,
    pub classification: Classification,
    pub location: Location,
    pub tier: Option<i32>,
    pub vendor_id: Option<String>,
    pub vendor_name: Option<String>,
    pub price: Option<Price>,
    pub protected: bool,
    pub state: NumberState,
    /// The account holding it (ASSIGNED) or holding the reservation (RESERVED).
    pub owner: Option<AccountId>,
    /// Who held it last: during AGING this account alone may take it back.
    pub last_owner: Option<AccountId>,
    pub assignment_id: Option<AssignmentId>,
    pub reservation_id: Option<ReservationId>,
    pub reserved_until: Option<Timestamp>,
    /// Earliest time anyone may take it: set while AVAILABLE or AGING, `None` while held.
    pub available_after: Option<Timestamp>,
    pub assigned_at: Option<Timestamp>,
    pub assignment: AssignmentData,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Incremented by every change; receivers of events use it to drop stale ones.
    pub version: i64,
}

impl Number {
    pub fn nanp(&self) -> Option<NanpFacets> {
        NanpFacets::of(&self.e164)
    }

    /// Whether `account` may take this number now. This is the one rule both stores apply inside
    /// their claim transaction (after locking the row), so the rule lives here and only here.
    pub fn claimable_by(
        &self,
        account: AccountId,
        reservations: &[ReservationId],
        now: Timestamp,
    ) -> Result<(), ClaimRefusal> {
        match self.state {
            NumberState::Available => match self.available_after {
                Some(after) if after > now => Err(ClaimRefusal::NotYetAvailable),
                _ => Ok(()),
            },
            NumberState::Aging => match self.available_after {
                _ if self.last_owner == Some(account) => Ok(()),
                Some(after) if after <= now => Ok(()),
                _ => Err(ClaimRefusal::Aging),
            },
            NumberState::Reserved => {
                let expired = self.reserved_until.is_some_and(|until| until <= now);
                let ours = self.owner == Some(account)
                    && self
                        .reservation_id
                        .is_some_and(|id| reservations.contains(&id));
                if expired || ours {
                    Ok(())
                } else if self.owner == Some(account) {
                    Err(ClaimRefusal::ReservationIdMissing)
                } else {
                    Err(ClaimRefusal::ReservedByAnother)
                }
            }
            NumberState::Assigned if self.owner == Some(account) => Err(ClaimRefusal::AlreadyYours),
            NumberState::Assigned => Err(ClaimRefusal::Assigned),
        }
    }

    /// Whether the account holds it (ASSIGNED to it).
    pub fn is_assigned_to(&self, account: AccountId) -> bool {
        self.state == NumberState::Assigned && self.owner == Some(account)
    }

    /// Whether it is offered to everyone right now (what search returns).
    pub fn is_publicly_available(&self, now: Timestamp) -> bool {
        match self.state {
            NumberState::Available | NumberState::Aging => {
                self.available_after.is_none_or(|after| after <= now)
            }
            NumberState::Reserved => self.reserved_until.is_some_and(|until| until <= now),
            NumberState::Assigned => false,
        }
    }
}

/// Why a claim was refused; each maps to a stable per-number error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimRefusal {
    NotFound,
    Assigned,
    AlreadyYours,
    ReservedByAnother,
    ReservationIdMissing,
    Aging,
    NotYetAvailable,
    /// The order was all-or-nothing and another number of it failed.
    PartialNotAllowed,
}

impl ClaimRefusal {
    pub fn code(self) -> &'static str {
        match self {
            ClaimRefusal::NotFound => "NUMBER_NOT_FOUND",
            ClaimRefusal::Assigned => "NUMBER_ASSIGNED",
            ClaimRefusal::AlreadyYours => "NUMBER_ALREADY_YOURS",
            ClaimRefusal::ReservedByAnother => "NUMBER_RESERVED",
            ClaimRefusal::ReservationIdMissing => "RESERVATION_ID_REQUIRED",
            ClaimRefusal::Aging => "NUMBER_AGING",
            ClaimRefusal::NotYetAvailable => "NUMBER_NOT_YET_AVAILABLE",
            ClaimRefusal::PartialNotAllowed => "PARTIAL_NOT_ALLOWED",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            ClaimRefusal::NotFound => "the number is not in the inventory",
            ClaimRefusal::Assigned => "the number is assigned to another account",
            ClaimRefusal::AlreadyYours => "the number is already assigned to this account",
            ClaimRefusal::ReservedByAnother => "the number is reserved by another account",
            ClaimRefusal::ReservationIdMissing => {
                "the number is reserved by this account; pass its reservation id"
            }
            ClaimRefusal::Aging => {
                "the number was released recently and is aging until its available_after time"
            }
            ClaimRefusal::NotYetAvailable => {
                "the number is not available until its available_after time"
            }
            ClaimRefusal::PartialNotAllowed => {
                "not ordered: another number of this all-or-nothing order was unavailable"
            }
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            ClaimRefusal::NotFound,
            ClaimRefusal::Assigned,
            ClaimRefusal::AlreadyYours,
            ClaimRefusal::ReservedByAnother,
            ClaimRefusal::ReservationIdMissing,
            ClaimRefusal::Aging,
            ClaimRefusal::NotYetAvailable,
            ClaimRefusal::PartialNotAllowed,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_micros_round_trip() {
        assert_eq!(parse_decimal_micros("1.5", "x").unwrap(), 1_500_000);
        assert_eq!(parse_decimal_micros("0", "x").unwrap(), 0);
        assert_eq!(micros_to_decimal(1_500_000), "1.50");
        assert_eq!(micros_to_decimal(1_234_567), "1.234567");
        assert!(parse_decimal_micros("-1", "x").is_err());
        assert!(parse_decimal_micros("1.1234567", "x").is_err());
    }
}

#[cfg(test)]
mod price_properties {
    //! Prices come from CSV rows and clients: any text is a price or a field error, never a
    //! panic or an overflow, and what parses renders back to the same amount.
    use proptest::prelude::*;

    use super::{micros_to_decimal, parse_decimal_micros};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_a_price_or_a_field_error(s in "\\PC{0,30}") {
            if let Err(e) = parse_decimal_micros(&s, "setup_price") {
                prop_assert!(e.to_string().contains("setup_price"));
            }
        }

        #[test]
        fn digits_at_any_length_do_not_overflow(whole in "[0-9]{1,40}", frac in "[0-9]{0,8}") {
            let s = if frac.is_empty() { whole.clone() } else { format!("{whole}.{frac}") };
            if let Ok(micros) = parse_decimal_micros(&s, "monthly_price") {
                prop_assert!(micros >= 0);
                prop_assert_eq!(parse_decimal_micros(&micros_to_decimal(micros), "x").ok(), Some(micros));
            }
        }
    }
}
