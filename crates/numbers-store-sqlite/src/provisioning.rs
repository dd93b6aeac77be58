//! `ProvisioningStore`: the queue of configuration changes on their way through the operator's
//! hook. Scheduling, claiming and completing are each one write transaction; completion writes
//! the configuration into the number and appends its event together.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::EventKind;
use numbers_core::ids::{AccountId, AssignmentId, ProvisioningId};
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{E164, Number};
use numbers_core::provisioning::{
    ProvisioningOutcome, ProvisioningRequest, ProvisioningStatus, ProvisioningTask, apply_succeeded,
};
use numbers_core::store::ProvisioningStore;
use numbers_store_sql::{PROVISIONING_COLUMNS, ProvisioningRow};
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};

use crate::SqliteStore;
use crate::db::DbResult;
use crate::numbers::owned_number;
use crate::rows::{insert_event, number_by_id, number_event, update_number};

fn task_row(r: &Row<'_>) -> rusqlite::Result<ProvisioningRow> {
    Ok(ProvisioningRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        number_id: r.get(2)?,
        assignment_id: r.get(3)?,
        e164: r.get(4)?,
        channel: r.get(5)?,
        target: r.get(6)?,
        status: r.get(7)?,
        error_codes: r.get(8)?,
        attempts: r.get(9)?,
        lease_until: r.get(10)?,
        completed_version: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

fn select_tasks(
    conn: &Connection,
    tail: &str,
    values: Vec<Value>,
) -> Result<Vec<ProvisioningTask>> {
    let sql = format!("SELECT {PROVISIONING_COLUMNS} FROM provisioning_tasks WHERE {tail}");
    let rows = conn
        .prepare_cached(&sql)
        .db()?
        .query_map(params_from_iter(values), task_row)
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    rows.into_iter().map(ProvisioningRow::into_task).collect()
}

fn insert_task(conn: &Connection, t: &ProvisioningTask) -> Result<()> {
    let r = ProvisioningRow::from_task(t)?;
    conn.prepare_cached(&format!(
        "INSERT INTO provisioning_tasks ({PROVISIONING_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))
    .db()?
    .execute(params![
        r.id,
        r.account_id,
        r.number_id,
        r.assignment_id,
        r.e164,
        r.channel,
        r.target,
        r.status,
        r.error_codes,
        r.attempts,
        r.lease_until,
        r.completed_version,
        r.created_at,
        r.updated_at
    ])
    .db()?;
    Ok(())
}

/// Writes the mutable fields of a task.
fn update_task(conn: &Connection, t: &ProvisioningTask) -> Result<()> {
    let r = ProvisioningRow::from_task(t)?;
    conn.prepare_cached(
        "UPDATE provisioning_tasks SET status = ?2, error_codes = ?3, attempts = ?4, lease_until = ?5, updated_at = ?6, completed_version = ?7 WHERE id = ?1",
    )
    .db()?
    .execute(params![
        r.id,
        r.status,
        r.error_codes,
        r.attempts,
        r.lease_until,
        r.updated_at,
        r.completed_version
    ])
    .db()?;
    Ok(())
}

fn cancel(conn: &Connection, task: &mut ProvisioningTask, now: Timestamp) -> Result<()> {
    task.status = ProvisioningStatus::Cancelled;
    task.lease_until = None;
    task.updated_at = now;
    update_task(conn, task)
}

/// Whether the number is still held under the task's assignment.
fn holding(conn: &Connection, task: &ProvisioningTask) -> Result<Option<Number>> {
    Ok(number_by_id(conn, &task.number_id.to_string())?
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
            let mut n = owned_number(tx, account, &e164)?;
            let assignment_id = n
                .assignment_id
                .ok_or_else(|| Error::internal(format!("assigned number {e164} has no assignment id")))?;
            patch.apply(&mut n.assignment);
            n.version += 1;
            n.updated_at = now;
            update_number(tx, &n)?;
            if !patch.is_empty() {
                let mut event = number_event(EventKind::NumberUpdated, &n, now);
                event.account_id = Some(account);
                event.details = serde_json::to_value(&patch).map_err(Error::internal)?;
                insert_event(tx, &event)?;
            }
            let mut tasks = Vec::with_capacity(requests.len());
            for request in requests {
                tx.prepare_cached(
                    "UPDATE provisioning_tasks SET status = 'CANCELLED', lease_until = NULL, updated_at = ?3 \
                     WHERE assignment_id = ?1 AND channel = ?2 AND status IN ('WAITING', 'IN_PROGRESS')",
                )
                .db()?
                .execute(params![
                    assignment_id.to_string(),
                    request.channel.as_str(),
                    to_millis(now)
                ])
                .db()?;
                let task = ProvisioningTask {
                    id: ProvisioningId::new(),
                    account,
                    number_id: n.id,
                    assignment_id,
                    e164: n.e164.clone(),
                    channel: request.channel,
                    target: request.target,
                    status: ProvisioningStatus::Waiting,
                    error_codes: Vec::new(),
                    attempts: 0,
                    lease_until: None,
                    completed_version: None,
                    created_at: now,
                    updated_at: now,
                };
                insert_task(tx, &task)?;
                let mut event = number_event(EventKind::NumberProvisioningRequested, &n, now);
                event.account_id = Some(account);
                event.details = task_details(&task);
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
            loop {
                let next = select_tasks(
                    tx,
                    "status IN ('WAITING', 'IN_PROGRESS') AND (status = 'WAITING' OR lease_until < ?1) \
                     ORDER BY created_at, id LIMIT 1",
                    vec![Value::Integer(to_millis(now))],
                )?;
                let Some(mut task) = next.into_iter().next() else {
                    return Ok(None);
                };
                if holding(tx, &task)?.is_none() {
                    cancel(tx, &mut task, now)?;
                    continue;
                }
                task.status = ProvisioningStatus::InProgress;
                task.lease_until = Some(lease_until);
                task.attempts += 1;
                task.updated_at = now;
                update_task(tx, &task)?;
                return Ok(Some(task));
            }
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
            let found = select_tasks(tx, "id = ?1", vec![Value::Text(id.to_string())])?;
            let Some(mut task) = found.into_iter().next() else {
                return Ok(None);
            };
            if task.status != ProvisioningStatus::InProgress {
                return Ok(None);
            }
            let Some(mut n) = holding(tx, &task)? else {
                cancel(tx, &mut task, now)?;
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
                    task.error_codes = error_codes;
                    EventKind::NumberProvisioningFailed
                }
            };
            n.version += 1;
            n.updated_at = now;
            update_number(tx, &n)?;
            task.lease_until = None;
            task.updated_at = now;
            task.completed_version = Some(n.version);
            update_task(tx, &task)?;
            let mut event = number_event(kind, &n, now);
            event.account_id = Some(task.account);
            event.details = task_details(&task);
            insert_event(tx, &event)?;
            Ok(Some(task))
        })
        .await
    }

    async fn provisioning_tasks(
        &self,
        assignments: &[AssignmentId],
    ) -> Result<Vec<ProvisioningTask>> {
        let ids: Vec<Value> = assignments
            .iter()
            .map(|a| Value::Text(a.to_string()))
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.read(move |tx| {
            let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("?{i}")).collect();
            select_tasks(
                tx,
                &format!(
                    "assignment_id IN ({}) ORDER BY created_at, id",
                    placeholders.join(", ")
                ),
                ids,
            )
        })
        .await
    }
}
