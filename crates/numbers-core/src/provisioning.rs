//! Provisioning: applying an owner's SMS or voice configuration of a number to the network. A
//! configuration change is not applied on the spot: it becomes a task (WAITING), a worker claims
//! it (IN_PROGRESS) and asks the operator's `Provisioner` — the built-in one that succeeds at once,
//! or a hook that calls the operator's own systems — and the outcome is committed in one
//! transaction: SUCCEEDED writes the configuration into the number's assignment data, FAILED keeps
//! the previous one and records the error codes. The latest task of each channel is what clients
//! see as "scheduled provisioning" (Sinch's `scheduledProvisioning`). A newer request for the same
//! number and channel cancels older unfinished ones, so the last request wins.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::event::EventKind;
use crate::ids::{AccountId, AssignmentId, NumberId, ProvisioningId};
use crate::number::{AssignmentData, E164, Number};

/// A claimed task whose worker vanished is claimed again after this lease.
pub const PROVISIONING_LEASE_SECONDS: i64 = 60;
/// Claims of one task before it is failed without another try (a hook that crashes the process).
pub const MAX_PROVISIONING_ATTEMPTS: i64 = 5;
/// The error code of a task the hook could not be asked about (Sinch's SmsErrorCode value).
pub const HOOK_UNAVAILABLE: &str = "PARTNER_SERVICE_UNAVAILABLE";
pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    Sms,
    Voice,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "SMS",
            Channel::Voice => "VOICE",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "SMS" => Some(Channel::Sms),
            "VOICE" => Some(Channel::Voice),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProvisioningStatus {
    Waiting,
    InProgress,
    Succeeded,
    Failed,
    /// Superseded by a newer request, or the number left the account first.
    Cancelled,
}

impl ProvisioningStatus {
    pub const ALL: &'static [ProvisioningStatus] = &[
        ProvisioningStatus::Waiting,
        ProvisioningStatus::InProgress,
        ProvisioningStatus::Succeeded,
        ProvisioningStatus::Failed,
        ProvisioningStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProvisioningStatus::Waiting => "WAITING",
            ProvisioningStatus::InProgress => "IN_PROGRESS",
            ProvisioningStatus::Succeeded => "SUCCEEDED",
            ProvisioningStatus::Failed => "FAILED",
            ProvisioningStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|st| st.as_str() == s)
    }

    pub fn is_unfinished(self) -> bool {
        matches!(
            self,
            ProvisioningStatus::Waiting | ProvisioningStatus::InProgress
        )
    }
}

/// Whether a task puts a configuration on the network or takes it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    Provision,
    Deprovision,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Provision => "PROVISION",
            Action::Deprovision => "DEPROVISION",
        }
    }
}

/// One requested change: the configuration document to apply on a channel (as the dialect that
/// defines it wrote it), or `None` to remove the channel's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisioningRequest {
    pub channel: Channel,
    pub target: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisioningTask {
    pub id: ProvisioningId,
    pub account: AccountId,
    pub number_id: NumberId,
    /// The holding the task belongs to: a task never touches the number after it changed hands.
    pub assignment_id: AssignmentId,
    pub e164: E164,
    pub channel: Channel,
    pub target: Option<serde_json::Value>,
    pub status: ProvisioningStatus,
    pub error_codes: Vec<String>,
    pub attempts: i64,
    pub lease_until: Option<Timestamp>,
    /// The number's version after this task's completion wrote it (SUCCEEDED or FAILED).
    pub completed_version: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ProvisioningTask {
    /// A new task, WAITING, for `request` on number `n` held under `assignment_id`.
    pub fn new(
        account: AccountId,
        n: &Number,
        assignment_id: AssignmentId,
        request: ProvisioningRequest,
        now: Timestamp,
    ) -> Self {
        ProvisioningTask {
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
        }
    }

    pub fn action(&self) -> Action {
        if self.target.is_some() {
            Action::Provision
        } else {
            Action::Deprovision
        }
    }

    /// Claimed by a worker, which holds it until `lease_until`.
    pub fn claim(&mut self, lease_until: Timestamp, now: Timestamp) {
        self.status = ProvisioningStatus::InProgress;
        self.lease_until = Some(lease_until);
        self.attempts += 1;
        self.updated_at = now;
    }

    /// Cancelled: the number left the holding the task belongs to.
    pub fn cancel(&mut self, now: Timestamp) {
        self.status = ProvisioningStatus::Cancelled;
        self.lease_until = None;
        self.updated_at = now;
    }

    /// Finished with the operator's `outcome`: a success writes the configuration into the
    /// number's assignment data `data`, whose new version is `number_version`. The kind of the
    /// event to append.
    pub fn finish(
        &mut self,
        outcome: ProvisioningOutcome,
        data: &mut AssignmentData,
        number_version: i64,
        now: Timestamp,
    ) -> EventKind {
        let kind = match outcome {
            ProvisioningOutcome::Succeeded => {
                apply_succeeded(data, self);
                self.status = ProvisioningStatus::Succeeded;
                self.error_codes = Vec::new();
                EventKind::NumberProvisioned
            }
            ProvisioningOutcome::Failed { error_codes } => {
                self.status = ProvisioningStatus::Failed;
                self.error_codes = error_codes;
                EventKind::NumberProvisioningFailed
            }
        };
        self.lease_until = None;
        self.updated_at = now;
        self.completed_version = Some(number_version);
        kind
    }

    /// The details of the task's events.
    pub fn event_details(&self) -> serde_json::Value {
        serde_json::json!({
            "task_id": self.id,
            "channel": self.channel.as_str(),
            "action": self.action().as_str(),
            "target": self.target,
            "status": self.status.as_str(),
            "error_codes": self.error_codes,
        })
    }
}

/// What the operator's systems answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProvisioningOutcome {
    Succeeded,
    Failed { error_codes: Vec<String> },
}

/// The operator hook. Called outside any transaction; may take its time (the task's lease covers
/// it) and must not panic. Its answer decides the task.
#[async_trait]
pub trait Provisioner: Send + Sync {
    async fn provision(&self, task: &ProvisioningTask) -> ProvisioningOutcome;
}

/// The built-in hook: every change succeeds at once (installations with nothing to configure).
#[derive(Debug, Default, Clone, Copy)]
pub struct ImmediateSuccess;

#[async_trait]
impl Provisioner for ImmediateSuccess {
    async fn provision(&self, _task: &ProvisioningTask) -> ProvisioningOutcome {
        ProvisioningOutcome::Succeeded
    }
}

/// Writes a succeeded task's configuration into the assignment data (the one place that rule is).
pub fn apply_succeeded(data: &mut AssignmentData, task: &ProvisioningTask) {
    let slot = match task.channel {
        Channel::Sms => &mut data.sms_configuration,
        Channel::Voice => &mut data.voice_configuration,
    };
    *slot = task.target.clone();
}

/// The configuration in effect on a channel. Numbers and their tasks are read in two steps; when
/// the channel's latest task succeeded after the number was read (its completion produced a later
/// version than the one read), the number is the stale one and the task's target is in effect.
pub fn effective_configuration<'a>(
    number: &'a Number,
    latest: Option<&'a ProvisioningTask>,
    channel: Channel,
) -> Option<&'a serde_json::Value> {
    match latest {
        Some(t)
            if t.channel == channel
                && t.status == ProvisioningStatus::Succeeded
                && t.completed_version.is_some_and(|v| v > number.version) =>
        {
            t.target.as_ref()
        }
        _ => match channel {
            Channel::Sms => number.assignment.sms_configuration.as_ref(),
            Channel::Voice => number.assignment.voice_configuration.as_ref(),
        },
    }
}

/// The newest task of each channel among `tasks` (of one holding), SMS first. Cancelled tasks
/// never count: they were superseded or outlived their holding.
pub fn latest_per_channel(tasks: &[ProvisioningTask]) -> Vec<&ProvisioningTask> {
    [Channel::Sms, Channel::Voice]
        .into_iter()
        .filter_map(|channel| {
            tasks
                .iter()
                .filter(|t| t.channel == channel && t.status != ProvisioningStatus::Cancelled)
                .max_by_key(|t| (t.created_at, t.id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(channel: Channel, at_ms: i64, target: Option<serde_json::Value>) -> ProvisioningTask {
        let at = crate::clock::from_millis(at_ms);
        ProvisioningTask {
            id: ProvisioningId::new(),
            account: AccountId::new(),
            number_id: NumberId::new(),
            assignment_id: AssignmentId::new(),
            e164: E164::from_trusted("+12065550100".into()),
            channel,
            target,
            status: ProvisioningStatus::Waiting,
            error_codes: vec![],
            attempts: 0,
            lease_until: None,
            completed_version: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn latest_task_per_channel_and_application() {
        let old = task(
            Channel::Sms,
            1,
            Some(serde_json::json!({"servicePlanId": "a"})),
        );
        let new = task(Channel::Sms, 2, None);
        let voice = task(Channel::Voice, 1, Some(serde_json::json!({"appId": "x"})));
        let all = vec![old.clone(), voice.clone(), new.clone()];
        let latest = latest_per_channel(&all);
        assert_eq!(latest, vec![&new, &voice]);
        assert_eq!(new.action(), Action::Deprovision);
        let mut data = AssignmentData::default();
        apply_succeeded(&mut data, &old);
        apply_succeeded(&mut data, &voice);
        assert_eq!(data.sms_configuration, old.target);
        apply_succeeded(&mut data, &new);
        assert_eq!(data.sms_configuration, None);
        assert_eq!(data.voice_configuration, voice.target);
    }

    #[test]
    fn a_task_is_claimed_then_finished_or_cancelled() {
        let at = |ms| crate::clock::from_millis(ms);
        let target = Some(serde_json::json!({"servicePlanId": "a"}));
        let mut t = task(Channel::Sms, 1, target.clone());
        t.claim(at(60_000), at(2));
        assert_eq!(
            (t.status, t.attempts, t.lease_until),
            (ProvisioningStatus::InProgress, 1, Some(at(60_000)))
        );

        let mut data = AssignmentData::default();
        let mut ok = t.clone();
        let kind = ok.finish(ProvisioningOutcome::Succeeded, &mut data, 7, at(3));
        assert_eq!(kind, EventKind::NumberProvisioned);
        assert_eq!(data.sms_configuration, target);
        assert_eq!(
            (
                ok.status,
                ok.lease_until,
                ok.completed_version,
                ok.updated_at
            ),
            (ProvisioningStatus::Succeeded, None, Some(7), at(3))
        );

        let mut data = AssignmentData::default();
        let mut failed = t.clone();
        let codes = vec!["E1".to_string()];
        let outcome = ProvisioningOutcome::Failed {
            error_codes: codes.clone(),
        };
        let kind = failed.finish(outcome, &mut data, 8, at(3));
        assert_eq!(kind, EventKind::NumberProvisioningFailed);
        assert_eq!(data, AssignmentData::default());
        assert_eq!(
            (failed.status, failed.error_codes, failed.completed_version),
            (ProvisioningStatus::Failed, codes, Some(8))
        );

        t.cancel(at(4));
        assert_eq!(
            (t.status, t.lease_until, t.updated_at),
            (ProvisioningStatus::Cancelled, None, at(4))
        );
        assert_eq!(t.event_details()["status"], "CANCELLED");
    }
}
