//! A delivery is one event on its way to one target, with the request already rendered (so every
//! attempt and every redelivery sends the same bytes) and its attempt log.

use crate::clock::Timestamp;
use crate::event::EventKind;
use crate::ids::{AccountId, DeliveryId, EventId, SubscriptionId};

use super::subscription::Subscription;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Given up: out of retries, 410 Gone, or not sendable (payload too large, render error).
    Failed,
    /// Its subscription was deleted before it landed.
    Cancelled,
}

impl DeliveryStatus {
    pub const ALL: &'static [DeliveryStatus] = &[
        DeliveryStatus::Pending,
        DeliveryStatus::Succeeded,
        DeliveryStatus::Failed,
        DeliveryStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "PENDING",
            DeliveryStatus::Succeeded => "SUCCEEDED",
            DeliveryStatus::Failed => "FAILED",
            DeliveryStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A request body as a format renders it, with the headers that do not change between attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: DeliveryId,
    /// Unique per (target, event) for the fan-out, so a batch written twice inserts nothing new;
    /// redeliveries and replays get keys of their own.
    pub dedupe_key: String,
    /// `None` for targets a `TargetResolver` named.
    pub subscription: Option<SubscriptionId>,
    pub account: Option<AccountId>,
    pub event_seq: i64,
    pub event_id: EventId,
    pub event_type: EventKind,
    pub url: String,
    /// The endpoint (`WebhookUrl::origin`): one request in flight per endpoint and process.
    pub target_key: String,
    pub format: String,
    pub format_config: serde_json::Value,
    /// The signing secret of a resolver target (subscriptions sign with their own, current one).
    pub signing_secret: Option<String>,
    pub request: Rendered,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub completed_at: Option<Timestamp>,
}

/// One try: when, what the receiver answered (or why there was no answer), how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    pub at: Timestamp,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// What an attempt leads to; the store writes it with the attempt in one transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptResult {
    Succeeded,
    Retry {
        next_attempt_at: Timestamp,
    },
    GaveUp,
    /// 410 Gone: the delivery fails and its subscription is switched off.
    Gone,
}

/// A delivery leased to this worker, with its subscription as it is now (for the current
/// secrets and active flag).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub delivery: Delivery,
    pub subscription: Option<Subscription>,
}

/// What a worker asks for: due PENDING deliveries whose lease (if any) has run out, whose
/// subscription is active, on endpoints it is not already busy with, at most `per_endpoint`
/// per endpoint and `limit` in all, oldest due first.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryClaim {
    pub now: Timestamp,
    pub lease_until: Timestamp,
    pub limit: u32,
    pub per_endpoint: u32,
    pub skip_endpoints: Vec<String>,
}

/// Listing a subscription's deliveries, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub event_id: Option<EventId>,
    pub page_size: u32,
    /// Keyset: id of the last delivery of the previous page.
    pub before: Option<DeliveryId>,
}

/// A delivery with every attempt, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryLog {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
}
