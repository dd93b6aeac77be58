//! The webhook operations of the service: managing subscriptions (the secret is shown once, at
//! creation and at rotation), the delivery log, redelivery and replay, and the three steps the
//! worker repeats — fan out new events, claim due deliveries, attempt one.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use chrono::Duration;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::clock::Timestamp;
use crate::error::{ConflictKind, Error, Resource, Result};
use crate::event::Event;
use crate::ids::{AccountId, DeliveryId, EventId, SubscriptionId};
use crate::page::Page;
use crate::service::Service;
use crate::store::EventFilter;

use super::delivery::{
    Attempt, AttemptResult, ClaimedDelivery, Delivery, DeliveryClaim, DeliveryFilter, DeliveryLog,
    DeliveryStatus, Rendered,
};
use super::outbound::{AddressPolicy, NameLookup, SystemLookup, WebhookUrl};
use super::registry::{Registry, RenderTarget};
use super::subscription::{NewSubscription, Subscription, SubscriptionPatch};
use super::worker::{Outcome, OutgoingRequest, Transport};

/// A replay enqueues at most this many events; the answer says when it stopped short.
pub const MAX_REPLAY_EVENTS: u32 = 100_000;
const REPLAY_PAGE: u32 = 1000;
const MAX_SUBSCRIPTIONS_PAGE: u32 = 200;

/// The process-wide webhook state the service carries: the registered formats and resolvers,
/// this server's own listen addresses (webhooks must never point back at it), and how the names
/// in outbound URLs are resolved.
pub struct WebhookRuntime {
    registry: Registry,
    self_addresses: RwLock<Vec<SocketAddr>>,
    name_lookup: RwLock<Arc<dyn NameLookup>>,
}

impl Default for WebhookRuntime {
    fn default() -> Self {
        WebhookRuntime::new(Registry::default())
    }
}

impl std::fmt::Debug for WebhookRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRuntime")
            .field("registry", &self.registry)
            .field("self_addresses", &self.self_addresses())
            .finish_non_exhaustive()
    }
}

impl WebhookRuntime {
    pub fn new(registry: Registry) -> Self {
        WebhookRuntime {
            registry,
            self_addresses: RwLock::new(Vec::new()),
            name_lookup: RwLock::new(Arc::new(SystemLookup)),
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Called at launch with each bound listener.
    pub fn note_listen_address(&self, addr: SocketAddr) {
        let mut own = self
            .self_addresses
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !own.contains(&addr) {
            own.push(addr);
        }
    }

    fn self_addresses(&self) -> Vec<SocketAddr> {
        self.self_addresses
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Replaces the system resolver for outbound URLs (tests resolve names they control). Takes
    /// effect for transports built afterwards (at launch).
    pub fn set_name_lookup(&self, lookup: Arc<dyn NameLookup>) {
        *self
            .name_lookup
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = lookup;
    }

    pub fn name_lookup(&self) -> Arc<dyn NameLookup> {
        Arc::clone(
            &self
                .name_lookup
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayOutcome {
    pub enqueued: u64,
    /// More events matched than `MAX_REPLAY_EVENTS`; replay again from the last one sent.
    pub truncated: bool,
}

/// Who a delivery is for.
enum Target<'a> {
    Subscription(&'a Subscription),
    Resolved(&'a super::registry::ResolvedTarget),
}

fn digest(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Service {
    pub fn webhook_policy(&self) -> AddressPolicy {
        AddressPolicy {
            allow_private: self.config().webhooks.allow_private,
            self_addresses: self.webhooks().self_addresses(),
        }
    }

    /// Parses a URL this server is asked to call later (a webhook, a subscription, a callback
    /// URL) and checks it against the outbound-URL policy; errors name `field`. Every door runs
    /// the URLs it stores through here, so all of them refuse the same spellings.
    pub fn outbound_url(&self, raw: &str, field: &str) -> Result<WebhookUrl> {
        let url = WebhookUrl::parse(raw, field)?;
        self.webhook_policy().check_url(&url, field)?;
        Ok(url)
    }

    /// `outbound_url` for the per-number and per-order callback URLs, kept as written.
    pub fn callback_url(&self, raw: &str, field: &str) -> Result<String> {
        self.outbound_url(raw, field)
            .map(|url| url.as_str().to_string())
    }

    /// The same check for a callback URL on its way into the store (assignments, orders, number
    /// orders), whichever door it came through; `None` passes.
    pub(crate) fn check_callback_url(&self, url: Option<&str>) -> Result<()> {
        match url {
            Some(raw) => self.outbound_url(raw, "callback_url").map(|_| ()),
            None => Ok(()),
        }
    }

    fn check_format(&self, format: &str, config: &serde_json::Value) -> Result<serde_json::Value> {
        let renderer = self.webhooks().registry().renderer(format).ok_or_else(|| {
            Error::invalid(
                "format",
                format!(
                    "unknown format '{format}'; known: {}",
                    self.webhooks().registry().formats().join(", ")
                ),
            )
        })?;
        renderer.check_config(config)
    }

    /// Subscribes the account; the answer carries the secret, which is never shown again.
    pub async fn create_webhook(
        &self,
        account: AccountId,
        mut new: NewSubscription,
    ) -> Result<Subscription> {
        self.webhook_policy().check_url(&new.url, "url")?;
        new.format_config = self.check_format(&new.format, &new.format_config)?;
        let subscription = Subscription::new(account, new, self.now());
        self.store().create_subscription(&subscription).await?;
        Ok(subscription)
    }

    pub async fn get_webhook(
        &self,
        account: AccountId,
        id: SubscriptionId,
    ) -> Result<Subscription> {
        self.store()
            .get_subscription(account, id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Webhook, id))
    }

    pub async fn list_webhooks(
        &self,
        account: AccountId,
        after: Option<SubscriptionId>,
        page_size: u32,
    ) -> Result<Page<Subscription>> {
        let size = page_size.clamp(1, MAX_SUBSCRIPTIONS_PAGE);
        let rows = self
            .store()
            .list_subscriptions(account, after, size + 1)
            .await?;
        Ok(Page::from_overfetch(rows, size, |s| s.id.to_string()))
    }

    /// Applies a read-modify-write step to the stored subscription, retrying when another
    /// writer got there first.
    async fn change_webhook(
        &self,
        account: AccountId,
        id: SubscriptionId,
        step: impl Fn(&Subscription, Timestamp) -> Result<Subscription>,
    ) -> Result<Subscription> {
        for _ in 0..10 {
            let current = self.get_webhook(account, id).await?;
            let next = step(&current, self.now())?;
            if self.store().update_subscription(&next).await? {
                return Ok(next);
            }
        }
        Err(Error::conflict(
            ConflictKind::ConcurrentUpdate,
            format!("webhook {id} keeps changing concurrently; try again"),
        ))
    }

    pub async fn update_webhook(
        &self,
        account: AccountId,
        id: SubscriptionId,
        mut patch: SubscriptionPatch,
    ) -> Result<Subscription> {
        if let Some(url) = &patch.url {
            self.webhook_policy().check_url(url, "url")?;
        }
        let current = self.get_webhook(account, id).await?;
        if let Some(config) = &patch.format_config {
            patch.format_config = Some(self.check_format(&current.format, config)?);
        }
        self.change_webhook(account, id, |s, now| Ok(patch.apply(s, now)))
            .await
    }

    pub async fn delete_webhook(&self, account: AccountId, id: SubscriptionId) -> Result<()> {
        if self
            .store()
            .delete_subscription(account, id, self.now())
            .await?
        {
            Ok(())
        } else {
            Err(Error::not_found(Resource::Webhook, id))
        }
    }

    /// A new secret; the current one keeps signing (second signature) for `overlap`.
    pub async fn rotate_webhook_secret(
        &self,
        account: AccountId,
        id: SubscriptionId,
        overlap: Duration,
    ) -> Result<Subscription> {
        self.change_webhook(account, id, |s, now| s.rotated(overlap, now))
            .await
    }

    pub async fn webhook_deliveries(
        &self,
        account: AccountId,
        id: SubscriptionId,
        filter: &DeliveryFilter,
    ) -> Result<Page<DeliveryLog>> {
        self.get_webhook(account, id).await?;
        let mut wanted = filter.clone();
        wanted.page_size = filter.page_size.clamp(1, 100);
        let rows = self.store().list_deliveries(account, id, &wanted).await?;
        Ok(Page::from_overfetch(rows, wanted.page_size, |d| {
            d.delivery.id.to_string()
        }))
    }

    /// Sends one of the account's events to the subscription again, as a new delivery (whatever
    /// happened to earlier ones, and whatever the subscription's type filter says).
    pub async fn redeliver_webhook(
        &self,
        account: AccountId,
        id: SubscriptionId,
        event_id: EventId,
    ) -> Result<Delivery> {
        let subscription = self.get_webhook(account, id).await?;
        let event = self
            .store()
            .get_event(event_id)
            .await?
            .filter(|e| e.event.account_id == Some(account))
            .ok_or_else(|| Error::not_found(Resource::Event, event_id))?;
        let key = format!("redeliver:{}", DeliveryId::new());
        let delivery = self
            .delivery_for(&event, Target::Subscription(&subscription), key, self.now())
            .ok_or_else(|| {
                Error::conflict(
                    ConflictKind::EventNotRendered,
                    format!(
                        "the {} format has nothing to send for event {event_id}",
                        subscription.format
                    ),
                )
            })?;
        self.store()
            .enqueue_deliveries(None, std::slice::from_ref(&delivery))
            .await?;
        Ok(delivery)
    }

    /// Enqueues every event of the account from `since` (up to `until`) that the subscription's
    /// type filter accepts, in log order, as new deliveries.
    pub async fn replay_webhook(
        &self,
        account: AccountId,
        id: SubscriptionId,
        since: Timestamp,
        until: Option<Timestamp>,
    ) -> Result<ReplayOutcome> {
        if until.is_some_and(|u| u < since) {
            return Err(Error::invalid("until", "must not be before since"));
        }
        let subscription = self.get_webhook(account, id).await?;
        let replay = DeliveryId::new();
        let now = self.now();
        let mut after = None;
        let mut seen: u32 = 0;
        let mut enqueued = 0;
        loop {
            let page = self
                .store()
                .list_events(&EventFilter {
                    account: Some(account),
                    after_seq: after,
                    limit: REPLAY_PAGE,
                    ..Default::default()
                })
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.seq);
            let full = page.len() as u32 == REPLAY_PAGE;
            let mut batch = Vec::new();
            for event in &page {
                let e = &event.event;
                if e.at < since || until.is_some_and(|u| e.at > u) {
                    continue;
                }
                if !subscription.events.matches(e.kind) {
                    continue;
                }
                if seen == MAX_REPLAY_EVENTS {
                    self.store().enqueue_deliveries(None, &batch).await?;
                    return Ok(ReplayOutcome {
                        enqueued: enqueued + batch.len() as u64,
                        truncated: true,
                    });
                }
                seen += 1;
                let key = format!("replay:{replay}:{}", e.id);
                if let Some(d) =
                    self.delivery_for(event, Target::Subscription(&subscription), key, now)
                {
                    batch.push(d);
                }
            }
            enqueued += self
                .store()
                .enqueue_deliveries(None, &batch)
                .await?
                .unwrap_or(0);
            if !full || until.is_some_and(|u| last.event.at > u) {
                break;
            }
        }
        Ok(ReplayOutcome {
            enqueued,
            truncated: false,
        })
    }

    /// Renders the event for the target. `None` when the format skips it; a delivery that cannot
    /// be sent (no such format, render error, too large) is created FAILED, so the log says why
    /// and one bad event never blocks the fan-out.
    fn delivery_for(
        &self,
        event: &Event,
        target: Target<'_>,
        dedupe_key: String,
        now: Timestamp,
    ) -> Option<Delivery> {
        let (url, format, config, subscription, account, secret) = match target {
            Target::Subscription(s) => (
                &s.url,
                s.format.as_str(),
                &s.format_config,
                Some(s.id),
                Some(s.account),
                None,
            ),
            Target::Resolved(t) => (
                &t.url,
                t.format.as_str(),
                &t.format_config,
                None,
                event.event.account_id,
                t.signing_secret.clone(),
            ),
        };
        let rendered = match self.webhooks().registry().renderer(format) {
            None => Err(format!("no renderer for format '{format}' in this process")),
            Some(renderer) => renderer
                .render(
                    event,
                    &RenderTarget {
                        url,
                        format_config: config,
                        subscription,
                    },
                )
                .map_err(|e| format!("rendering failed: {e}")),
        };
        let limit = self.config().webhooks.max_payload_bytes;
        let (request, error) = match rendered {
            Ok(None) => return None,
            Ok(Some(r)) if r.body.len() > limit => {
                let size = r.body.len();
                (
                    r,
                    Some(format!(
                        "payload of {size} bytes exceeds the limit of {limit} bytes"
                    )),
                )
            }
            Ok(Some(r)) => (r, None),
            Err(e) => (
                Rendered {
                    content_type: String::new(),
                    headers: Vec::new(),
                    body: String::new(),
                },
                Some(e),
            ),
        };
        let failed = error.is_some();
        Some(Delivery {
            id: DeliveryId::new(),
            dedupe_key,
            subscription,
            account,
            event_seq: event.seq,
            event_id: event.event.id,
            event_type: event.event.kind,
            url: url.as_str().to_string(),
            target_key: url.origin(),
            format: format.to_string(),
            format_config: config.clone(),
            signing_secret: secret,
            request,
            status: if failed {
                DeliveryStatus::Failed
            } else {
                DeliveryStatus::Pending
            },
            attempts: 0,
            next_attempt_at: now,
            last_status_code: None,
            last_error: error,
            created_at: now,
            updated_at: now,
            completed_at: failed.then_some(now),
        })
    }

    /// Turns the next batch of committed events into deliveries and moves the cursor past them,
    /// in one transaction. Returns how many events it consumed (0: nothing new, or another
    /// process took this batch first).
    pub async fn fan_out_webhooks(&self) -> Result<usize> {
        let settings = &self.config().webhooks;
        let cursor = self.store().fanout_cursor().await?;
        let events = self
            .store()
            .list_events(&EventFilter {
                after_seq: Some(cursor),
                limit: settings.fanout_batch.max(1),
                ..Default::default()
            })
            .await?;
        let Some(last) = events.last().map(|e| e.seq) else {
            return Ok(0);
        };
        let subscriptions = self.store().active_subscriptions().await?;
        let policy = self.webhook_policy();
        let now = self.now();
        let mut deliveries = Vec::new();
        for event in &events {
            let id = event.event.id;
            for s in subscriptions.iter().filter(|s| s.accepts(event)) {
                let key = format!("sub:{}:{id}", s.id);
                deliveries.extend(self.delivery_for(event, Target::Subscription(s), key, now));
            }
            for resolver in self.webhooks().registry().resolvers() {
                for target in resolver.targets(event, self).await? {
                    if let Err(e) = policy.check_url(&target.url, "url") {
                        tracing::warn!(resolver = resolver.name(), url = %target.url, error = %e, "skipping a refused webhook target");
                        continue;
                    }
                    let key = format!(
                        "res:{}:{}:{id}",
                        resolver.name(),
                        digest(target.url.as_str())
                    );
                    deliveries.extend(self.delivery_for(
                        event,
                        Target::Resolved(&target),
                        key,
                        now,
                    ));
                }
            }
        }
        match self
            .store()
            .enqueue_deliveries(Some((cursor, last)), &deliveries)
            .await?
        {
            Some(inserted) => {
                metrics::counter!("numbersd_webhook_deliveries_enqueued_total").increment(inserted);
                Ok(events.len())
            }
            None => Ok(0),
        }
    }

    /// Leases due deliveries on endpoints this worker is not busy with.
    pub async fn claim_webhook_deliveries(
        &self,
        busy_endpoints: Vec<String>,
    ) -> Result<Vec<ClaimedDelivery>> {
        let settings = &self.config().webhooks;
        let now = self.now();
        self.store()
            .claim_deliveries(&DeliveryClaim {
                now,
                lease_until: now + settings.lease(),
                limit: settings.claim_batch,
                per_endpoint: settings.per_endpoint_batch,
                skip_endpoints: busy_endpoints,
            })
            .await
    }

    /// Makes one attempt at a claimed delivery and records it.
    pub async fn attempt_delivery(
        &self,
        transport: &dyn Transport,
        claimed: ClaimedDelivery,
    ) -> Result<AttemptResult> {
        let settings = &self.config().webhooks;
        let d = claimed.delivery;
        let now = self.now();
        let secrets = match (&claimed.subscription, &d.signing_secret) {
            (Some(s), _) => s.signing_secrets(now),
            (None, Some(secret)) => vec![secret.clone()],
            (None, None) => Vec::new(),
        };
        let renderer = self.webhooks().registry().renderer(&d.format);
        let refused = WebhookUrl::parse(&d.url, "url")
            .and_then(|url| self.webhook_policy().check_url(&url, "url"))
            .err();
        let started = Instant::now();
        let outcome = match (renderer, refused) {
            (_, Some(why)) => Outcome::NotSent(format!("refused target: {why}")),
            (None, None) => Outcome::NotSent(format!(
                "no renderer for format '{}' in this process",
                d.format
            )),
            (Some(renderer), None) => {
                let mut headers = d.request.headers.clone();
                headers.extend(renderer.sign(&d.request.body, &secrets, &d.format_config, now));
                let request = OutgoingRequest {
                    url: d.url.clone(),
                    content_type: d.request.content_type.clone(),
                    headers,
                    body: d.request.body.clone(),
                    timeout: settings.timeout,
                    basic_on_challenge: renderer.challenge_credentials(&d.format_config),
                };
                // The transport enforces the timeout; this outer bound only guards against a
                // transport that does not.
                match tokio::time::timeout(
                    settings.timeout + std::time::Duration::from_secs(1),
                    transport.post(request),
                )
                .await
                {
                    Ok(outcome) => outcome,
                    Err(_) => Outcome::NotSent("timed out".into()),
                }
            }
        };
        let latency = started.elapsed();
        let failures = d.attempts + 1;
        let (status_code, error, result) = match outcome {
            Outcome::Answered(code) if (200..300).contains(&code) => {
                (Some(code), None, AttemptResult::Succeeded)
            }
            Outcome::Answered(410) => (
                Some(410),
                Some("the receiver answered 410 Gone; the subscription is disabled".to_string()),
                AttemptResult::Gone,
            ),
            Outcome::Answered(code) => (
                Some(code),
                Some(format!("the receiver answered {code}")),
                self.retry_or_give_up(&d, now, failures),
            ),
            Outcome::NotSent(why) => (None, Some(why), self.retry_or_give_up(&d, now, failures)),
        };
        let label = match result {
            AttemptResult::Succeeded => "succeeded",
            AttemptResult::Retry { .. } => "retrying",
            AttemptResult::GaveUp => "failed",
            AttemptResult::Gone => "gone",
        };
        metrics::counter!("numbersd_webhook_attempts_total", "outcome" => label).increment(1);
        metrics::histogram!("numbersd_webhook_attempt_duration_seconds")
            .record(latency.as_secs_f64());
        if !matches!(result, AttemptResult::Retry { .. }) {
            metrics::counter!("numbersd_webhook_deliveries_total", "status" => label).increment(1);
        }
        let attempt = Attempt {
            number: failures,
            at: now,
            status_code,
            latency_ms: latency.as_millis().min(i64::MAX as u128) as i64,
            error,
        };
        self.store().record_attempt(d.id, &attempt, result).await?;
        Ok(result)
    }

    fn retry_or_give_up(&self, d: &Delivery, now: Timestamp, failures: u32) -> AttemptResult {
        let jitter = rand::thread_rng().r#gen::<f64>();
        match self
            .config()
            .webhooks
            .retry
            .next_attempt(d.created_at, now, failures, jitter)
        {
            Some(next_attempt_at) => AttemptResult::Retry { next_attempt_at },
            None => AttemptResult::GaveUp,
        }
    }

    /// Updates the pending-deliveries gauge.
    pub async fn observe_webhook_backlog(&self) -> Result<u64> {
        let pending = self.store().pending_deliveries().await?;
        metrics::gauge!("numbersd_webhook_deliveries_pending").set(pending as f64);
        Ok(pending)
    }
}
