//! `EmergencyAddressStore` on PostgreSQL: the `emergency_addresses` table (migration 0013), one
//! row per number, valid for the assignment whose id it carries (see the trait). Each method is
//! one statement, so the ownership check and the write are one atomic step.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::emergency::EmergencyAddress;
use numbers_core::error::Result;
use numbers_core::ids::AccountId;
use numbers_core::number::E164;
use numbers_core::store::EmergencyAddressStore;
use numbers_store_sql::emergency_row::{address_from_json, address_to_json, current_assignment};

use crate::rows::get;
use crate::{PostgresStore, db_err};

#[async_trait]
impl EmergencyAddressStore for PostgresStore {
    async fn get_emergency_address(
        &self,
        account: AccountId,
        e164: &E164,
    ) -> Result<Option<EmergencyAddress>> {
        let current = current_assignment('$');
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!(
                    "SELECT a.address FROM emergency_addresses a \
                     JOIN numbers n ON n.e164 = a.e164 AND n.assignment_id = a.assignment_id \
                     WHERE {current}"
                ),
                &[&e164.as_str(), &account.to_string()],
            )
            .await
            .map_err(db_err)?;
        row.map(|r| {
            let json: String = get(&r, 0)?;
            address_from_json(&json)
        })
        .transpose()
    }

    async fn put_emergency_address(
        &self,
        account: AccountId,
        e164: &E164,
        address: &EmergencyAddress,
        now: Timestamp,
    ) -> Result<bool> {
        let current = current_assignment('$');
        let json = address_to_json(address)?;
        let client = self.client().await?;
        let n = client
            .execute(
                &format!(
                    "INSERT INTO emergency_addresses (e164, assignment_id, address, updated_at) \
                     SELECT n.e164, n.assignment_id, $3, $4 FROM numbers n WHERE {current} \
                     ON CONFLICT ON CONSTRAINT emergency_addresses_pkey DO UPDATE SET \
                     assignment_id = excluded.assignment_id, address = excluded.address, \
                     updated_at = excluded.updated_at"
                ),
                &[&e164.as_str(), &account.to_string(), &json, &to_millis(now)],
            )
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }

    async fn delete_emergency_address(&self, account: AccountId, e164: &E164) -> Result<bool> {
        let current = current_assignment('$');
        let client = self.client().await?;
        let n = client
            .execute(
                &format!(
                    "DELETE FROM emergency_addresses WHERE e164 = $1 AND assignment_id = \
                     (SELECT n.assignment_id FROM numbers n WHERE {current})"
                ),
                &[&e164.as_str(), &account.to_string()],
            )
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }
}
