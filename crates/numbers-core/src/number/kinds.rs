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

#[cfg(test)]
mod properties {
    //! The closed vocabularies and capability lists arrive as free text from every dialect: any
    //! text parses or is refused naming the field, never a panic; every canonical spelling, in
    //! any case and with surrounding blanks, parses back to its value; a capability set survives
    //! its list, bit mask and JSON forms.
    use proptest::prelude::*;

    use super::*;

    fn capabilities() -> impl Strategy<Value = Capabilities> {
        (0i64..32).prop_map(Capabilities::from_bits)
    }

    /// `s` with each ASCII letter's case chosen by `flips`.
    fn recase(s: &str, flips: u64) -> String {
        s.chars()
            .enumerate()
            .map(|(i, c)| {
                if flips >> (i % 64) & 1 == 1 {
                    c.to_ascii_lowercase()
                } else {
                    c
                }
            })
            .collect()
    }

    fn field_of(e: &Error) -> Vec<&str> {
        match e {
            Error::Validation(errors) => errors.iter().map(|e| e.field.as_str()).collect(),
            other => panic!("not a field error: {other:?}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_is_a_value_or_a_field_error(s in "\\PC{0,20}") {
            if let Err(e) = NumberState::parse_field(&s, "state") {
                prop_assert_eq!(field_of(&e), vec!["state"]);
            }
            if let Err(e) = NumberType::parse_field(&s, "type") {
                prop_assert_eq!(field_of(&e), vec!["type"]);
            }
            if let Err(e) = Classification::parse_field(&s, "classification") {
                prop_assert_eq!(field_of(&e), vec!["classification"]);
            }
            if let Err(e) = Capabilities::parse_list([s.as_str()], "capabilities") {
                prop_assert_eq!(field_of(&e), vec!["capabilities"]);
            }
        }

        #[test]
        fn canonical_spellings_parse_in_any_case(
            i in 0usize..16, flips in any::<u64>(), before in "[ \t]{0,2}", after in "[ \t]{0,2}",
        ) {
            let state = NumberState::ALL[i % NumberState::ALL.len()];
            let text = format!("{before}{}{after}", recase(state.as_str(), flips));
            prop_assert_eq!(text.parse::<NumberState>().unwrap(), state);
            let kind = NumberType::ALL[i % NumberType::ALL.len()];
            let text = format!("{before}{}{after}", recase(kind.as_str(), flips));
            prop_assert_eq!(text.parse::<NumberType>().unwrap(), kind);
            let cap = Capability::ALL[i % Capability::ALL.len()];
            prop_assert_eq!(recase(cap.as_str(), flips).parse::<Capability>().unwrap(), cap);
            let class = Classification::ALL[i % Classification::ALL.len()];
            prop_assert_eq!(recase(class.as_str(), flips).parse::<Classification>().unwrap(), class);
        }

        #[test]
        fn capability_sets_survive_every_form(caps in capabilities(), pipe in any::<bool>(), flips in any::<u64>()) {
            let names: Vec<&str> = caps.iter().map(|c| c.as_str()).collect();
            let list = recase(&names.join(if pipe { "|" } else { "," }), flips);
            prop_assert_eq!(Capabilities::parse_list([list.as_str()], "c").unwrap(), caps);
            // Repeated values, as a query string gives them.
            prop_assert_eq!(Capabilities::parse_list(names.iter().copied(), "c").unwrap(), caps);
            prop_assert_eq!(Capabilities::from_bits(caps.bits()), caps);
            prop_assert_eq!(caps.iter().collect::<Capabilities>(), caps);
            let json = serde_json::to_string(&caps).unwrap();
            prop_assert_eq!(serde_json::from_str::<Capabilities>(&json).unwrap(), caps);
        }

        #[test]
        fn set_operations_agree_with_membership(a in capabilities(), b in capabilities()) {
            let all_of = Capability::ALL.iter().all(|c| !b.contains(*c) || a.contains(*c));
            let any_of = Capability::ALL.iter().any(|c| a.contains(*c) && b.contains(*c));
            prop_assert_eq!(a.contains_all(b), all_of);
            prop_assert_eq!(a.intersects(b), any_of);
            prop_assert_eq!(a.is_empty(), a.iter().next().is_none());
        }
    }
}
