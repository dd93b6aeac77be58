//! Webhooks: who is told about which events, in which wire format, and how every delivery is
//! retried until it lands or is given up. The event log is the outbox: a fan-out step reads the
//! events committed after a cursor and turns each into deliveries — one per matching
//! subscription, and one per extra target a `TargetResolver` names (Sinch's per-number callback
//! URLs) — moving the cursor in the same transaction, so nothing is lost or fanned out twice. The
//! delivery worker claims due deliveries (leases; `SKIP LOCKED` on PostgreSQL), sends them through
//! a `Transport`, and records every attempt. Wire formats are pluggable: a `Renderer`, looked up by
//! a subscription's `format` in the `Registry` built at start-up, renders the body once at fan-out
//! and signs each attempt, so the native webhooks, Bandwidth notifications and Sinch callbacks
//! share one engine with no per-dialect delivery code.

mod delivery;
mod outbound;
mod policy;
mod registry;
mod service;
pub mod signature;
mod store;
mod subscription;
pub mod worker;

pub use delivery::{
    Attempt, AttemptResult, ClaimedDelivery, Delivery, DeliveryClaim, DeliveryFilter, DeliveryLog,
    DeliveryStatus, Rendered,
};
pub use outbound::{
    AddressPolicy, NameLookup, NonPublic, StaticLookup, SystemLookup, URL_MAX_CHARS, WebhookUrl,
    non_public,
};
pub use policy::{RetryPolicy, WebhookSettings};
pub use registry::{Registry, RenderTarget, Renderer, ResolvedTarget, TargetResolver};
pub use service::{MAX_REPLAY_EVENTS, ReplayOutcome, WebhookRuntime};
pub use store::WebhookStore;
pub use subscription::{
    DEFAULT_ROTATION_OVERLAP_SECONDS, EventTypes, MAX_ROTATION_OVERLAP_SECONDS, NewSubscription,
    Subscription, SubscriptionPatch, generate_secret,
};
