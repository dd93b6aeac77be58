//! `provisioning_tasks` (migration 0005) for both stores: the row as plain values, its mapping to
//! a `ProvisioningTask` and back, and every statement the `ProvisioningStore` calls run on it.

use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::ids::{AssignmentId, ProvisioningId};
use numbers_core::number::E164;
use numbers_core::provisioning::{Channel, ProvisioningStatus, ProvisioningTask};

use crate::statement::{FromRow, SqlRow, Statement, insert_sql, placeholders};

/// Column order of every SELECT of a whole task (and of `ProvisioningRow` fields).
pub const PROVISIONING_COLUMNS: &str = "id, account_id, number_id, assignment_id, e164, channel, target, \
status, error_codes, attempts, lease_until, completed_version, created_at, updated_at";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningRow {
    pub id: String,
    pub account_id: String,
    pub number_id: String,
    pub assignment_id: String,
    pub e164: String,
    pub channel: String,
    pub target: Option<String>,
    pub status: String,
    pub error_codes: String,
    pub attempts: i64,
    pub lease_until: Option<i64>,
    pub completed_version: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn id<T: std::str::FromStr<Err = Error>>(what: &str, s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| Error::internal(format!("stored {what} '{s}' is not a UUID")))
}

fn json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| Error::internal(format!("stored {what} is not valid JSON: {e}")))
}

impl ProvisioningRow {
    pub fn from_task(t: &ProvisioningTask) -> Result<Self> {
        let encode = |v: &serde_json::Value| {
            serde_json::to_string(v)
                .map_err(|e| Error::internal(format!("cannot encode JSON: {e}")))
        };
        Ok(ProvisioningRow {
            id: t.id.to_string(),
            account_id: t.account.to_string(),
            number_id: t.number_id.to_string(),
            assignment_id: t.assignment_id.to_string(),
            e164: t.e164.as_str().to_string(),
            channel: t.channel.as_str().to_string(),
            target: t.target.as_ref().map(encode).transpose()?,
            status: t.status.as_str().to_string(),
            error_codes: serde_json::to_string(&t.error_codes)
                .map_err(|e| Error::internal(format!("cannot encode JSON: {e}")))?,
            attempts: t.attempts,
            lease_until: t.lease_until.map(to_millis),
            completed_version: t.completed_version,
            created_at: to_millis(t.created_at),
            updated_at: to_millis(t.updated_at),
        })
    }

    pub fn into_task(self) -> Result<ProvisioningTask> {
        Ok(ProvisioningTask {
            id: id("provisioning id", &self.id)?,
            account: id("account id", &self.account_id)?,
            number_id: id("number id", &self.number_id)?,
            assignment_id: id("assignment id", &self.assignment_id)?,
            e164: E164::from_trusted(self.e164),
            channel: Channel::parse(&self.channel).ok_or_else(|| {
                Error::internal(format!("stored channel '{}' is unknown", self.channel))
            })?,
            target: self
                .target
                .as_deref()
                .map(|t| json("provisioning target", t))
                .transpose()?,
            status: ProvisioningStatus::parse(&self.status).ok_or_else(|| {
                Error::internal(format!(
                    "stored provisioning status '{}' is unknown",
                    self.status
                ))
            })?,
            error_codes: json("provisioning error codes", &self.error_codes)?,
            attempts: self.attempts,
            lease_until: self.lease_until.map(from_millis),
            completed_version: self.completed_version,
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
        })
    }
}

impl FromRow for ProvisioningRow {
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(ProvisioningRow {
            id: row.text(0)?,
            account_id: row.text(1)?,
            number_id: row.text(2)?,
            assignment_id: row.text(3)?,
            e164: row.text(4)?,
            channel: row.text(5)?,
            target: row.opt_text(6)?,
            status: row.text(7)?,
            error_codes: row.text(8)?,
            attempts: row.int(9)?,
            lease_until: row.opt_int(10)?,
            completed_version: row.opt_int(11)?,
            created_at: row.int(12)?,
            updated_at: row.int(13)?,
        })
    }
}

impl FromRow for ProvisioningTask {
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        ProvisioningRow::from_row(row)?.into_task()
    }
}

pub fn insert_task(t: &ProvisioningTask) -> Result<Statement> {
    let r = ProvisioningRow::from_task(t)?;
    Ok(
        Statement::new(insert_sql("provisioning_tasks", PROVISIONING_COLUMNS))
            .bind(r.id)
            .bind(r.account_id)
            .bind(r.number_id)
            .bind(r.assignment_id)
            .bind(r.e164)
            .bind(r.channel)
            .bind(r.target)
            .bind(r.status)
            .bind(r.error_codes)
            .bind(r.attempts)
            .bind(r.lease_until)
            .bind(r.completed_version)
            .bind(r.created_at)
            .bind(r.updated_at),
    )
}

/// Writes the mutable fields of a task.
pub fn update_task(t: &ProvisioningTask) -> Result<Statement> {
    let r = ProvisioningRow::from_task(t)?;
    Ok(Statement::new(
        "UPDATE provisioning_tasks SET status = $2, error_codes = $3, attempts = $4, \
         lease_until = $5, updated_at = $6, completed_version = $7 WHERE id = $1",
    )
    .bind(r.id)
    .bind(r.status)
    .bind(r.error_codes)
    .bind(r.attempts)
    .bind(r.lease_until)
    .bind(r.updated_at)
    .bind(r.completed_version))
}

/// Cancels the unfinished tasks of a holding's channel: a newer request replaces them.
pub fn cancel_unfinished(
    assignment_id: AssignmentId,
    channel: Channel,
    now: Timestamp,
) -> Statement {
    Statement::new(
        "UPDATE provisioning_tasks SET status = 'CANCELLED', lease_until = NULL, updated_at = $3 \
         WHERE assignment_id = $1 AND channel = $2 AND status IN ('WAITING', 'IN_PROGRESS')",
    )
    .bind(assignment_id.to_string())
    .bind(channel.as_str())
    .bind(to_millis(now))
}

pub fn select_task(id: ProvisioningId) -> Statement {
    Statement::new(format!(
        "SELECT {PROVISIONING_COLUMNS} FROM provisioning_tasks WHERE id = $1"
    ))
    .bind(id.to_string())
}

/// The oldest task a worker may claim at `now`: WAITING, or IN_PROGRESS with its lease run out.
pub fn next_claimable(now: Timestamp) -> Statement {
    Statement::new(format!(
        "SELECT {PROVISIONING_COLUMNS} FROM provisioning_tasks \
         WHERE status IN ('WAITING', 'IN_PROGRESS') AND (status = 'WAITING' OR lease_until < $1) \
         ORDER BY created_at, id LIMIT 1"
    ))
    .bind(to_millis(now))
}

/// Every task of the holdings `assignments` (at least one), oldest first.
pub fn tasks_of(assignments: &[AssignmentId]) -> Statement {
    let sql = format!(
        "SELECT {PROVISIONING_COLUMNS} FROM provisioning_tasks \
         WHERE assignment_id IN ({}) ORDER BY created_at, id",
        placeholders(assignments.len())
    );
    assignments
        .iter()
        .fold(Statement::new(sql), |stmt, a| stmt.bind(a.to_string()))
}
