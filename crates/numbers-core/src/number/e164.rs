//! `E164`: a telephone number in E.164 form, parsed (never just pattern-checked) with the
//! `phonenumber` crate, so the country and the national number type come from libphonenumber's
//! own metadata.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

use super::kinds::NumberType;

/// `+` followed by 2–15 digits, first digit non-zero, and valid per libphonenumber.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

/// What libphonenumber tells about a number beyond its digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedE164 {
    pub e164: E164,
    /// ISO 3166-1 alpha-2 region (`US`, `AU`…), `None` for non-geographic codes.
    pub country: Option<String>,
    /// The type libphonenumber derives, mapped to ours; `None` when it cannot tell.
    pub number_type: Option<NumberType>,
}

impl E164 {
    /// Parses a number that must already be in E.164 form (a leading `+`). Spaces, dashes, dots
    /// and parentheses are tolerated as separators; anything else is an error.
    pub fn parse(input: &str) -> Result<Self, Error> {
        Self::parse_detailed(input).map(|p| p.e164)
    }

    pub fn parse_detailed(input: &str) -> Result<ParsedE164, Error> {
        let trimmed = input.trim();
        if !trimmed.starts_with('+') {
            return Err(invalid(
                "must be in E.164 form with a leading '+', e.g. +14155550123",
            ));
        }
        let mut digits = String::with_capacity(16);
        for c in trimmed[1..].chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(invalid("may contain only digits after the leading '+'")),
            }
        }
        if digits.len() < 2 || digits.len() > 15 || digits.starts_with('0') {
            return Err(invalid(
                "must have 2 to 15 digits and a country code that does not start with 0",
            ));
        }
        let candidate = format!("+{digits}");
        let parsed = phonenumber::parse(None, &candidate)
            .map_err(|_| invalid("is not a parseable telephone number"))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(invalid("is not a valid telephone number for its country"));
        }
        let canonical = parsed.format().mode(phonenumber::Mode::E164).to_string();
        let country = parsed.country().id().map(|id| id.as_ref().to_string());
        let number_type = match parsed.number_type(&phonenumber::metadata::DATABASE) {
            phonenumber::Type::Mobile => Some(NumberType::Mobile),
            phonenumber::Type::FixedLine | phonenumber::Type::FixedLineOrMobile => {
                Some(NumberType::Local)
            }
            phonenumber::Type::TollFree => Some(NumberType::TollFree),
            phonenumber::Type::ShortCode => Some(NumberType::ShortCode),
            _ => None,
        };
        Ok(ParsedE164 {
            e164: E164(canonical),
            country,
            number_type,
        })
    }

    /// For values the store wrote itself: already canonical, no second parse on the read path.
    pub fn from_trusted(s: String) -> Self {
        E164(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without `+`.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    pub fn is_nanp(&self) -> bool {
        self.0.starts_with("+1") && self.0.len() == 12
    }

    /// The ten NANP digits (NPA-NXX-XXXX) of a +1 number.
    pub fn nanp_national(&self) -> Option<&str> {
        self.is_nanp().then(|| &self.0[2..])
    }
}

fn invalid(reason: &str) -> Error {
    Error::invalid("e164", reason)
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for E164 {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl AsRef<str> for E164 {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for E164 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for E164 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        E164::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_us_number_with_country_and_type() {
        let p = E164::parse_detailed("+1 (206) 555-0100").unwrap();
        assert_eq!(p.e164.as_str(), "+12065550100");
        assert_eq!(p.country.as_deref(), Some("US"));
        assert_eq!(p.number_type, Some(NumberType::Local));
        assert_eq!(p.e164.nanp_national(), Some("2065550100"));
    }

    #[test]
    fn knows_toll_free_and_mobile() {
        assert_eq!(
            E164::parse_detailed("+18005550199").unwrap().number_type,
            Some(NumberType::TollFree)
        );
        let au = E164::parse_detailed("+61491570156").unwrap();
        assert_eq!(au.country.as_deref(), Some("AU"));
        assert_eq!(au.number_type, Some(NumberType::Mobile));
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "12065550100",
            "+",
            "+0123",
            "+1206555010a",
            "+1234567890123456",
            "+11234567890",
        ] {
            assert!(E164::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    mod properties {
        //! Whatever a client sends where a number is expected, parsing answers: a number or a
        //! refusal, never a panic; and what it accepts round-trips.
        use proptest::prelude::*;

        use super::super::E164;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn any_text_parses_or_is_refused(s in "\\PC{0,40}") {
                let _ = E164::parse(&s);
                let _ = E164::parse_detailed(&s);
            }

            #[test]
            fn number_like_text_parses_or_is_refused(s in "[+]?[0-9 ()\\-.]{0,24}") {
                if let Ok(e) = E164::parse(&s) {
                    let again = E164::parse(e.as_str());
                    prop_assert_eq!(again.ok(), Some(e));
                }
            }
        }
    }
}
