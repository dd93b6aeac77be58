//! `WebhookStore`: what the engine needs from a database. Like every store trait, each call is
//! one transaction; the two that carry the guarantees are `enqueue_deliveries` (fan-out moves
//! the cursor over the event log in the same transaction that writes the deliveries, and only if
//! nobody moved it first) and `claim_deliveries` (leases, `SKIP LOCKED` on PostgreSQL, so
//! several processes never hold the same delivery).

use async_trait::async_trait;

use crate::error::Result;
use crate::event::Event;
use crate::ids::{AccountId, DeliveryId, EventId, SubscriptionId};

use super::delivery::{
    Attempt, AttemptResult, ClaimedDelivery, Delivery, DeliveryClaim, DeliveryFilter, DeliveryLog,
};
use super::subscription::Subscription;

#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_subscription(&self, subscription: &Subscription) -> Result<()>;
    /// Only the account's own (else `None`).
    async fn get_subscription(
        &self,
        account: AccountId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>>;
    /// Oldest first (by id), after `after`, at most `limit`.
    async fn list_subscriptions(
        &self,
        account: AccountId,
        after: Option<SubscriptionId>,
        limit: u32,
    ) -> Result<Vec<Subscription>>;
    /// Writes `subscription` if the stored one is still at `version - 1`; false otherwise
    /// (changed meanwhile, or deleted).
    async fn update_subscription(&self, subscription: &Subscription) -> Result<bool>;
    /// Deletes it and cancels its PENDING deliveries; false if the account has no such one.
    async fn delete_subscription(
        &self,
        account: AccountId,
        id: SubscriptionId,
        now: crate::clock::Timestamp,
    ) -> Result<bool>;
    /// Every active subscription (the fan-out matches events against them).
    async fn active_subscriptions(&self) -> Result<Vec<Subscription>>;
    /// The seq of the last event fanned out. A new database starts at the newest event, so
    /// history from before webhooks existed is not sent.
    async fn fanout_cursor(&self) -> Result<i64>;
    /// Inserts the deliveries, skipping any whose `dedupe_key` exists. With
    /// `advance = Some((from, to))` it first moves the fan-out cursor from `from` to `to`; if the
    /// cursor is no longer at `from` nothing is written and the answer is `None`. Otherwise the
    /// number of deliveries inserted.
    async fn enqueue_deliveries(
        &self,
        advance: Option<(i64, i64)>,
        deliveries: &[Delivery],
    ) -> Result<Option<u64>>;
    /// Leases due deliveries (see `DeliveryClaim`) until `claim.lease_until`.
    async fn claim_deliveries(&self, claim: &DeliveryClaim) -> Result<Vec<ClaimedDelivery>>;
    /// Appends the attempt and applies its result: SUCCEEDED / next attempt time / FAILED;
    /// `Gone` also switches the subscription off (`Subscription::disabled`). Clears the lease.
    async fn record_attempt(
        &self,
        id: DeliveryId,
        attempt: &Attempt,
        result: AttemptResult,
    ) -> Result<()>;
    /// A subscription's deliveries with their attempts, newest first, at most `page_size + 1`.
    async fn list_deliveries(
        &self,
        account: AccountId,
        subscription: SubscriptionId,
        filter: &DeliveryFilter,
    ) -> Result<Vec<DeliveryLog>>;
    async fn get_event(&self, id: EventId) -> Result<Option<Event>>;
    /// How many deliveries are PENDING (for the metrics gauge).
    async fn pending_deliveries(&self) -> Result<u64>;
}
