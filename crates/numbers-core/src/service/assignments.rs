//! One number taken and held by its stable id, synchronously — MessageMedia's assignments. Taking
//! is an explicit one-number order fulfilled on the spot (the same claim, events and
//! one-live-assignment guarantee as every order); a refusal comes back as a `Conflict` carrying the
//! refusal's code, so the caller learns the number is taken, aging or already its own.

use crate::error::{ConflictKind, Error, Resource, Result};
use crate::ids::{AccountId, NumberId};
use crate::number::{AssignmentData, ClaimRefusal, Number};
use crate::order::{OrderRequest, OrderStatus};

use super::{OrderSubmission, Service};

impl Service {
    /// Assigns the number to the account now, with `template` as its assignment data. Unknown id
    /// → `NotFound`; taken, reserved or aging (for anyone but its last owner) → `Conflict`.
    pub async fn assign_number(
        &self,
        account: AccountId,
        id: NumberId,
        template: AssignmentData,
        dialect_data: serde_json::Value,
    ) -> Result<Number> {
        // Not filtered by visibility: a number someone else holds must answer "conflict", not
        // "not found" (ids are random UUIDs, so this reveals nothing guessable).
        let number = self
            .store
            .get_number_by_id(id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Number, id))?;
        let mut submission = OrderSubmission::new(OrderRequest::Numbers(vec![number.e164.clone()]));
        submission.template = template;
        submission.dialect_data = dialect_data;
        let order = self.order_now(account, submission).await?;
        if order.status == OrderStatus::Complete {
            return self.owned_number(account, &number.e164).await;
        }
        let refusal = order
            .failed()
            .next()
            .and_then(|(_, code, _)| ClaimRefusal::from_code(code));
        Err(match refusal {
            Some(r) => Error::conflict(ConflictKind::Claim(r), r.message()),
            // A refusal the order did not explain (it always does; this keeps the path total).
            None => Error::conflict(
                ConflictKind::NumberUnavailable,
                "the number is not available for assignment",
            ),
        })
    }

    /// A number ASSIGNED to the account, by id; anything else is not found.
    pub async fn owned_number_by_id(&self, account: AccountId, id: NumberId) -> Result<Number> {
        match self.store.get_number_by_id(id).await? {
            Some(n) if n.is_assigned_to(account) => Ok(n),
            _ => Err(Error::not_found(Resource::Number, id)),
        }
    }
}
