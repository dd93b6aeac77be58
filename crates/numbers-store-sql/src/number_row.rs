//! `numbers` rows as plain values, so each driver only has to read and bind primitives.

use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::ids::{AccountId, AssignmentId, NumberId, ReservationId};
use numbers_core::number::{
    AssignmentData, Capabilities, Classification, E164, Location, NewNumber, Number, NumberState,
    NumberType, Price,
};
use numbers_core::search::national_digits;
use uuid::Uuid;

/// Column order used by every SELECT of a whole number (and by `NumberRow` fields).
pub const NUMBER_COLUMNS: &str = "id, e164, national, country, number_type, capabilities, classification, \
rate_center, state_code, city, lata, zip, tier, vendor_id, vendor_name, setup_price_micros, monthly_price_micros, \
currency, protected, state, owner_account_id, last_owner_account_id, assignment_id, reservation_id, reserved_until, \
available_after, assigned_at, available_from, assignment, created_at, updated_at, version";

/// The mutable lifecycle columns (and `protected`, which a disconnect may change as it
/// releases), in the order `NumberRow::state_values` yields them; stores
/// build `UPDATE numbers SET <these> WHERE id = ? AND version = ?` from this list.
pub fn number_state_columns() -> [&'static str; 12] {
    [
        "protected",
        "state",
        "owner_account_id",
        "last_owner_account_id",
        "assignment_id",
        "reservation_id",
        "reserved_until",
        "available_after",
        "assigned_at",
        "available_from",
        "assignment",
        "updated_at",
    ]
}

#[derive(Debug, Clone, PartialEq)]
pub struct NumberRow {
    pub id: String,
    pub e164: String,
    pub national: String,
    pub country: String,
    pub number_type: String,
    pub capabilities: i64,
    pub classification: String,
    pub rate_center: Option<String>,
    pub state_code: Option<String>,
    pub city: Option<String>,
    pub lata: Option<String>,
    pub zip: Option<String>,
    pub tier: Option<i64>,
    pub vendor_id: Option<String>,
    pub vendor_name: Option<String>,
    pub setup_price_micros: Option<i64>,
    pub monthly_price_micros: Option<i64>,
    pub currency: Option<String>,
    pub protected: bool,
    pub state: String,
    pub owner_account_id: Option<String>,
    pub last_owner_account_id: Option<String>,
    pub assignment_id: Option<String>,
    pub reservation_id: Option<String>,
    pub reserved_until: Option<i64>,
    pub available_after: Option<i64>,
    pub assigned_at: Option<i64>,
    pub available_from: Option<i64>,
    pub assignment: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

fn uuid(field: &str, s: &str) -> Result<Uuid> {
    Uuid::parse_str(s)
        .map_err(|e| Error::internal(format!("stored {field} '{s}' is not a UUID: {e}")))
}

fn opt_uuid(field: &str, s: &Option<String>) -> Result<Option<Uuid>> {
    s.as_deref().map(|v| uuid(field, v)).transpose()
}

fn opt_ms(v: Option<i64>) -> Option<Timestamp> {
    v.map(from_millis)
}

/// When the number is offered to everyone: the value of the `available_from` column, which
/// search filters on with one indexed comparison.
pub fn available_from(n: &Number) -> Option<Timestamp> {
    match n.state {
        NumberState::Available | NumberState::Aging => {
            Some(n.available_after.unwrap_or(n.created_at))
        }
        NumberState::Reserved => n.reserved_until,
        NumberState::Assigned => None,
    }
}

impl NumberRow {
    pub fn into_number(self) -> Result<Number> {
        let price = match (
            self.setup_price_micros,
            self.monthly_price_micros,
            self.currency,
        ) {
            (Some(setup), Some(monthly), Some(currency)) => Some(Price {
                setup_micros: setup,
                monthly_micros: monthly,
                currency,
            }),
            _ => None,
        };
        let corrupt =
            |what: &str, v: &str| Error::internal(format!("stored {what} '{v}' is not valid"));
        Ok(Number {
            id: NumberId(uuid("id", &self.id)?),
            e164: E164::from_trusted(self.e164),
            country: self.country,
            number_type: NumberType::parse_field(&self.number_type, "type")
                .map_err(|_| corrupt("type", &self.number_type))?,
            capabilities: Capabilities::from_bits(self.capabilities),
            classification: Classification::parse_field(&self.classification, "classification")
                .map_err(|_| corrupt("classification", &self.classification))?,
            location: Location {
                rate_center: self.rate_center,
                state: self.state_code,
                city: self.city,
                lata: self.lata,
                zip: self.zip,
            },
            tier: self.tier.map(|t| t as i32),
            vendor_id: self.vendor_id,
            vendor_name: self.vendor_name,
            price,
            protected: self.protected,
            state: NumberState::parse_field(&self.state, "state")
                .map_err(|_| corrupt("state", &self.state))?,
            owner: opt_uuid("owner_account_id", &self.owner_account_id)?.map(AccountId),
            last_owner: opt_uuid("last_owner_account_id", &self.last_owner_account_id)?
                .map(AccountId),
            assignment_id: opt_uuid("assignment_id", &self.assignment_id)?.map(AssignmentId),
            reservation_id: opt_uuid("reservation_id", &self.reservation_id)?.map(ReservationId),
            reserved_until: opt_ms(self.reserved_until),
            available_after: opt_ms(self.available_after),
            assigned_at: opt_ms(self.assigned_at),
            assignment: serde_json::from_str::<AssignmentData>(&self.assignment).map_err(|e| {
                Error::internal(format!("stored assignment is not valid JSON: {e}"))
            })?,
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
            version: self.version,
        })
    }

    /// The row for a newly imported number: AVAILABLE from `at`.
    pub fn from_new(n: &NewNumber, id: NumberId, at: Timestamp) -> Self {
        let ms = to_millis(at);
        NumberRow {
            id: id.to_string(),
            e164: n.e164.as_str().to_string(),
            national: national_digits(&n.e164, &n.country),
            country: n.country.clone(),
            number_type: n.number_type.as_str().to_string(),
            capabilities: n.capabilities.bits(),
            classification: n.classification.as_str().to_string(),
            rate_center: n.location.rate_center.clone(),
            state_code: n.location.state.clone(),
            city: n.location.city.clone(),
            lata: n.location.lata.clone(),
            zip: n.location.zip.clone(),
            tier: n.tier.map(i64::from),
            vendor_id: n.vendor_id.clone(),
            vendor_name: n.vendor_name.clone(),
            setup_price_micros: n.price.as_ref().map(|p| p.setup_micros),
            monthly_price_micros: n.price.as_ref().map(|p| p.monthly_micros),
            currency: n.price.as_ref().map(|p| p.currency.clone()),
            protected: n.protected,
            state: NumberState::Available.as_str().to_string(),
            owner_account_id: None,
            last_owner_account_id: None,
            assignment_id: None,
            reservation_id: None,
            reserved_until: None,
            available_after: Some(ms),
            assigned_at: None,
            available_from: Some(ms),
            assignment: "{}".to_string(),
            created_at: ms,
            updated_at: ms,
            version: 1,
        }
    }

    /// Values for `number_state_columns()`, in that order, taken from a changed `Number`.
    pub fn state_values(n: &Number) -> Result<Vec<SqlValueOwned>> {
        let text = |v: Option<String>| SqlValueOwned::from(v);
        let ms = |v: Option<Timestamp>| SqlValueOwned::from(v.map(to_millis));
        Ok(vec![
            SqlValueOwned::Bool(n.protected),
            SqlValueOwned::Text(n.state.as_str().to_string()),
            text(n.owner.map(|a| a.to_string())),
            text(n.last_owner.map(|a| a.to_string())),
            text(n.assignment_id.map(|a| a.to_string())),
            text(n.reservation_id.map(|r| r.to_string())),
            ms(n.reserved_until),
            ms(n.available_after),
            ms(n.assigned_at),
            ms(available_from(n)),
            SqlValueOwned::Text(serde_json::to_string(&n.assignment).map_err(Error::internal)?),
            SqlValueOwned::Int(to_millis(n.updated_at)),
        ])
    }
}

pub use crate::search_sql::SqlValue as SqlValueOwned;
