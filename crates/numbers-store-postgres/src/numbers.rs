//! `NumberStore`: what an owner does with its assigned numbers (update, release) and the aging
//! sweep that offers released numbers to everyone again. The transitions are core's
//! (`Number::{update_assignment, release, finish_aging}`); this module locks and saves.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{Error, Resource, Result};
use numbers_core::ids::AccountId;
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{E164, Number, NumberChange};
use numbers_core::store::NumberStore;
use tokio_postgres::Transaction;

use crate::rows::{number_from_row, numbers_from_rows, save_numbers, select_numbers};
use crate::{PostgresStore, db_err};

/// Locks the number if it is ASSIGNED to `account`; `NotFound` otherwise (another tenant's
/// number answers exactly like a missing one).
async fn owned_number(tx: &Transaction<'_>, account: AccountId, e164: &E164) -> Result<Number> {
    let sql = format!("{} WHERE e164 = $1 FOR UPDATE", select_numbers());
    let row = tx
        .query_opt(sql.as_str(), &[&e164.as_str()])
        .await
        .map_err(db_err)?;
    match row.as_ref().map(number_from_row).transpose()? {
        Some(n) if n.is_assigned_to(account) => Ok(n),
        _ => Err(Error::not_found(Resource::Number, e164)),
    }
}

/// Saves released numbers (`Number::release`, locked by the caller) and closes their live
/// assignments; returns their events for the caller to append last. Shared by a single
/// release and a disconnect.
pub(crate) async fn save_released(
    tx: &Transaction<'_>,
    released: Vec<NumberChange>,
    now: Timestamp,
) -> Result<Vec<numbers_core::event::NewEvent>> {
    let ids: Vec<String> = released.iter().map(|c| c.number.id.to_string()).collect();
    let events = save_numbers(tx, released).await?;
    tx.execute(
        "UPDATE assignments SET released_at = $2 WHERE number_id = ANY($1) AND released_at IS NULL",
        &[&ids, &to_millis(now)],
    )
    .await
    .map_err(db_err)?;
    Ok(events)
}

#[async_trait]
impl NumberStore for PostgresStore {
    async fn update_assignment(
        &self,
        account: AccountId,
        e164: &E164,
        patch: &AssignmentPatch,
        now: Timestamp,
    ) -> Result<Number> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let change = owned_number(&tx, account, e164)
            .await?
            .update_assignment(patch, now)?;
        let n = change.number.clone();
        let events = save_numbers(&tx, vec![change]).await?;
        self.append_and_commit(tx, &events).await?;
        Ok(n)
    }

    async fn release_number(
        &self,
        account: AccountId,
        e164: &E164,
        available_after: Timestamp,
        now: Timestamp,
    ) -> Result<Number> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let change = owned_number(&tx, account, e164)
            .await?
            .release(available_after, now);
        let n = change.number.clone();
        let events = save_released(&tx, vec![change], now).await?;
        self.append_and_commit(tx, &events).await?;
        Ok(n)
    }

    async fn age_numbers(&self, now: Timestamp, limit: u32) -> Result<u32> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        // SKIP LOCKED: concurrent sweepers (other processes) take disjoint numbers, and a number
        // locked by a claim right now is simply left for the next sweep.
        let sql = format!(
            "{} WHERE state = 'AGING' AND available_after <= $1 ORDER BY available_after, e164 LIMIT $2 FOR UPDATE SKIP LOCKED",
            select_numbers()
        );
        let rows = tx
            .query(sql.as_str(), &[&to_millis(now), &i64::from(limit)])
            .await
            .map_err(db_err)?;
        let aged: Vec<NumberChange> = numbers_from_rows(&rows)?
            .into_iter()
            .map(|n| n.finish_aging(now))
            .collect();
        let count = aged.len() as u32;
        let events = save_numbers(&tx, aged).await?;
        self.append_and_commit(tx, &events).await?;
        Ok(count)
    }
}
