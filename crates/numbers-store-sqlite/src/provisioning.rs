//! `ProvisioningStore`: the queue of configuration changes on their way through the operator's
//! hook. Scheduling, claiming and completing are each one write transaction; completion writes
//! the configuration into the number and appends its event together. The task's transitions are
//! `ProvisioningTask`'s, its rows and statements `numbers_store_sql::provisioning_row`.

use async_trait::async_trait;
use numbers_core::clock::Timestamp;
use numbers_core::error::{Error, Result};
use numbers_core::event::EventKind;
use numbers_core::ids::{AccountId, AssignmentId, ProvisioningId};
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{E164, Number};
use numbers_core::provisioning::{
    ProvisioningOutcome, ProvisioningRequest, ProvisioningStatus, ProvisioningTask,
};
use numbers_core::store::ProvisioningStore;
use numbers_store_sql::provisioning_row as sql;
use rusqlite::Connection;

use crate::SqliteStore;
use crate::numbers::owned_number;
use crate::rows::{insert_event, number_by_id, number_event, update_number};
use crate::statements::{execute, query, query_opt};

/// Writes the task's mutable fields.
fn save(conn: &Connection, task: &ProvisioningTask) -> Result<()> {
    execute(conn, &sql::update_task(task)?).map(drop)
}

/// The number, if it is still held under the task's assignment.
fn holding(conn: &Connection, task: &ProvisioningTask) -> Result<Option<Number>> {
    Ok(number_by_id(conn, &task.number_id.to_string())?
        .filter(|n| n.assignment_id == Some(task.assignment_id)))
}

#[async_trait]
impl ProvisioningStore for SqliteStore {
    async fn schedule_provisioning(
        &self,
        account: AccountId,
        e164: &E164,
        patch: &AssignmentPatch,
        requests: &[ProvisioningRequest],
        now: Timestamp,
    ) -> Result<(Number, Vec<ProvisioningTask>)> {
        let (e164, patch, requests) = (e164.clone(), patch.clone(), requests.to_vec());
        self.write(move |tx| {
            let n = owned_number(tx, account, &e164)?;
            let assignment_id = n.assignment_id.ok_or_else(|| {
                Error::internal(format!("assigned number {e164} has no assignment id"))
            })?;
            let (n, updated) = n.configure(&patch, now)?;
            update_number(tx, &n)?;
            if let Some(event) = updated {
                insert_event(tx, &event)?;
            }
            let mut tasks = Vec::with_capacity(requests.len());
            for request in requests {
                execute(
                    tx,
                    &sql::cancel_unfinished(assignment_id, request.channel, now),
                )?;
                let task = ProvisioningTask::new(account, &n, assignment_id, request, now);
                execute(tx, &sql::insert_task(&task)?)?;
                let mut event = number_event(EventKind::NumberProvisioningRequested, &n, now);
                event.account_id = Some(account);
                event.details = task.event_details();
                insert_event(tx, &event)?;
                tasks.push(task);
            }
            Ok((n, tasks))
        })
        .await
    }

    async fn claim_provisioning(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<ProvisioningTask>> {
        self.write(move |tx| {
            while let Some(mut task) = query_opt::<ProvisioningTask>(tx, &sql::next_claimable(now))?
            {
                if holding(tx, &task)?.is_none() {
                    task.cancel(now);
                    save(tx, &task)?;
                    continue;
                }
                task.claim(lease_until, now);
                save(tx, &task)?;
                return Ok(Some(task));
            }
            Ok(None)
        })
        .await
    }

    async fn complete_provisioning(
        &self,
        id: ProvisioningId,
        outcome: &ProvisioningOutcome,
        now: Timestamp,
    ) -> Result<Option<ProvisioningTask>> {
        let outcome = outcome.clone();
        self.write(move |tx| {
            let Some(mut task) = query_opt::<ProvisioningTask>(tx, &sql::select_task(id))? else {
                return Ok(None);
            };
            if task.status != ProvisioningStatus::InProgress {
                return Ok(None);
            }
            let Some(n) = holding(tx, &task)? else {
                task.cancel(now);
                save(tx, &task)?;
                return Ok(Some(task));
            };
            let change = n.finish_provisioning(&mut task, outcome, now);
            update_number(tx, &change.number)?;
            save(tx, &task)?;
            insert_event(tx, &change.event)?;
            Ok(Some(task))
        })
        .await
    }

    async fn provisioning_tasks(
        &self,
        assignments: &[AssignmentId],
    ) -> Result<Vec<ProvisioningTask>> {
        if assignments.is_empty() {
            return Ok(Vec::new());
        }
        let select = sql::tasks_of(assignments);
        self.read(move |tx| query(tx, &select)).await
    }
}
