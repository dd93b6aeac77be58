//! North American Numbering Plan facets of a +1 number: NPA (area code), NXX (exchange) and the
//! thousands block NPA-NXX-X. Derived from the digits, never stored twice.

use serde::Serialize;

use super::e164::E164;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NanpFacets {
    pub npa: String,
    pub nxx: String,
    pub npa_nxx: String,
    pub npa_nxx_x: String,
}

impl NanpFacets {
    pub fn of(e164: &E164) -> Option<Self> {
        let national = e164.nanp_national()?;
        Some(NanpFacets {
            npa: national[..3].to_string(),
            nxx: national[3..6].to_string(),
            npa_nxx: national[..6].to_string(),
            npa_nxx_x: national[..7].to_string(),
        })
    }
}

/// Toll-free NPAs in service (800, 833, 844, 855, 866, 877, 888).
pub const TOLL_FREE_NPAS: [&str; 7] = ["800", "833", "844", "855", "866", "877", "888"];

/// `[2-9][0-9][0-9]`: what NANP allows for an NPA or an NXX.
pub fn is_valid_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 3 && (b'2'..=b'9').contains(&b[0]) && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}

#[cfg(test)]
mod properties {
    //! Area codes and exchanges arrive as search text: `is_valid_code` accepts exactly
    //! `[2-9][0-9][0-9]` whatever it is given, and the facets of a +1 number are its leading
    //! national digits, consistent with each other.
    use proptest::prelude::*;

    use super::{NanpFacets, is_valid_code};
    use crate::number::E164;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn valid_codes_are_exactly_three_digits_not_starting_0_or_1(s in "\\PC{0,4}|[0-9]{3}") {
            let b = s.as_bytes();
            let expected = b.len() == 3
                && (b'2'..=b'9').contains(&b[0])
                && b[1..].iter().all(u8::is_ascii_digit);
            prop_assert_eq!(is_valid_code(&s), expected);
        }

        #[test]
        fn facets_are_the_leading_national_digits(national in "[2-9][0-9]{2}[2-9][0-9]{6}") {
            // libphonenumber refuses some of these (unassigned area codes); the rest have facets.
            if let Ok(e164) = E164::parse(&format!("+1{national}")) {
                let facets = NanpFacets::of(&e164).expect("a +1 number has NANP facets");
                prop_assert_eq!(&facets.npa, &national[..3]);
                prop_assert_eq!(&facets.nxx, &national[3..6]);
                prop_assert_eq!(&facets.npa_nxx, &national[..6]);
                prop_assert_eq!(&facets.npa_nxx_x, &national[..7]);
                prop_assert!(is_valid_code(&facets.npa) && is_valid_code(&facets.nxx));
            }
        }

        #[test]
        fn numbers_outside_the_plan_have_no_facets(rest in "[0-9]{9}", cc in "4[0-9]|6[1-4]|8[1-2]") {
            if let Ok(e164) = E164::parse(&format!("+{cc}{rest}")) {
                prop_assert_eq!(NanpFacets::of(&e164), None);
            }
        }
    }
}
