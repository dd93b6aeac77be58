//! `EmergencyAddressStore` on SQLite: the `emergency_addresses` table (migration 0013), one row
//! per number, valid for the assignment whose id it carries (see the trait).

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::emergency::EmergencyAddress;
use numbers_core::error::Result;
use numbers_core::ids::AccountId;
use numbers_core::number::E164;
use numbers_core::store::EmergencyAddressStore;
use numbers_store_sql::emergency_row::{address_from_json, address_to_json, current_assignment};
use rusqlite::{OptionalExtension, params};

use crate::SqliteStore;
use crate::db::DbResult;

#[async_trait]
impl EmergencyAddressStore for SqliteStore {
    async fn get_emergency_address(
        &self,
        account: AccountId,
        e164: &E164,
    ) -> Result<Option<EmergencyAddress>> {
        let current = current_assignment('?');
        let e164 = e164.as_str().to_string();
        self.read(move |tx| {
            let json: Option<String> = tx
                .prepare_cached(&format!(
                    "SELECT a.address FROM emergency_addresses a \
                     JOIN numbers n ON n.e164 = a.e164 AND n.assignment_id = a.assignment_id \
                     WHERE {current}"
                ))
                .db()?
                .query_row(params![e164, account.to_string()], |r| r.get(0))
                .optional()
                .db()?;
            json.map(|j| address_from_json(&j)).transpose()
        })
        .await
    }

    async fn put_emergency_address(
        &self,
        account: AccountId,
        e164: &E164,
        address: &EmergencyAddress,
        now: Timestamp,
    ) -> Result<bool> {
        let current = current_assignment('?');
        let e164 = e164.as_str().to_string();
        let json = address_to_json(address)?;
        self.write(move |tx| {
            let n = tx
                .prepare_cached(&format!(
                    "INSERT INTO emergency_addresses (e164, assignment_id, address, updated_at) \
                     SELECT n.e164, n.assignment_id, ?3, ?4 FROM numbers n WHERE {current} \
                     ON CONFLICT (e164) DO UPDATE SET assignment_id = excluded.assignment_id, \
                     address = excluded.address, updated_at = excluded.updated_at"
                ))
                .db()?
                .execute(params![e164, account.to_string(), json, to_millis(now)])
                .db()?;
            Ok(n == 1)
        })
        .await
    }

    async fn delete_emergency_address(&self, account: AccountId, e164: &E164) -> Result<bool> {
        let current = current_assignment('?');
        let e164 = e164.as_str().to_string();
        self.write(move |tx| {
            let n = tx
                .prepare_cached(&format!(
                    "DELETE FROM emergency_addresses WHERE e164 = ?1 AND assignment_id = \
                     (SELECT n.assignment_id FROM numbers n WHERE {current})"
                ))
                .db()?
                .execute(params![e164, account.to_string()])
                .db()?;
            Ok(n == 1)
        })
        .await
    }
}
