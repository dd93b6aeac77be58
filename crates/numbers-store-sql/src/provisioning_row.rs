//! `provisioning_tasks` rows as plain values (the table of migration 0005), shared by both stores.

use numbers_core::clock::{from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::number::E164;
use numbers_core::provisioning::{Channel, ProvisioningStatus, ProvisioningTask};

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
