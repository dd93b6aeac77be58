//! The rules of the road for outgoing requests: what a webhook URL is (`WebhookUrl`), where the
//! engine refuses to send (this server itself always; loopback, private and link-local ranges
//! unless the operator allows them — a webhook must not become a way to reach the operator's
//! internal network), how long it waits between attempts (`RetryPolicy`), and the settings that
//! bound all of it.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration as StdDuration;

use chrono::Duration;

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::number::assignment::parse_callback_url;

/// An absolute http(s) URL, split into the parts the policy looks at. No user info: credentials
/// for the receiver belong in the format's configuration, not in a URL that gets logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    raw: String,
    https: bool,
    host: String,
    port: u16,
}

impl WebhookUrl {
    pub fn parse(s: &str, field: &str) -> Result<Self> {
        let raw = parse_callback_url(s, field)?;
        let (https, rest) = match raw.strip_prefix("https://") {
            Some(rest) => (true, rest),
            None => (false, raw.strip_prefix("http://").unwrap_or(&raw)),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let bad = |why: &str| Error::invalid(field, why.to_string());
        if authority.contains('@') {
            return Err(bad("must not carry credentials (user:password@)"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("has an unterminated IPv6 address"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let port = match port {
            None => {
                if https {
                    443
                } else {
                    80
                }
            }
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("has an invalid port"))?,
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() {
            return Err(bad("must name a host"));
        }
        Ok(WebhookUrl {
            raw,
            https,
            host,
            port,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// `scheme://host:port`: the unit of "one request in flight per endpoint".
    pub fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        match self.ip_literal() {
            Some(IpAddr::V6(ip)) => format!("{scheme}://[{ip}]:{}", self.port),
            _ => format!("{scheme}://{}:{}", self.host, self.port),
        }
    }

    pub fn ip_literal(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

impl std::fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Loopback, unspecified, private (RFC 1918, unique-local), carrier-grade NAT, link-local
/// (cloud metadata services live there), multicast and broadcast addresses.
pub fn is_private_or_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_unspecified()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_or_local(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Where deliveries may go. `self_addresses` are this server's own listeners (known at launch).
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    pub allow_private: bool,
    pub self_addresses: Vec<SocketAddr>,
}

impl AddressPolicy {
    fn is_self(&self, ip: Option<IpAddr>, host: &str, port: u16) -> bool {
        self.self_addresses.iter().any(|own| {
            own.port() == port
                && (host == "localhost"
                    || ip.is_some_and(|ip| {
                        ip == own.ip()
                            || ip.is_loopback()
                            || ip.is_unspecified()
                            || own.ip().is_unspecified() && is_private_or_local(ip)
                    }))
        })
    }

    /// Checks a URL as written (its host may still resolve somewhere refused: `allows` checks
    /// each resolved address again at send time).
    pub fn check_url(&self, url: &WebhookUrl, field: &str) -> Result<()> {
        let ip = url.ip_literal();
        if self.is_self(ip, url.host(), url.port()) {
            return Err(Error::invalid(
                field,
                "must not point at this server itself",
            ));
        }
        let local_name = url.host() == "localhost" || url.host().ends_with(".localhost");
        if !self.allow_private && (local_name || ip.is_some_and(is_private_or_local)) {
            return Err(Error::invalid(
                field,
                "points at a loopback or private address; the operator has not allowed those \
                 (webhooks.allow_private / NUMBERSD_WEBHOOKS_ALLOW_PRIVATE)",
            ));
        }
        Ok(())
    }

    /// Whether a resolved address may be connected to.
    pub fn allows(&self, addr: SocketAddr) -> bool {
        !self.is_self(Some(addr.ip()), "", addr.port())
            && (self.allow_private || !is_private_or_local(addr.ip()))
    }
}

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
    fn urls_parse_into_parts() {
        let u = WebhookUrl::parse("https://Hooks.Example.com/a?b=1", "url").unwrap();
        assert_eq!(
            (u.host(), u.port(), u.is_https()),
            ("hooks.example.com", 443, true)
        );
        assert_eq!(u.origin(), "https://hooks.example.com:443");
        let u = WebhookUrl::parse("http://127.0.0.1:8081/x", "url").unwrap();
        assert_eq!(u.ip_literal(), Some("127.0.0.1".parse().unwrap()));
        let u = WebhookUrl::parse("http://[::1]:9000", "url").unwrap();
        assert_eq!(u.origin(), "http://[::1]:9000");
        assert!(WebhookUrl::parse("http://user:pw@example.com/", "url").is_err());
        assert!(WebhookUrl::parse("ftp://example.com/", "url").is_err());
        assert!(WebhookUrl::parse("http://example.com:0/", "url").is_err());
        assert!(WebhookUrl::parse("http://:80/", "url").is_err());
    }

    #[test]
    fn private_targets_need_permission_and_self_is_always_refused() {
        let own: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let strict = AddressPolicy {
            allow_private: false,
            self_addresses: vec![own],
        };
        let open = AddressPolicy {
            allow_private: true,
            ..strict.clone()
        };
        for url in [
            "http://10.1.2.3/",
            "http://192.168.0.1/",
            "http://169.254.169.254/latest",
            "http://localhost:9000/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]:1/",
        ] {
            let u = WebhookUrl::parse(url, "url").unwrap();
            assert!(strict.check_url(&u, "url").is_err(), "{url}");
            assert!(open.check_url(&u, "url").is_ok(), "{url}");
        }
        let public = WebhookUrl::parse("https://8.8.8.8/hook", "url").unwrap();
        assert!(strict.check_url(&public, "url").is_ok());
        for url in [
            "http://127.0.0.1:8080/",
            "http://localhost:8080/x",
            "http://0.0.0.0:8080/",
        ] {
            let u = WebhookUrl::parse(url, "url").unwrap();
            assert!(
                open.check_url(&u, "url").is_err(),
                "{url} is the server itself"
            );
        }
        assert!(!open.allows(own));
        assert!(open.allows("127.0.0.1:9999".parse().unwrap()));
        assert!(!strict.allows("127.0.0.1:9999".parse().unwrap()));
        assert!(strict.allows("8.8.8.8:443".parse().unwrap()));
    }

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
