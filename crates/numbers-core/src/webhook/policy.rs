//! How the delivery engine paces itself: how long it waits between attempts (`RetryPolicy`) and
//! the settings that bound all of it. Where it may send is `outbound`'s.

use std::time::Duration as StdDuration;

use chrono::Duration;

use crate::clock::Timestamp;

/// Exponential backoff with jitter: the n-th retry waits `initial · 2^(n−1)`, capped at `max`,
/// then drawn uniformly from the upper half of that (so retries of many deliveries that failed
/// together spread out, yet never come sooner than half the schedule). Attempts stop once the
/// next one would fall more than `give_up_after` after the delivery was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
    pub give_up_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::seconds(10),
            max: Duration::hours(1),
            give_up_after: Duration::hours(72),
        }
    }
}

impl RetryPolicy {
    /// The wait after `failures` failed attempts (≥ 1); `jitter` in [0, 1).
    pub fn delay(&self, failures: u32, jitter: f64) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        let full = self
            .initial
            .checked_mul(1 << doublings)
            .unwrap_or(self.max)
            .min(self.max);
        let ms = full.num_milliseconds();
        let jittered = ms / 2 + ((ms as f64 / 2.0) * jitter.clamp(0.0, 1.0)) as i64;
        Duration::milliseconds(jittered.max(1))
    }

    /// When to try again after the `failures`-th failure at `now`, or `None` to give up.
    pub fn next_attempt(
        &self,
        created_at: Timestamp,
        now: Timestamp,
        failures: u32,
        jitter: f64,
    ) -> Option<Timestamp> {
        let next = now + self.delay(failures, jitter);
        (next <= created_at + self.give_up_after).then_some(next)
    }
}

/// Everything the delivery engine is configured with (`[webhooks]` in the TOML file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Allow loopback / private targets (tests, demos, closed networks).
    pub allow_private: bool,
    /// Per-request timeout: a receiver slower than this counts as a failed attempt.
    pub timeout: StdDuration,
    pub retry: RetryPolicy,
    /// Rendered bodies larger than this are not sent (the delivery fails at once, logged).
    pub max_payload_bytes: usize,
    /// Requests in flight at once, over all endpoints (each endpoint has at most one).
    pub concurrency: usize,
    /// How often the worker looks for new events and due retries.
    pub poll_interval: StdDuration,
    /// Events fanned out per transaction.
    pub fanout_batch: u32,
    /// Deliveries claimed per pass, and per endpoint within a pass.
    pub claim_batch: u32,
    pub per_endpoint_batch: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private: false,
            timeout: StdDuration::from_secs(10),
            retry: RetryPolicy::default(),
            max_payload_bytes: 256 * 1024,
            concurrency: 32,
            poll_interval: StdDuration::from_millis(250),
            fanout_batch: 500,
            claim_batch: 200,
            per_endpoint_batch: 20,
        }
    }
}

impl WebhookSettings {
    /// How long a claimed batch stays leased to its worker: long enough for every attempt of a
    /// full per-endpoint batch to time out, so a live worker never loses its lease; a crashed
    /// worker's deliveries come back after it.
    pub fn lease(&self) -> Duration {
        let per_attempt = self.timeout + StdDuration::from_secs(5);
        Duration::from_std(per_attempt * self.per_endpoint_batch.max(1))
            .unwrap_or(Duration::hours(1))
            + Duration::seconds(30)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter_in_the_upper_half() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, 1.0), Duration::seconds(10));
        assert_eq!(p.delay(1, 0.0), Duration::seconds(5));
        assert_eq!(p.delay(2, 1.0), Duration::seconds(20));
        assert_eq!(p.delay(9, 1.0), Duration::seconds(2560));
        assert_eq!(p.delay(10, 1.0), Duration::hours(1));
        assert_eq!(p.delay(40, 0.0), Duration::minutes(30));
        let t0 = chrono::Utc::now();
        assert!(p.next_attempt(t0, t0, 1, 0.5).is_some());
        assert_eq!(
            p.next_attempt(
                t0,
                t0 + Duration::hours(71) + Duration::minutes(31),
                20,
                0.0
            ),
            None
        );
    }
}
