//! An owner's changes to its numbers and the aging sweep (`NumberStore`): updating assignment
//! data, releasing a number into AGING, and returning aged numbers to AVAILABLE.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::{EventKind, NewEvent};
use numbers_core::ids::AccountId;
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{AssignmentData, E164, Number, NumberState};
use numbers_core::store::NumberStore;
use tokio_postgres::Transaction;

use crate::events::number_event;
use crate::rows::{number_from_row, numbers_from_rows, select_numbers, update_numbers};
use crate::{PostgresStore, db_err};

/// Locks the number if it is ASSIGNED to `account`; `NotFound` otherwise (another tenant's
/// number answers exactly like a missing one).
async fn lock_owned(tx: &Transaction<'_>, account: AccountId, e164: &E164) -> Result<Number> {
    let sql = format!("{} WHERE e164 = $1 FOR UPDATE", select_numbers());
    let row = tx
        .query_opt(sql.as_str(), &[&e164.as_str()])
        .await
        .map_err(db_err)?;
    match row.as_ref().map(number_from_row).transpose()? {
        Some(n) if n.state == NumberState::Assigned && n.owner == Some(account) => Ok(n),
        _ => Err(Error::not_found(
            numbers_core::error::Resource::Number,
            e164,
        )),
    }
}

/// Releases a number locked by the caller and ASSIGNED to `account`: AGING until
/// `available_after` or AVAILABLE at once, assignment data cleared, the live assignment closed.
/// The caller appends the `number.released` event (events go last, see `events`). Shared by a
/// single release and a disconnect.
pub(crate) async fn release_locked(
    tx: &Transaction<'_>,
    mut n: Number,
    account: AccountId,
    available_after: Timestamp,
    now: Timestamp,
) -> Result<Number> {
    n.state = if available_after > now {
        NumberState::Aging
    } else {
        NumberState::Available
    };
    n.owner = None;
    n.assignment_id = None;
    n.assigned_at = None;
    n.last_owner = Some(account);
    n.assignment = AssignmentData::default();
    n.available_after = Some(available_after);
    n.updated_at = now;
    n.version += 1;
    update_numbers(tx, std::slice::from_ref(&n)).await?;
    tx.execute(
        "UPDATE assignments SET released_at = $2 WHERE number_id = $1 AND released_at IS NULL",
        &[&n.id.to_string(), &to_millis(now)],
    )
    .await
    .map_err(db_err)?;
    Ok(n)
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
        let mut n = lock_owned(&tx, account, e164).await?;
        patch.apply(&mut n.assignment);
        n.updated_at = now;
        n.version += 1;
        update_numbers(&tx, std::slice::from_ref(&n)).await?;
        let event = NewEvent {
            details: serde_json::to_value(patch).map_err(Error::internal)?,
            ..number_event(EventKind::NumberUpdated, now, &n, Some(account))
        };
        self.append_and_commit(tx, &[event]).await?;
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
        let n = lock_owned(&tx, account, e164).await?;
        let n = release_locked(&tx, n, account, available_after, now).await?;
        let event = NewEvent {
            details: serde_json::json!({ "available_after": to_millis(available_after) }),
            ..number_event(EventKind::NumberReleased, now, &n, Some(account))
        };
        self.append_and_commit(tx, &[event]).await?;
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
        let mut aged = numbers_from_rows(&rows)?;
        for n in &mut aged {
            n.state = NumberState::Available;
            n.last_owner = None;
            n.updated_at = now;
            n.version += 1;
        }
        update_numbers(&tx, &aged).await?;
        let events: Vec<NewEvent> = aged
            .iter()
            .map(|n| number_event(EventKind::NumberAvailable, now, n, None))
            .collect();
        self.append_and_commit(tx, &events).await?;
        Ok(aged.len() as u32)
    }
}
