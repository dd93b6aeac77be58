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
