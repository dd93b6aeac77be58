//! Orders: asynchronous requests for numbers, by explicit list or by search criteria and a
//! quantity. A worker fulfils each in one transaction: it locks the candidate rows, asks
//! `plan_fulfilment` (below, the only place the partial / backorder rules live) what to claim,
//! and claims by conditional state change, backed by a unique index on live assignments, so two
//! orders can never win the same number.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, FieldErrorKind};
use crate::ids::{AccountId, NumberId, OrderId, ReservationId};
use crate::number::{AssignmentData, ClaimRefusal, E164, Number};
use crate::search::SearchQuery;

pub const MAX_ORDER_QUANTITY: u32 = 5000;
pub const MAX_EXPLICIT_NUMBERS: usize = 5000;
/// How long a worker may hold an order in PROCESSING before another may take it over.
pub const PROCESSING_LEASE_SECONDS: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Received,
    Processing,
    Complete,
    Partial,
    Failed,
    Backordered,
}

impl OrderStatus {
    pub const ALL: &'static [OrderStatus] = &[
        OrderStatus::Received,
        OrderStatus::Processing,
        OrderStatus::Complete,
        OrderStatus::Partial,
        OrderStatus::Failed,
        OrderStatus::Backordered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Received => "RECEIVED",
            OrderStatus::Processing => "PROCESSING",
            OrderStatus::Complete => "COMPLETE",
            OrderStatus::Partial => "PARTIAL",
            OrderStatus::Failed => "FAILED",
            OrderStatus::Backordered => "BACKORDERED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderStatus::Complete | OrderStatus::Partial | OrderStatus::Failed
        )
    }
}

// Orders are created once and read a few times; boxing the query would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderRequest {
    Numbers(Vec<E164>),
    Search { query: SearchQuery, quantity: u32 },
}

impl OrderRequest {
    pub fn requested_quantity(&self) -> u32 {
        match self {
            OrderRequest::Numbers(numbers) => numbers.len() as u32,
            OrderRequest::Search { quantity, .. } => *quantity,
        }
    }

    pub fn validate(&self) -> Result<(), Error> {
        match self {
            OrderRequest::Numbers(numbers) if numbers.is_empty() => {
                Err(Error::invalid("numbers", "must list at least one number"))
            }
            OrderRequest::Numbers(numbers) if numbers.len() > MAX_EXPLICIT_NUMBERS => {
                Err(Error::invalid_as(
                    FieldErrorKind::TooMany,
                    "numbers",
                    format!("must list at most {MAX_EXPLICIT_NUMBERS} numbers"),
                ))
            }
            OrderRequest::Numbers(numbers) => {
                let mut seen = std::collections::HashSet::new();
                match numbers.iter().find(|n| !seen.insert(*n)) {
                    Some(dup) => Err(Error::invalid_as(
                        FieldErrorKind::Duplicate,
                        "numbers",
                        format!("lists {dup} more than once"),
                    )),
                    None => Ok(()),
                }
            }
            OrderRequest::Search { quantity, .. }
                if !(1..=MAX_ORDER_QUANTITY).contains(quantity) =>
            {
                Err(Error::invalid(
                    "quantity",
                    format!("must be from 1 to {MAX_ORDER_QUANTITY}"),
                ))
            }
            OrderRequest::Search { .. } => Ok(()),
        }
    }
}

/// An order as submitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    pub id: OrderId,
    pub account: AccountId,
    pub request: OrderRequest,
    pub partial_allowed: bool,
    pub backorder_requested: bool,
    pub reservation_ids: Vec<ReservationId>,
    /// Applied to every number the order wins.
    pub template: AssignmentData,
    pub name: Option<String>,
    pub customer_order_id: Option<String>,
    /// Same key from the same account → the same order, never a second one.
    pub idempotency_key: Option<String>,
    /// A digest of the request body, so a reused key with a different body is refused.
    pub request_fingerprint: String,
    /// What a dialect needs to echo the order back in its own words (e.g. Bandwidth's order type).
    pub dialect_data: serde_json::Value,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    pub e164: Option<E164>,
    pub number_id: Option<NumberId>,
    pub outcome: ItemOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemOutcome {
    Completed,
    Failed { code: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    #[serde(flatten)]
    pub new: NewOrder,
    pub status: OrderStatus,
    pub items: Vec<OrderItem>,
    pub updated_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    /// Set when a backorder is closed by its owner.
    pub closed: bool,
    pub version: i64,
}

impl Order {
    pub fn id(&self) -> OrderId {
        self.new.id
    }

    pub fn completed(&self) -> impl Iterator<Item = &OrderItem> {
        self.items
            .iter()
            .filter(|i| i.outcome == ItemOutcome::Completed)
    }

    pub fn failed(&self) -> impl Iterator<Item = (&OrderItem, &str, &str)> {
        self.items.iter().filter_map(|i| match &i.outcome {
            ItemOutcome::Failed { code, message } => Some((i, code.as_str(), message.as_str())),
            ItemOutcome::Completed => None,
        })
    }

    pub fn completed_count(&self) -> u32 {
        self.completed().count() as u32
    }

    /// The details of the event announcing this order's outcome (COMPLETE, PARTIAL, FAILED,
    /// BACKORDERED): the counts, the numbers won so far and the client's own order id, so a
    /// webhook format can describe the outcome from the event alone (Bandwidth's
    /// `<Notification>` lists the completed numbers) without reading the order back.
    pub fn outcome_details(&self) -> serde_json::Value {
        let numbers: Vec<&str> = self
            .completed()
            .filter_map(|i| i.e164.as_ref().map(E164::as_str))
            .collect();
        serde_json::json!({
            "completed": self.completed_count(),
            "failed": self.failed_count(),
            "numbers": numbers,
            "customer_order_id": self.new.customer_order_id,
        })
    }

    /// How many numbers a search order still wants.
    pub fn remaining_quantity(&self) -> u32 {
        self.new
            .request
            .requested_quantity()
            .saturating_sub(self.completed_count())
    }

    pub fn failed_count(&self) -> u32 {
        self.failed().count() as u32
    }

    pub fn pending_count(&self) -> u32 {
        if self.status.is_final() {
            0
        } else {
            self.remaining_quantity()
        }
    }

    /// A fulfilment that finds the order still RECEIVED (it started right after submission, not
    /// from the worker's claim) moves it to PROCESSING first, in the same transaction, so every
    /// order's history and events are RECEIVED → PROCESSING → outcome whichever path fulfilled
    /// it. True when it moved: the store then appends `order.processing`.
    pub fn begin_processing(&mut self, now: Timestamp) -> bool {
        if self.status != OrderStatus::Received {
            return false;
        }
        self.status = OrderStatus::Processing;
        self.version += 1;
        self.updated_at = now;
        true
    }
}

/// What the store found for one explicitly requested number, locked inside its transaction.
#[derive(Debug, Clone)]
pub struct ExplicitCandidate {
    pub e164: E164,
    pub number: Option<Number>,
}

/// The decision for one fulfilment attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct FulfilmentPlan {
    /// Numbers to move to ASSIGNED for the order's account.
    pub claims: Vec<Number>,
    /// New per-number (or per-shortfall) results to record.
    pub failures: Vec<OrderItem>,
    pub status: OrderStatus,
}

pub const INSUFFICIENT_INVENTORY: &str = "INSUFFICIENT_INVENTORY";

/// Plans an attempt at an explicit-numbers order. Numbers already won by an earlier attempt (a
/// backorder being retried) are skipped by the caller.
pub fn plan_explicit(
    order: &Order,
    candidates: Vec<ExplicitCandidate>,
    now: Timestamp,
) -> FulfilmentPlan {
    let account = order.new.account;
    let mut claims = Vec::new();
    let mut refused = Vec::new();
    for candidate in candidates {
        match candidate.number {
            None => refused.push((candidate.e164, None, ClaimRefusal::NotFound)),
            Some(number) => match number.claimable_by(account, &order.new.reservation_ids, now) {
                Ok(()) => claims.push(number),
                Err(refusal) => refused.push((candidate.e164, Some(number.id), refusal)),
            },
        }
    }
    let failed_item = |e164: E164, number_id, refusal: ClaimRefusal| OrderItem {
        e164: Some(e164),
        number_id,
        outcome: ItemOutcome::Failed {
            code: refusal.code().into(),
            message: refusal.message().into(),
        },
    };
    let already_won = order.completed_count() > 0;
    if refused.is_empty() {
        return FulfilmentPlan {
            claims,
            failures: vec![],
            status: OrderStatus::Complete,
        };
    }
    if order.new.backorder_requested && !order.closed {
        // Wait for the rest; keep what we can only if partial fills are allowed.
        let claims = if order.new.partial_allowed {
            claims
        } else {
            vec![]
        };
        return FulfilmentPlan {
            claims,
            failures: vec![],
            status: OrderStatus::Backordered,
        };
    }
    let mut failures: Vec<OrderItem> = refused
        .into_iter()
        .map(|(e, id, r)| failed_item(e, id, r))
        .collect();
    if !order.new.partial_allowed {
        failures.extend(
            claims
                .into_iter()
                .map(|n| failed_item(n.e164.clone(), Some(n.id), ClaimRefusal::PartialNotAllowed)),
        );
        let status = if already_won {
            OrderStatus::Partial
        } else {
            OrderStatus::Failed
        };
        return FulfilmentPlan {
            claims: vec![],
            failures,
            status,
        };
    }
    let status = if claims.is_empty() && !already_won {
        OrderStatus::Failed
    } else {
        OrderStatus::Partial
    };
    FulfilmentPlan {
        claims,
        failures,
        status,
    }
}

/// Plans an attempt at a search order, given the available numbers the store found and locked
/// (at most the remaining quantity).
pub fn plan_search(order: &Order, candidates: Vec<Number>, now: Timestamp) -> FulfilmentPlan {
    let wanted = order.remaining_quantity() as usize;
    let account = order.new.account;
    let claims: Vec<Number> = candidates
        .into_iter()
        .filter(|n| {
            n.claimable_by(account, &order.new.reservation_ids, now)
                .is_ok()
        })
        .take(wanted)
        .collect();
    if claims.len() == wanted {
        return FulfilmentPlan {
            claims,
            failures: vec![],
            status: OrderStatus::Complete,
        };
    }
    if order.new.backorder_requested && !order.closed {
        let claims = if order.new.partial_allowed {
            claims
        } else {
            vec![]
        };
        return FulfilmentPlan {
            claims,
            failures: vec![],
            status: OrderStatus::Backordered,
        };
    }
    let claims = if order.new.partial_allowed {
        claims
    } else {
        vec![]
    };
    let shortfall = wanted - claims.len();
    let failures = vec![OrderItem {
        e164: None,
        number_id: None,
        outcome: ItemOutcome::Failed {
            code: INSUFFICIENT_INVENTORY.into(),
            message: format!(
                "{shortfall} of the {wanted} requested numbers could not be found available"
            ),
        },
    }];
    let won_any = !claims.is_empty() || order.completed_count() > 0;
    let status = if won_any {
        OrderStatus::Partial
    } else {
        OrderStatus::Failed
    };
    FulfilmentPlan {
        claims,
        failures,
        status,
    }
}

/// Closing a backorder: it stops waiting and ends with what it has.
pub fn status_after_close(order: &Order) -> OrderStatus {
    if order.remaining_quantity() == 0 {
        OrderStatus::Complete
    } else if order.completed_count() > 0 {
        OrderStatus::Partial
    } else {
        OrderStatus::Failed
    }
}
