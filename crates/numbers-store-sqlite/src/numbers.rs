//! `NumberStore`: what an owner does with its assigned numbers (update, release) and the aging
//! sweep that offers released numbers to everyone again.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::EventKind;
use numbers_core::ids::AccountId;
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{AssignmentData, E164, Number, NumberState};
use numbers_core::store::NumberStore;
use rusqlite::{Connection, params};

use crate::SqliteStore;
use crate::db::DbResult;
use crate::rows::{insert_event, number_by_e164, number_event, select_numbers, update_number};

/// The number if it is ASSIGNED to `account`; `NotFound` otherwise (another tenant's number
/// answers the same as an unknown one).
pub(crate) fn owned_number(conn: &Connection, account: AccountId, e164: &E164) -> Result<Number> {
    number_by_e164(conn, e164.as_str())?
        .filter(|n| n.state == NumberState::Assigned && n.owner == Some(account))
        .ok_or_else(|| Error::not_found(numbers_core::error::Resource::Number, e164))
}

/// Releases a number the caller found ASSIGNED to `account` (inside its transaction): AGING until
/// `available_after` or AVAILABLE at once, assignment data cleared, the live assignment closed,
/// and a `number.released` event with `details`. Shared by a single release and a disconnect.
pub(crate) fn release_owned(
    tx: &Connection,
    mut n: Number,
    account: AccountId,
    available_after: Timestamp,
    now: Timestamp,
    details: serde_json::Value,
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
    n.version += 1;
    n.updated_at = now;
    update_number(tx, &n)?;
    let mut stmt = tx
        .prepare_cached(
            "UPDATE assignments SET released_at = ?1 WHERE number_id = ?2 AND released_at IS NULL",
        )
        .db()?;
    stmt.execute(params![to_millis(now), n.id.to_string()])
        .db()?;
    let mut event = number_event(EventKind::NumberReleased, &n, now);
    event.account_id = Some(account);
    event.details = details;
    insert_event(tx, &event)?;
    Ok(n)
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
            let mut n = owned_number(tx, account, &e164)?;
            patch.apply(&mut n.assignment);
            n.version += 1;
            n.updated_at = now;
            update_number(tx, &n)?;
            let mut event = number_event(EventKind::NumberUpdated, &n, now);
            event.account_id = Some(account);
            event.details = serde_json::to_value(&patch).map_err(Error::internal)?;
            insert_event(tx, &event)?;
            Ok(n)
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
            let n = owned_number(tx, account, &e164)?;
            let details = serde_json::json!({ "available_after": to_millis(available_after) });
            release_owned(tx, n, account, available_after, now, details)
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
            let mut count = 0;
            for mut n in due {
                n.state = NumberState::Available;
                n.last_owner = None;
                n.version += 1;
                n.updated_at = now;
                update_number(tx, &n)?;
                insert_event(tx, &number_event(EventKind::NumberAvailable, &n, now))?;
                count += 1;
            }
            Ok(count)
        })
        .await
    }
}
