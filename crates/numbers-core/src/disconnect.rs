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
use crate::event::{EventKind, NewEvent};
use crate::ids::{AccountId, DisconnectId};
use crate::number::{E164, Number, NumberChange, NumberState};
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

    /// A disconnect as stored: RECEIVED, no items yet, with its `disconnect.received` event.
    pub fn received(new: NewDisconnect) -> (Disconnect, NewEvent) {
        let event = NewEvent {
            account_id: Some(new.account),
            details: serde_json::json!({ "disconnect_id": new.id.to_string() }),
            ..NewEvent::new(EventKind::DisconnectReceived, new.created_at)
        };
        let d = Disconnect {
            updated_at: new.created_at,
            new,
            status: OrderStatus::Received,
            items: Vec::new(),
            completed_at: None,
        };
        (d, event)
    }

    /// Processes the whole disconnect at once, given the numbers the store found (and locked)
    /// for it: each requested number (in E.164 order) still assigned to the account is released
    /// (`plan_number`, its protected flag changed as asked), the rest are recorded as failures;
    /// the disconnect ends COMPLETE / PARTIAL / FAILED. Returns the released numbers (with their
    /// `number.released` events) to save, and the outcome event to append after them.
    pub fn process(
        &mut self,
        found: Vec<Number>,
        aging: &AgingPolicy,
        now: Timestamp,
    ) -> (Vec<NumberChange>, NewEvent) {
        let account = self.new.account;
        let mut found: std::collections::HashMap<E164, Number> =
            found.into_iter().map(|n| (n.e164.clone(), n)).collect();
        let mut numbers = self.new.numbers.clone();
        numbers.sort();
        let (mut released, mut items) = (Vec::new(), Vec::new());
        for e164 in numbers {
            let number = found.remove(&e164);
            let planned = plan_number(account, number.as_ref(), self.new.mode, aging, now);
            let outcome = match (planned, number) {
                (Ok(available_after), Some(mut n)) => {
                    n.protected = self.new.protected.apply(n.protected);
                    let mut change = n.release(available_after, now);
                    change.event.details["disconnect_id"] = self.id().to_string().into();
                    released.push(change);
                    ItemOutcome::Completed
                }
                // (`plan_number` releases only a number it was given.)
                (planned, _) => planned.err().unwrap_or_else(not_on_account),
            };
            items.push(DisconnectItem { e164, outcome });
        }
        self.status = final_status(&items);
        self.items = items;
        self.updated_at = now;
        self.completed_at = Some(now);
        let kind = match self.status {
            OrderStatus::Complete => EventKind::DisconnectCompleted,
            OrderStatus::Partial => EventKind::DisconnectPartial,
            _ => EventKind::DisconnectFailed,
        };
        let outcome = NewEvent {
            account_id: Some(account),
            details: self.outcome_details(),
            ..NewEvent::new(kind, now)
        };
        (released, outcome)
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
        _ => Err(not_on_account()),
    }
}

fn not_on_account() -> ItemOutcome {
    ItemOutcome::Failed {
        code: NOT_ON_ACCOUNT.into(),
        message: "the number is not in service on this account".into(),
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
    fn processing_releases_what_the_account_holds_and_fails_the_rest() {
        use crate::clock::from_millis;
        use crate::ids::OrderId;
        use crate::number::lifecycle::tests::available;
        let account = AccountId::new();
        let held = available("+12065550101")
            .assign(account, OrderId::new(), &Default::default(), from_millis(1))
            .number;
        let (mut d, received) = Disconnect::received(NewDisconnect {
            id: DisconnectId::new(),
            account,
            numbers: vec![
                E164::parse("+12065550101").unwrap(),
                E164::parse("+12065550100").unwrap(),
            ],
            mode: DisconnectMode::Purge,
            protected: ProtectedChange::Set,
            name: None,
            customer_order_id: None,
            created_at: from_millis(2),
        });
        assert_eq!(received.kind, EventKind::DisconnectReceived);
        let found = vec![held, available("+12065550100")];
        let (released, outcome) = d.process(found, &AgingPolicy::default(), from_millis(3));
        assert_eq!(d.status, OrderStatus::Partial);
        assert_eq!(released.len(), 1);
        let n = &released[0].number;
        assert!(n.protected && n.state == NumberState::Available);
        assert_eq!(released[0].event.kind, EventKind::NumberReleased);
        assert_eq!(
            released[0].event.details["disconnect_id"],
            d.id().to_string()
        );
        assert_eq!(outcome.kind, EventKind::DisconnectPartial);
        assert_eq!(d.items[0].e164.as_str(), "+12065550100");
    }

    #[test]
    fn protected_change() {
        assert!(ProtectedChange::Set.apply(false));
        assert!(!ProtectedChange::Clear.apply(true));
        assert!(ProtectedChange::Unchanged.apply(true));
    }
}
