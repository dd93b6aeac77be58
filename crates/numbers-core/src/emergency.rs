//! Emergency (E911) addresses of active voice numbers: the address a public-safety answering
//! point is given for calls from the number, as Sinch's Numbers API carries it (`displayName`
//! plus `streetNumber`, `streetInfo`, `location`, `city`, `state`, `postalCode`,
//! `postalCodePlusFour`). E911 is a US service, so the address is a US postal address and only
//! US numbers with VOICE take one. Parsing normalises whitespace and the state's case; whether
//! the address exists is not known here (numbersd has no address database), so validation is
//! of form only.

use serde::{Deserialize, Serialize};

use crate::error::{FieldErrors, Result};

/// USPS codes of the states, DC and the territories with E911.
const STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI",
];

/// An emergency address as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmergencyAddress {
    /// The name the answering point sees with the address.
    pub display_name: String,
    pub street_number: String,
    pub street_info: String,
    /// Suite, floor, apartment.
    pub location: Option<String>,
    pub city: String,
    pub state: String,
    pub postal_code: String,
    pub postal_code_plus_four: Option<String>,
}

/// The parts as a client sent them (absent = `None`), before parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEmergencyAddress {
    pub display_name: Option<String>,
    pub street_number: Option<String>,
    pub street_info: Option<String>,
    pub location: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub postal_code_plus_four: Option<String>,
}

/// Trimmed, inner whitespace runs collapsed to one space.
fn tidy(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn text(
    errors: &mut FieldErrors,
    value: &Option<String>,
    field: &str,
    max: usize,
    required: bool,
) -> Option<String> {
    let value = value.as_deref().map(tidy).filter(|v| !v.is_empty());
    match value {
        None if required => {
            errors.push(field, "is required");
            None
        }
        None => None,
        Some(v) if v.chars().count() > max => {
            errors.push(field, format!("must be at most {max} characters"));
            None
        }
        Some(v) if v.chars().any(char::is_control) => {
            errors.push(field, "must not contain control characters");
            None
        }
        Some(v) => Some(v),
    }
}

impl EmergencyAddress {
    /// Parses every part, reporting each problem at once. `display_field` names the display name
    /// and `prefix` goes before the address parts' names (`address.` for Sinch's
    /// `address.streetNumber`).
    pub fn parse(raw: &RawEmergencyAddress, display_field: &str, prefix: &str) -> Result<Self> {
        let mut errors = FieldErrors::new();
        let f = |name: &str| format!("{prefix}{name}");
        let display_name = text(&mut errors, &raw.display_name, display_field, 60, true);
        let street_number = text(
            &mut errors,
            &raw.street_number,
            &f("streetNumber"),
            20,
            true,
        );
        if let Some(n) = &street_number
            && !n.starts_with(|c: char| c.is_ascii_digit())
        {
            errors.push(f("streetNumber"), "must start with a digit");
        }
        let street_info = text(&mut errors, &raw.street_info, &f("streetInfo"), 100, true);
        let location = text(&mut errors, &raw.location, &f("location"), 60, false);
        let city = text(&mut errors, &raw.city, &f("city"), 60, true);
        let state = text(&mut errors, &raw.state, &f("state"), 2, true).map(|s| s.to_uppercase());
        if let Some(s) = &state
            && !STATES.contains(&s.as_str())
        {
            errors.push(
                f("state"),
                "must be a US state or territory code (USPS, e.g. WA)",
            );
        }
        let postal_code = text(&mut errors, &raw.postal_code, &f("postalCode"), 5, true);
        if let Some(p) = &postal_code
            && !(p.len() == 5 && p.bytes().all(|b| b.is_ascii_digit()))
        {
            errors.push(f("postalCode"), "must be a 5-digit ZIP code");
        }
        let plus_four = text(
            &mut errors,
            &raw.postal_code_plus_four,
            &f("postalCodePlusFour"),
            4,
            false,
        );
        if let Some(p) = &plus_four
            && !(p.len() == 4 && p.bytes().all(|b| b.is_ascii_digit()))
        {
            errors.push(f("postalCodePlusFour"), "must be 4 digits");
        }
        errors.into_result()?;
        match (
            display_name,
            street_number,
            street_info,
            city,
            state,
            postal_code,
        ) {
            (
                Some(display_name),
                Some(street_number),
                Some(street_info),
                Some(city),
                Some(state),
                Some(postal_code),
            ) => Ok(EmergencyAddress {
                display_name,
                street_number,
                street_info,
                location,
                city,
                state,
                postal_code,
                postal_code_plus_four: plus_four,
            }),
            _ => Err(crate::error::Error::internal(
                "emergency address incomplete after validation",
            )),
        }
    }

    /// Whether parsing changed nothing the client sent (then the address matches as given).
    pub fn is_as_sent(&self, raw: &RawEmergencyAddress) -> bool {
        let same = |parsed: Option<&str>, sent: &Option<String>| parsed == sent.as_deref();
        same(Some(&self.display_name), &raw.display_name)
            && same(Some(&self.street_number), &raw.street_number)
            && same(Some(&self.street_info), &raw.street_info)
            && same(self.location.as_deref(), &raw.location)
            && same(Some(&self.city), &raw.city)
            && same(Some(&self.state), &raw.state)
            && same(Some(&self.postal_code), &raw.postal_code)
            && same(
                self.postal_code_plus_four.as_deref(),
                &raw.postal_code_plus_four,
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn raw() -> RawEmergencyAddress {
        RawEmergencyAddress {
            display_name: Some("Acme HQ".into()),
            street_number: Some("1201".into()),
            street_info: Some("3rd  Ave ".into()),
            location: Some("Floor 4".into()),
            city: Some("Seattle".into()),
            state: Some("wa".into()),
            postal_code: Some("98101".into()),
            postal_code_plus_four: None,
        }
    }

    #[test]
    fn parses_and_normalises() {
        let a = EmergencyAddress::parse(&raw(), "displayName", "address.").unwrap();
        assert_eq!(a.street_info, "3rd Ave");
        assert_eq!(a.state, "WA");
        assert!(!a.is_as_sent(&raw()));
        let mut exact = raw();
        exact.street_info = Some("3rd Ave".into());
        exact.state = Some("WA".into());
        assert!(
            EmergencyAddress::parse(&exact, "displayName", "address.")
                .unwrap()
                .is_as_sent(&exact)
        );
    }

    #[test]
    fn reports_every_problem_with_its_field() {
        let bad = RawEmergencyAddress {
            street_number: Some("Main".into()),
            state: Some("XX".into()),
            postal_code: Some("9810".into()),
            postal_code_plus_four: Some("12a4".into()),
            ..Default::default()
        };
        let Err(Error::Validation(errors)) =
            EmergencyAddress::parse(&bad, "displayName", "address.")
        else {
            panic!("accepted");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "displayName",
                "address.streetNumber",
                "address.streetInfo",
                "address.city",
                "address.state",
                "address.postalCode",
                "address.postalCodePlusFour"
            ]
        );
    }
}
