//! Configuration changes that go through the operator's provisioning hook: scheduling them with
//! an owner's update, the worker step that runs one task, and reading the tasks of numbers.

use crate::error::{Resource, Result};
use crate::ids::AccountId;
use crate::number::assignment::AssignmentPatch;
use crate::number::{E164, Number};
use crate::provisioning::{
    INTERNAL_ERROR, MAX_PROVISIONING_ATTEMPTS, PROVISIONING_LEASE_SECONDS, ProvisioningOutcome,
    ProvisioningRequest, ProvisioningTask,
};

use super::Service;

impl Service {
    /// Applies the plain fields of `patch` at once and schedules the configuration changes in
    /// `requests` for the provisioning worker, in one transaction. Without requests this is
    /// `update_number`.
    pub async fn update_and_provision(
        &self,
        account: AccountId,
        e164: &E164,
        patch: &AssignmentPatch,
        requests: &[ProvisioningRequest],
    ) -> Result<(Number, Vec<ProvisioningTask>)> {
        self.check_callback_url(patch.callback_url.as_ref().and_then(Option::as_deref))?;
        if requests.is_empty() {
            let number = self.update_number(account, e164, patch).await?;
            return Ok((number, Vec::new()));
        }
        let scheduled = self
            .store
            .schedule_provisioning(account, e164, patch, requests, self.now())
            .await?;
        self.provisioning_waiting.notify_one();
        Ok(scheduled)
    }

    /// Every provisioning task of the numbers' current holdings (numbers not assigned have none).
    pub async fn provisioning_of(&self, numbers: &[Number]) -> Result<Vec<ProvisioningTask>> {
        let holdings: Vec<_> = numbers.iter().filter_map(|n| n.assignment_id).collect();
        if holdings.is_empty() {
            return Ok(Vec::new());
        }
        self.store.provisioning_tasks(&holdings).await
    }

    /// Claims one task, asks the provisioner, records the outcome; false when none was waiting.
    pub async fn process_next_provisioning(&self) -> Result<bool> {
        let now = self.now();
        let lease = chrono::Duration::seconds(PROVISIONING_LEASE_SECONDS);
        let Some(task) = self.store.claim_provisioning(now, now + lease).await? else {
            return Ok(false);
        };
        let outcome = if task.attempts > MAX_PROVISIONING_ATTEMPTS {
            // Earlier attempts never came back (the process died inside the hook): stop trying.
            ProvisioningOutcome::Failed {
                error_codes: vec![INTERNAL_ERROR.to_string()],
            }
        } else {
            self.provisioner.provision(&task).await
        };
        self.store
            .complete_provisioning(task.id, &outcome, self.now())
            .await?;
        Ok(true)
    }
}

impl Service {
    /// Orders exactly one number now (explicit or by criteria) and schedules its configuration:
    /// the synchronous "rent" of Sinch. A refusal is an error: `NotFound` when the number is not
    /// in the inventory, `Conflict` with the refusal's code otherwise (taken, reserved, aging, or
    /// nothing matching the criteria).
    pub async fn order_one_now(
        &self,
        account: AccountId,
        submission: crate::service::OrderSubmission,
        requests: &[ProvisioningRequest],
    ) -> Result<(Number, Vec<ProvisioningTask>)> {
        let order = self.order_now(account, submission).await?;
        let Some(item) = order.completed().next() else {
            return Err(refusal_error(&order));
        };
        let e164 = item
            .e164
            .clone()
            .ok_or_else(|| crate::Error::internal("completed order item without a number"))?;
        self.update_and_provision(account, &e164, &AssignmentPatch::default(), requests)
            .await
    }
}

fn refusal_error(order: &crate::order::Order) -> crate::Error {
    use crate::error::ConflictKind;
    use crate::number::ClaimRefusal;
    match order.failed().next() {
        Some((item, code, _)) if code == ClaimRefusal::NotFound.code() => crate::Error::not_found(
            Resource::Number,
            item.e164.as_ref().map_or("", |e| e.as_str()),
        ),
        Some((_, code, message)) => {
            let kind = ClaimRefusal::from_code(code)
                .map_or(ConflictKind::InsufficientInventory, ConflictKind::Claim);
            crate::Error::conflict(kind, message.to_string())
        }
        None => crate::Error::conflict(
            ConflictKind::InsufficientInventory,
            format!(
                "order {} did not complete ({})",
                order.id(),
                order.status.as_str()
            ),
        ),
    }
}
