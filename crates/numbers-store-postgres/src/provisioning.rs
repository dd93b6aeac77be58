//! `ProvisioningStore`: the queue of configuration changes on their way through the operator's
//! hook. Claims use `FOR UPDATE SKIP LOCKED` so several processes take different tasks; a
//! completion locks the task, then the number, and writes the configuration, the task and the
//! event in one transaction.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::{EventKind, NewEvent};
use numbers_core::ids::{AccountId, AssignmentId, ProvisioningId};
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{E164, Number, NumberState};
use numbers_core::provisioning::{
    ProvisioningOutcome, ProvisioningRequest, ProvisioningStatus, ProvisioningTask, apply_succeeded,
};
use numbers_core::store::ProvisioningStore;
use numbers_store_sql::{PROVISIONING_COLUMNS, ProvisioningRow};
use tokio_postgres::{Row, Transaction};

use crate::events::number_event;
use crate::rows::{get, number_from_row, select_numbers, update_numbers};
use crate::{PostgresStore, db_err};

fn task_from_row(r: &Row) -> Result<ProvisioningTask> {
    ProvisioningRow {
        id: get(r, 0)?,
        account_id: get(r, 1)?,
        number_id: get(r, 2)?,
        assignment_id: get(r, 3)?,
        e164: get(r, 4)?,
        channel: get(r, 5)?,
        target: get(r, 6)?,
        status: get(r, 7)?,
        error_codes: get(r, 8)?,
        attempts: get(r, 9)?,
        lease_until: get(r, 10)?,
        completed_version: get(r, 11)?,
        created_at: get(r, 12)?,
        updated_at: get(r, 13)?,
    }
    .into_task()
}

async fn insert_task(tx: &Transaction<'_>, t: &ProvisioningTask) -> Result<()> {
    let r = ProvisioningRow::from_task(t)?;
    tx.execute(
        &format!(
            "INSERT INTO provisioning_tasks ({PROVISIONING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ),
        &[
            &r.id,
            &r.account_id,
            &r.number_id,
            &r.assignment_id,
            &r.e164,
            &r.channel,
            &r.target,
            &r.status,
            &r.error_codes,
            &r.attempts,
            &r.lease_until,
            &r.completed_version,
            &r.created_at,
            &r.updated_at,
        ],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn update_task(tx: &Transaction<'_>, t: &ProvisioningTask) -> Result<()> {
    let r = ProvisioningRow::from_task(t)?;
    tx.execute(
        "UPDATE provisioning_tasks SET status = $2, error_codes = $3, attempts = $4, lease_until = $5, updated_at = $6, completed_version = $7 WHERE id = $1",
        &[
            &r.id,
            &r.status,
            &r.error_codes,
            &r.attempts,
            &r.lease_until,
            &r.updated_at,
            &r.completed_version,
        ],
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn cancel(tx: &Transaction<'_>, task: &mut ProvisioningTask, now: Timestamp) -> Result<()> {
    task.status = ProvisioningStatus::Cancelled;
    task.lease_until = None;
    task.updated_at = now;
    update_task(tx, task).await
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

fn task_details(task: &ProvisioningTask) -> serde_json::Value {
    serde_json::json!({
        "task_id": task.id,
        "channel": task.channel.as_str(),
        "action": task.action().as_str(),
        "target": task.target,
        "status": task.status.as_str(),
        "error_codes": task.error_codes,
    })
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
        let mut n = match row.as_ref().map(number_from_row).transpose()? {
            Some(n) if n.state == NumberState::Assigned && n.owner == Some(account) => n,
            _ => {
                return Err(Error::not_found(
                    numbers_core::error::Resource::Number,
                    e164,
                ));
            }
        };
        let assignment_id = n.assignment_id.ok_or_else(|| {
            Error::internal(format!("assigned number {e164} has no assignment id"))
        })?;
        patch.apply(&mut n.assignment);
        n.version += 1;
        n.updated_at = now;
        update_numbers(&tx, std::slice::from_ref(&n)).await?;
        let mut events = Vec::new();
        if !patch.is_empty() {
            events.push(NewEvent {
                details: serde_json::to_value(patch).map_err(Error::internal)?,
                ..number_event(EventKind::NumberUpdated, now, &n, Some(account))
            });
        }
        let mut tasks = Vec::with_capacity(requests.len());
        for request in requests {
            tx.execute(
                "UPDATE provisioning_tasks SET status = 'CANCELLED', lease_until = NULL, updated_at = $3 \
                 WHERE assignment_id = $1 AND channel = $2 AND status IN ('WAITING', 'IN_PROGRESS')",
                &[&assignment_id.to_string(), &request.channel.as_str(), &to_millis(now)],
            )
            .await
            .map_err(db_err)?;
            let task = ProvisioningTask {
                id: ProvisioningId::new(),
                account,
                number_id: n.id,
                assignment_id,
                e164: n.e164.clone(),
                channel: request.channel,
                target: request.target.clone(),
                status: ProvisioningStatus::Waiting,
                error_codes: Vec::new(),
                attempts: 0,
                lease_until: None,
                completed_version: None,
                created_at: now,
                updated_at: now,
            };
            insert_task(&tx, &task).await?;
            events.push(NewEvent {
                details: task_details(&task),
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
        loop {
            let row = tx
                .query_opt(
                    &format!(
                        "SELECT {PROVISIONING_COLUMNS} FROM provisioning_tasks \
                         WHERE status IN ('WAITING', 'IN_PROGRESS') AND (status = 'WAITING' OR lease_until < $1) \
                         ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
                    ),
                    &[&to_millis(now)],
                )
                .await
                .map_err(db_err)?;
            let Some(row) = row else {
                tx.commit().await.map_err(db_err)?;
                return Ok(None);
            };
            let mut task = task_from_row(&row)?;
            // Not locked here: completion re-checks the holding under the number's lock.
            if holding(&tx, &task, false).await?.is_none() {
                cancel(&tx, &mut task, now).await?;
                continue;
            }
            task.status = ProvisioningStatus::InProgress;
            task.lease_until = Some(lease_until);
            task.attempts += 1;
            task.updated_at = now;
            update_task(&tx, &task).await?;
            tx.commit().await.map_err(db_err)?;
            return Ok(Some(task));
        }
    }

    async fn complete_provisioning(
        &self,
        id: ProvisioningId,
        outcome: &ProvisioningOutcome,
        now: Timestamp,
    ) -> Result<Option<ProvisioningTask>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let select = format!("SELECT {PROVISIONING_COLUMNS} FROM provisioning_tasks WHERE id = $1");
        let Some(row) = tx
            .query_opt(select.as_str(), &[&id.to_string()])
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        // Number first, then the task (re-read under its lock), the order every step locks in.
        let held = holding(&tx, &task_from_row(&row)?, true).await?;
        let row = tx
            .query_one(format!("{select} FOR UPDATE").as_str(), &[&id.to_string()])
            .await
            .map_err(db_err)?;
        let mut task = task_from_row(&row)?;
        if task.status != ProvisioningStatus::InProgress {
            return Ok(None);
        }
        let Some(mut n) = held else {
            cancel(&tx, &mut task, now).await?;
            tx.commit().await.map_err(db_err)?;
            return Ok(Some(task));
        };
        let kind = match outcome {
            ProvisioningOutcome::Succeeded => {
                apply_succeeded(&mut n.assignment, &task);
                task.status = ProvisioningStatus::Succeeded;
                task.error_codes = Vec::new();
                EventKind::NumberProvisioned
            }
            ProvisioningOutcome::Failed { error_codes } => {
                task.status = ProvisioningStatus::Failed;
                task.error_codes = error_codes.clone();
                EventKind::NumberProvisioningFailed
            }
        };
        n.version += 1;
        n.updated_at = now;
        update_numbers(&tx, std::slice::from_ref(&n)).await?;
        task.lease_until = None;
        task.updated_at = now;
        task.completed_version = Some(n.version);
        update_task(&tx, &task).await?;
        let event = NewEvent {
            details: task_details(&task),
            ..number_event(kind, now, &n, Some(task.account))
        };
        self.append_and_commit(tx, &[event]).await?;
        Ok(Some(task))
    }

    async fn provisioning_tasks(
        &self,
        assignments: &[AssignmentId],
    ) -> Result<Vec<ProvisioningTask>> {
        if assignments.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = assignments.iter().map(ToString::to_string).collect();
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {PROVISIONING_COLUMNS} FROM provisioning_tasks \
                     WHERE assignment_id = ANY($1) ORDER BY created_at, id"
                ),
                &[&ids],
            )
            .await
            .map_err(db_err)?;
        rows.iter().map(task_from_row).collect()
    }
}
