//! The `emergency_addresses.address` column (migration 0013, both stores): the JSON of the
//! core's `EmergencyAddress`, and the SQL condition both stores use for "the number's current
//! assignment to the account".

use numbers_core::emergency::EmergencyAddress;
use numbers_core::error::{Error, Result};

/// On `numbers n`, with the E.164 as parameter 1 and the account id as parameter 2; `$` or `?`
/// as the store numbers its parameters.
pub fn current_assignment(mark: char) -> String {
    format!(
        "n.e164 = {mark}1 AND n.owner_account_id = {mark}2 AND n.state = 'ASSIGNED' \
         AND n.assignment_id IS NOT NULL"
    )
}

pub fn address_to_json(address: &EmergencyAddress) -> Result<String> {
    serde_json::to_string(address)
        .map_err(|e| Error::internal(format!("emergency address to JSON: {e}")))
}

pub fn address_from_json(json: &str) -> Result<EmergencyAddress> {
    serde_json::from_str(json)
        .map_err(|e| Error::internal(format!("stored emergency address: {e}")))
}
