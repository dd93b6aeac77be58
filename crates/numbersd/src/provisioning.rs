//! The operator's provisioning hook over HTTP (`[provisioning] url`): each configuration change
//! is POSTed as JSON to the operator's network systems, and their answer decides it.
//!
//! Request: `{"taskId", "accountId", "phoneNumber", "channel": "SMS"|"VOICE",
//! "action": "PROVISION"|"DEPROVISION", "configuration": {…}|null, "attempt": n}`.
//! Answer: 2xx with `{"status": "SUCCEEDED"}` or `{"status": "FAILED", "errorCodes": [...]}`.
//! Anything else — another status, a body that is not that JSON, a timeout, no connection — fails
//! the change with `PARTNER_SERVICE_UNAVAILABLE`, so a client never waits on a hook that is down.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use numbers_core::provisioning::{
    HOOK_UNAVAILABLE, Provisioner, ProvisioningOutcome, ProvisioningTask,
};
use numbers_core::webhook::{AddressPolicy, SystemLookup};
use serde::Deserialize;
use serde_json::json;

use crate::webhook_http::outbound_client;

pub const DEFAULT_TIMEOUT_SECONDS: u64 = 10;

#[derive(Debug, Clone)]
pub struct HttpProvisioner {
    url: String,
    client: reqwest::Client,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HookAnswer {
    status: String,
    #[serde(default)]
    error_codes: Vec<String>,
}

impl HttpProvisioner {
    /// The hook is the operator's own configuration, so its address is trusted — it usually
    /// lives on the operator's private network, and whoever writes the configuration could as
    /// well allow private webhook targets. It still gets the outbound client's other rules: no
    /// redirects (a redirect would carry the task elsewhere) and no proxy from the environment.
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<Self> {
        let trusted = AddressPolicy {
            allow_private: true,
            self_addresses: Vec::new(),
        };
        let client = outbound_client(
            concat!("numbersd-provisioning/", env!("CARGO_PKG_VERSION")),
            trusted,
            Arc::new(SystemLookup),
            Some(timeout),
        )?;
        Ok(HttpProvisioner {
            url: url.to_string(),
            client,
        })
    }

    async fn ask(&self, task: &ProvisioningTask) -> Result<ProvisioningOutcome, String> {
        let body = json!({
            "taskId": task.id,
            "accountId": task.account,
            "phoneNumber": task.e164.as_str(),
            "channel": task.channel.as_str(),
            "action": task.action().as_str(),
            "configuration": task.target,
            "attempt": task.attempts,
        });
        let response = self
            .client
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("answered HTTP {status}"));
        }
        let answer: HookAnswer = response
            .json()
            .await
            .map_err(|e| format!("answer is not the expected JSON: {e}"))?;
        match answer.status.as_str() {
            "SUCCEEDED" => Ok(ProvisioningOutcome::Succeeded),
            "FAILED" => Ok(ProvisioningOutcome::Failed {
                error_codes: answer.error_codes,
            }),
            other => Err(format!("answered unknown status '{other}'")),
        }
    }
}

#[async_trait]
impl Provisioner for HttpProvisioner {
    async fn provision(&self, task: &ProvisioningTask) -> ProvisioningOutcome {
        match self.ask(task).await {
            Ok(outcome) => outcome,
            Err(why) => {
                tracing::warn!(task = %task.id, url = %self.url, reason = %why, "provisioning hook failed");
                ProvisioningOutcome::Failed {
                    error_codes: vec![HOOK_UNAVAILABLE.to_string()],
                }
            }
        }
    }
}
