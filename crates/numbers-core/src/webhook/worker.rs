//! The delivery worker of a server process: fan out new events, claim due deliveries, and send
//! them — one request in flight per endpoint (a lane per endpoint, each working through its
//! claimed batch in order) and at most `concurrency` in all, so a slow or hanging receiver only
//! ever holds up its own deliveries. Sending goes through a `Transport`, so this crate stays free
//! of HTTP clients (numbersd plugs in reqwest) and tests can plug in anything.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::service::Service;

use super::delivery::{AttemptResult, ClaimedDelivery};

/// One POST, fully prepared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingRequest {
    pub url: String,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub timeout: Duration,
    /// Credentials for an HTTP Basic challenge (`Renderer::challenge_credentials`): the request
    /// is sent without them first; only if the receiver answers 401 with a
    /// `WWW-Authenticate: Basic …` challenge is it sent once more, with them, and that second
    /// answer is the outcome. A 401 without a Basic challenge is an ordinary failed attempt.
    pub basic_on_challenge: Option<BasicCredentials>,
}

/// A user name and password for HTTP Basic; `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Whether a `WWW-Authenticate` value offers the Basic scheme (`Basic realm="…"`, any case,
/// possibly among other comma-separated challenges).
pub fn offers_basic(www_authenticate: &str) -> bool {
    www_authenticate.split(',').any(|challenge| {
        let scheme = challenge.split_whitespace().next().unwrap_or("");
        scheme.eq_ignore_ascii_case("basic")
    })
}

/// What became of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered with this status code.
    Answered(u16),
    /// No answer: refused address, connection error, timeout… (the reason).
    NotSent(String),
}

#[async_trait]
pub trait Transport: Send + Sync {
    /// Sends the request, giving up after `request.timeout`. Never follows redirects: a 3xx is
    /// an answer like any other non-2xx. Honours `request.basic_on_challenge` (one resend after
    /// a 401 whose `WWW-Authenticate` offers Basic, see `offers_basic`).
    async fn post(&self, request: OutgoingRequest) -> Outcome;
}

/// How often the pending-deliveries gauge is refreshed.
const BACKLOG_EVERY: Duration = Duration::from_secs(5);

pub async fn run_webhook_worker(
    service: Service,
    transport: Arc<dyn Transport>,
    mut shutdown: watch::Receiver<bool>,
) {
    let settings = service.config().webhooks.clone();
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let busy: Arc<Mutex<HashSet<String>>> = Arc::default();
    let lane_done = Arc::new(Notify::new());
    let mut lanes = JoinSet::new();
    let mut backlog_at: Option<Instant> = None;
    while !*shutdown.borrow() {
        loop {
            match service.fan_out_webhooks().await {
                Ok(n) if n as u32 >= settings.fanout_batch => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook fan-out failed");
                    break;
                }
            }
        }
        let skip: Vec<String> = lock(&busy).iter().cloned().collect();
        let mut claimed_all = false;
        match service.claim_webhook_deliveries(skip).await {
            Ok(claimed) => {
                claimed_all = claimed.len() as u32 >= settings.claim_batch;
                let mut by_endpoint: HashMap<String, Vec<ClaimedDelivery>> = HashMap::new();
                for c in claimed {
                    by_endpoint
                        .entry(c.delivery.target_key.clone())
                        .or_default()
                        .push(c);
                }
                for (endpoint, batch) in by_endpoint {
                    lock(&busy).insert(endpoint.clone());
                    lanes.spawn(lane(
                        service.clone(),
                        Arc::clone(&transport),
                        Arc::clone(&permits),
                        endpoint,
                        batch,
                        Arc::clone(&busy),
                        Arc::clone(&lane_done),
                    ));
                }
            }
            Err(e) => tracing::warn!(error = %e, "claiming webhook deliveries failed"),
        }
        while lanes.try_join_next().is_some() {}
        if backlog_at.is_none_or(|t| t.elapsed() >= BACKLOG_EVERY) {
            backlog_at = Some(Instant::now());
            if let Err(e) = service.observe_webhook_backlog().await {
                tracing::warn!(error = %e, "counting pending webhook deliveries failed");
            }
        }
        if claimed_all {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            _ = lane_done.notified() => {}
            _ = tokio::time::sleep(settings.poll_interval) => {}
            _ = shutdown.changed() => {}
        }
    }
    // Attempts cut off here were not recorded: their leases run out and another pass (of this
    // or another process) sends them again — at least once, never lost.
    lanes.shutdown().await;
}

async fn lane(
    service: Service,
    transport: Arc<dyn Transport>,
    permits: Arc<Semaphore>,
    endpoint: String,
    batch: Vec<ClaimedDelivery>,
    busy: Arc<Mutex<HashSet<String>>>,
    done: Arc<Notify>,
) {
    // Subscriptions that answered 410 Gone during this batch: the rest of their deliveries are
    // not sent (they stay PENDING under an inactive subscription, which claims skip).
    let mut gone = HashSet::new();
    for claimed in batch {
        let subscription = claimed.delivery.subscription;
        if subscription.is_some_and(|s| gone.contains(&s)) {
            continue;
        }
        let Ok(_permit) = permits.acquire().await else {
            break;
        };
        let id = claimed.delivery.id;
        match service.attempt_delivery(transport.as_ref(), claimed).await {
            Ok(AttemptResult::Gone) => gone.extend(subscription),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(delivery = %id, error = %e, "recording a webhook attempt failed")
            }
        }
    }
    lock(&busy).remove(&endpoint);
    done.notify_one();
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_challenges_are_recognised() {
        assert!(offers_basic("Basic realm=\"\""));
        assert!(offers_basic("basic"));
        assert!(offers_basic("Bearer realm=\"a\", Basic realm=\"b\""));
        assert!(!offers_basic("Bearer realm=\"a\""));
        assert!(!offers_basic("Basically"));
        assert!(!offers_basic(""));
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let c = BasicCredentials {
            username: "u".into(),
            password: "s3cret".into(),
        };
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
