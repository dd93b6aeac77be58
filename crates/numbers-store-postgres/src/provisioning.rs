//! `ProvisioningStore`: the queue of configuration changes on their way through the operator's
//! hook. Claims use `FOR UPDATE SKIP LOCKED` so several processes take different tasks; a
//! completion locks the number, then the task, and writes the configuration, the task and the
//! event in one transaction. The task's transitions are `ProvisioningTask`'s, its rows and
//! statements `numbers_store_sql::provisioning_row`.

use async_trait::async_trait;
use numbers_core::clock::Timestamp;
use numbers_core::error::{Error, Resource, Result};
use numbers_core::event::{EventKind, NewEvent};
use numbers_core::ids::{AccountId, AssignmentId, ProvisioningId};
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{E164, Number, NumberState};
use numbers_core::provisioning::{
    ProvisioningOutcome, ProvisioningRequest, ProvisioningStatus, ProvisioningTask,
};
use numbers_core::store::ProvisioningStore;
use numbers_store_sql::provisioning_row as sql;
use tokio_postgres::Transaction;

use crate::events::number_event;
use crate::rows::{number_from_row, select_numbers, update_numbers};
use crate::statements::{execute, for_update, query, query_opt, skip_locked};
use crate::{PostgresStore, db_err};

/// Writes the task's mutable fields.
async fn save(tx: &Transaction<'_>, task: &ProvisioningTask) -> Result<()> {
    execute(tx, &sql::update_task(task)?).await.map(drop)
}

/// The number if it is still held under the task's assignment, locked when `lock`. Locks are
/// always taken number first, then task (as `schedule_provisioning` does), so no cycle forms.
async fn holding(
    tx: &Transaction<'_>,
    task: &ProvisioningTask,
    lock: bool,
) -> Result<Option<Number>> {
    let sql = format!(
        "{} WHERE id = $1{}",
        select_numbers(),
        if lock { " FOR UPDATE" } else { "" }
    );
    let row = tx
        .query_opt(sql.as_str(), &[&task.number_id.to_string()])
        .await
        .map_err(db_err)?;
    Ok(row
        .as_ref()
        .map(number_from_row)
        .transpose()?
        .filter(|n| n.assignment_id == Some(task.assignment_id)))
}

#[async_trait]
impl ProvisioningStore for PostgresStore {
    async fn schedule_provisioning(
        &self,
        account: AccountId,
        e164: &E164,
        patch: &AssignmentPatch,
        requests: &[ProvisioningRequest],
        now: Timestamp,
    ) -> Result<(Number, Vec<ProvisioningTask>)> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let sql = format!("{} WHERE e164 = $1 FOR UPDATE", select_numbers());
        let row = tx
            .query_opt(sql.as_str(), &[&e164.as_str()])
            .await
            .map_err(db_err)?;
        let n = match row.as_ref().map(number_from_row).transpose()? {
            Some(n) if n.state == NumberState::Assigned && n.owner == Some(account) => n,
            _ => return Err(Error::not_found(Resource::Number, e164)),
        };
        let assignment_id = n.assignment_id.ok_or_else(|| {
            Error::internal(format!("assigned number {e164} has no assignment id"))
        })?;
        let (n, updated) = n.configure(patch, now)?;
        update_numbers(&tx, std::slice::from_ref(&n)).await?;
        let mut events: Vec<NewEvent> = updated.into_iter().collect();
        let mut tasks = Vec::with_capacity(requests.len());
        for request in requests {
            let cancel = sql::cancel_unfinished(assignment_id, request.channel, now);
            execute(&*tx, &cancel).await?;
            let task = ProvisioningTask::new(account, &n, assignment_id, request.clone(), now);
            execute(&*tx, &sql::insert_task(&task)?).await?;
            events.push(NewEvent {
                details: task.event_details(),
                ..number_event(
                    EventKind::NumberProvisioningRequested,
                    now,
                    &n,
                    Some(account),
                )
            });
            tasks.push(task);
        }
        self.append_and_commit(tx, &events).await?;
        Ok((n, tasks))
    }

    async fn claim_provisioning(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<ProvisioningTask>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let next = skip_locked(sql::next_claimable(now));
        while let Some(mut task) = query_opt::<ProvisioningTask>(&*tx, &next).await? {
            // Not locked here: completion re-checks the holding under the number's lock.
            if holding(&tx, &task, false).await?.is_none() {
                task.cancel(now);
                save(&tx, &task).await?;
                continue;
            }
            task.claim(lease_until, now);
            save(&tx, &task).await?;
            tx.commit().await.map_err(db_err)?;
            return Ok(Some(task));
        }
        tx.commit().await.map_err(db_err)?;
        Ok(None)
    }

    async fn complete_provisioning(
        &self,
        id: ProvisioningId,
        outcome: &ProvisioningOutcome,
        now: Timestamp,
    ) -> Result<Option<ProvisioningTask>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let select = sql::select_task(id);
        let Some(task) = query_opt::<ProvisioningTask>(&*tx, &select).await? else {
            return Ok(None);
        };
        // Number first, then the task (re-read under its lock), the order every step locks in.
        let held = holding(&tx, &task, true).await?;
        let Some(mut task) = query_opt::<ProvisioningTask>(&*tx, &for_update(select)).await? else {
            return Err(Error::internal(format!("provisioning task {id} vanished")));
        };
        if task.status != ProvisioningStatus::InProgress {
            return Ok(None);
        }
        let Some(n) = held else {
            task.cancel(now);
            save(&tx, &task).await?;
            tx.commit().await.map_err(db_err)?;
            return Ok(Some(task));
        };
        let change = n.finish_provisioning(&mut task, outcome.clone(), now);
        update_numbers(&tx, std::slice::from_ref(&change.number)).await?;
        save(&tx, &task).await?;
        self.append_and_commit(tx, &[change.event]).await?;
        Ok(Some(task))
    }

    async fn provisioning_tasks(
        &self,
        assignments: &[AssignmentId],
    ) -> Result<Vec<ProvisioningTask>> {
        if assignments.is_empty() {
            return Ok(Vec::new());
        }
        let select = sql::tasks_of(assignments);
        query(&**self.client().await?, &select).await
    }
}
