//! `NumberStore`: what an owner does with its assigned numbers (update, release) and the aging
//! sweep that offers released numbers to everyone again. The transitions are core's
//! (`Number::{update_assignment, release, finish_aging}`); this module loads and saves.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{Error, Resource, Result};
use numbers_core::ids::AccountId;
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{E164, Number, NumberChange};
use numbers_core::store::NumberStore;
use rusqlite::{Connection, params};

use crate::SqliteStore;
use crate::db::DbResult;
use crate::rows::{number_by_e164, save_number, select_numbers};

/// The number if it is ASSIGNED to `account`; `NotFound` otherwise (another tenant's number
/// answers the same as an unknown one).
pub(crate) fn owned_number(conn: &Connection, account: AccountId, e164: &E164) -> Result<Number> {
    number_by_e164(conn, e164.as_str())?
        .filter(|n| n.is_assigned_to(account))
        .ok_or_else(|| Error::not_found(Resource::Number, e164))
}

/// Saves a released number (`Number::release`) and closes its live assignment. Shared by a
/// single release and a disconnect.
pub(crate) fn save_released(
    tx: &Connection,
    released: &NumberChange,
    now: Timestamp,
) -> Result<()> {
    save_number(tx, released)?;
    let mut stmt = tx
        .prepare_cached(
            "UPDATE assignments SET released_at = ?1 WHERE number_id = ?2 AND released_at IS NULL",
        )
        .db()?;
    stmt.execute(params![to_millis(now), released.number.id.to_string()])
        .db()?;
    Ok(())
}

#[async_trait]
impl NumberStore for SqliteStore {
    async fn update_assignment(
        &self,
        account: AccountId,
        e164: &E164,
        patch: &AssignmentPatch,
        now: Timestamp,
    ) -> Result<Number> {
        let (e164, patch) = (e164.clone(), patch.clone());
        self.write(move |tx| {
            let change = owned_number(tx, account, &e164)?.update_assignment(&patch, now)?;
            save_number(tx, &change)?;
            Ok(change.number)
        })
        .await
    }

    async fn release_number(
        &self,
        account: AccountId,
        e164: &E164,
        available_after: Timestamp,
        now: Timestamp,
    ) -> Result<Number> {
        let e164 = e164.clone();
        self.write(move |tx| {
            let change = owned_number(tx, account, &e164)?.release(available_after, now);
            save_released(tx, &change, now)?;
            Ok(change.number)
        })
        .await
    }

    async fn age_numbers(&self, now: Timestamp, limit: u32) -> Result<u32> {
        self.write(move |tx| {
            let due = select_numbers(
                tx,
                "state = 'AGING' AND available_after <= ?1 ORDER BY available_after, e164 LIMIT ?2",
                vec![to_millis(now).into(), i64::from(limit).into()],
            )?;
            for n in &due {
                save_number(tx, &n.clone().finish_aging(now))?;
            }
            Ok(due.len() as u32)
        })
        .await
    }
}
