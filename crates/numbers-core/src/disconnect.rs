//! Disconnect orders: an asynchronous bulk release (Bandwidth's `/disconnects`). A client submits
//! a list of its numbers; the worker processes the order in ONE transaction, releasing each number
//! that is still assigned to the account exactly as a single release does (AGING for the aging
//! period, or straight back to AVAILABLE in purge mode) and recording a per-number failure for the
//! rest. This module owns the values and the pure decisions the stores apply inside that
//! transaction: whether a number may be disconnected, when it becomes available again, and the
//! final status (COMPLETE / PARTIAL / FAILED).

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, FieldErrorKind};
use crate::ids::{AccountId, DisconnectId};
use crate::number::{E164, Number, NumberState};
use crate::order::{ItemOutcome, OrderStatus};
use crate::service::{AgingPolicy, ReleaseMode};

pub const MAX_DISCONNECT_NUMBERS: usize = 5000;
/// Per-number failure code: the number is not assigned to the disconnecting account.
pub const NOT_ON_ACCOUNT: &str = "NUMBER_NOT_ON_ACCOUNT";

/// What happens to the numbers' protected flag (Bandwidth's `<Protected>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProtectedChange {
    #[default]
    Unchanged,
    Set,
    Clear,
}

impl ProtectedChange {
    /// The flag a number ends with.
    pub fn apply(self, current: bool) -> bool {
        match self {
            ProtectedChange::Unchanged => current,
            ProtectedChange::Set => true,
            ProtectedChange::Clear => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DisconnectMode {
    /// Into aging: the account may take the number back until the aging period ends.
    Normal,
    /// Straight back on offer.
    Purge,
}

impl DisconnectMode {
    pub fn release_mode(self) -> ReleaseMode {
        match self {
            DisconnectMode::Normal => ReleaseMode::Normal,
            DisconnectMode::Purge => ReleaseMode::Purge,
        }
    }
}

/// A disconnect order as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDisconnect {
    pub id: DisconnectId,
    pub account: AccountId,
    pub numbers: Vec<E164>,
    pub mode: DisconnectMode,
    pub protected: ProtectedChange,
    pub name: Option<String>,
    pub customer_order_id: Option<String>,
    pub created_at: Timestamp,
}

impl NewDisconnect {
    /// At least one number, at most `MAX_DISCONNECT_NUMBERS`, none twice.
    pub fn validate(&self) -> Result<(), Error> {
        if self.numbers.is_empty() || self.numbers.len() > MAX_DISCONNECT_NUMBERS {
            return Err(Error::invalid(
                "numbers",
                format!("must list 1 to {MAX_DISCONNECT_NUMBERS} numbers"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = self.numbers.iter().find(|n| !seen.insert(*n)) {
            return Err(Error::invalid_as(
                FieldErrorKind::Duplicate,
                "numbers",
                format!("lists {dup} more than once"),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisconnectItem {
    pub e164: E164,
    pub outcome: ItemOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disconnect {
    #[serde(flatten)]
    pub new: NewDisconnect,
    /// RECEIVED until processed, then COMPLETE, PARTIAL or FAILED.
    pub status: OrderStatus,
    pub items: Vec<DisconnectItem>,
    pub updated_at: Timestamp,
    pub completed_at: Option<Timestamp>,
}

impl Disconnect {
    pub fn id(&self) -> DisconnectId {
        self.new.id
    }

    pub fn disconnected(&self) -> impl Iterator<Item = &E164> {
        self.items
            .iter()
            .filter(|i| i.outcome == ItemOutcome::Completed)
            .map(|i| &i.e164)
    }

    /// The details of the event announcing the outcome: the counts, the numbers disconnected
    /// and the client's own order id (what Bandwidth's `<Notification>` carries), so webhook
    /// formats need nothing but the event.
    pub fn outcome_details(&self) -> serde_json::Value {
        let numbers: Vec<&str> = self.disconnected().map(E164::as_str).collect();
        serde_json::json!({
            "disconnect_id": self.id().to_string(),
            "completed": self.disconnected().count(),
            "failed": self.failures().count(),
            "numbers": numbers,
            "customer_order_id": self.new.customer_order_id,
        })
    }

    pub fn failures(&self) -> impl Iterator<Item = (&E164, &str, &str)> {
        self.items.iter().filter_map(|i| match &i.outcome {
            ItemOutcome::Failed { code, message } => {
                Some((&i.e164, code.as_str(), message.as_str()))
            }
            ItemOutcome::Completed => None,
        })
    }
}

/// The decision for one number of a disconnect, made on the locked row: `Ok(available_after)`
/// to release it (as `Service::release_number` would), or the failure to record.
pub fn plan_number(
    account: AccountId,
    number: Option<&Number>,
    mode: DisconnectMode,
    aging: &AgingPolicy,
    now: Timestamp,
) -> Result<Timestamp, ItemOutcome> {
    match number {
        Some(n) if n.state == NumberState::Assigned && n.owner == Some(account) => Ok(match mode {
            DisconnectMode::Normal => now + aging.period_for(&n.country, n.number_type),
            DisconnectMode::Purge => now,
        }),
        _ => Err(ItemOutcome::Failed {
            code: NOT_ON_ACCOUNT.into(),
            message: "the number is not in service on this account".into(),
        }),
    }
}

/// COMPLETE when every number was released, FAILED when none was, PARTIAL otherwise.
pub fn final_status(items: &[DisconnectItem]) -> OrderStatus {
    let done = items
        .iter()
        .filter(|i| i.outcome == ItemOutcome::Completed)
        .count();
    if done == items.len() {
        OrderStatus::Complete
    } else if done == 0 {
        OrderStatus::Failed
    } else {
        OrderStatus::Partial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(ok: bool) -> DisconnectItem {
        DisconnectItem {
            e164: E164::parse("+12065550100").unwrap(),
            outcome: if ok {
                ItemOutcome::Completed
            } else {
                ItemOutcome::Failed {
                    code: NOT_ON_ACCOUNT.into(),
                    message: String::new(),
                }
            },
        }
    }

    #[test]
    fn final_status_follows_the_outcomes() {
        assert_eq!(
            final_status(&[item(true), item(true)]),
            OrderStatus::Complete
        );
        assert_eq!(
            final_status(&[item(true), item(false)]),
            OrderStatus::Partial
        );
        assert_eq!(final_status(&[item(false)]), OrderStatus::Failed);
    }

    #[test]
    fn protected_change() {
        assert!(ProtectedChange::Set.apply(false));
        assert!(!ProtectedChange::Clear.apply(true));
        assert!(ProtectedChange::Unchanged.apply(true));
    }
}
