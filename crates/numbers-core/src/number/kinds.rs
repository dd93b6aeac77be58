//! The small closed vocabularies of the domain: number state, number type, capability and
//! classification. Each has one canonical upper-case spelling; dialects translate their own words.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

macro_rules! closed_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the canonical spelling, case-insensitively; the error names `field`.
            pub fn parse_field(s: &str, field: &str) -> Result<Self, Error> {
                let upper = s.trim().to_ascii_uppercase();
                match upper.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::invalid(
                        field,
                        format!("unknown value '{}'; expected one of {}", s, [$($text),+].join(", ")),
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::parse_field(s, $field)
            }
        }
    };
}

closed_enum!(
    /// Where a number is in its lifecycle.
    NumberState, "state" {
        Available = "AVAILABLE",
        Reserved = "RESERVED",
        Assigned = "ASSIGNED",
        Aging = "AGING",
    }
);

closed_enum!(
    /// What kind of number it is. LOCAL covers geographic/landline numbers (MessageMedia's
    /// LANDLINE, Sinch's LOCAL); SHORT_CODE exists for MessageMedia's short codes.
    NumberType, "type" {
        Mobile = "MOBILE",
        Local = "LOCAL",
        TollFree = "TOLL_FREE",
        ShortCode = "SHORT_CODE",
    }
);

closed_enum!(
    Capability, "capabilities" {
        Sms = "SMS",
        Mms = "MMS",
        Voice = "VOICE",
        Fax = "FAX",
        Tts = "TTS",
    }
);

closed_enum!(
    /// MessageMedia's tiers, computed from the digits (see `classification`).
    Classification, "classification" {
        Bronze = "BRONZE",
        Silver = "SILVER",
        Gold = "GOLD",
    }
);

impl Capability {
    fn bit(self) -> u8 {
        match self {
            Capability::Sms => 1,
            Capability::Mms => 2,
            Capability::Voice => 4,
            Capability::Fax => 8,
            Capability::Tts => 16,
        }
    }
}

/// A set of capabilities, stored as a bit mask so "has all of" is one integer comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Capabilities(u8);

impl Capabilities {
    pub const NONE: Capabilities = Capabilities(0);

    pub fn from_bits(bits: i64) -> Self {
        Capabilities((bits & 0x1f) as u8)
    }

    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }

    pub fn with(mut self, c: Capability) -> Self {
        self.0 |= c.bit();
        self
    }

    pub fn contains(self, c: Capability) -> bool {
        self.0 & c.bit() != 0
    }

    pub fn contains_all(self, other: Capabilities) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn intersects(self, other: Capabilities) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .iter()
            .copied()
            .filter(move |c| self.contains(*c))
    }

    /// Parses `SMS|VOICE`, `SMS,VOICE` or repeated values already split by the caller.
    pub fn parse_list<'a>(
        items: impl IntoIterator<Item = &'a str>,
        field: &str,
    ) -> Result<Self, Error> {
        let mut caps = Capabilities::NONE;
        for item in items {
            for part in item.split([',', '|']) {
                let part = part.trim();
                if !part.is_empty() {
                    caps = caps.with(Capability::parse_field(part, field)?);
                }
            }
        }
        Ok(caps)
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        iter.into_iter()
            .fold(Capabilities::NONE, Capabilities::with)
    }
}

impl Serialize for Capabilities {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Capabilities {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<Capability>::deserialize(d)?;
        Ok(list.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_parse_and_compare() {
        let caps = Capabilities::parse_list(["sms|VOICE", "MMS"], "capabilities").unwrap();
        assert!(caps.contains_all(Capabilities::parse_list(["SMS,MMS"], "c").unwrap()));
        assert!(!caps.contains(Capability::Fax));
        assert_eq!(
            caps.iter().collect::<Vec<_>>(),
            vec![Capability::Sms, Capability::Mms, Capability::Voice]
        );
        let err = Capabilities::parse_list(["SMS", "PIGEON"], "capabilities").unwrap_err();
        assert!(err.to_string().contains("PIGEON"));
    }

    #[test]
    fn enums_parse_case_insensitively_and_name_the_field() {
        assert_eq!(
            "toll_free".parse::<NumberType>().unwrap(),
            NumberType::TollFree
        );
        match NumberType::parse_field("LANDLINE", "search.type") {
            Err(Error::Validation(errs)) => assert_eq!(errs[0].field, "search.type"),
            other => panic!("{other:?}"),
        }
    }
}
