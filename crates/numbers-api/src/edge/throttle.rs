//! Token buckets, the one place request rates are counted: per source address (every request),
//! per credential (every authenticated request, keyed by the account or the operator the key
//! speaks for, so a tenant's keys and doors share one budget) and per source address for failed
//! authentications. The guard counts addresses; the doors' auth extractors report each outcome
//! through `admit` / `note_auth_failure`, which find this request's context in a task-local the
//! guard sets, so no door carries rate logic or needs the client's address.
//!
//! Maps are bounded: a bucket that has refilled to full says nothing a missing one would not, so
//! full buckets are swept away (at most once a second) when a map reaches its size cap; if it is
//! still full, new keys go untracked rather than evicting someone's empty bucket (the global
//! concurrency limit still holds).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use numbers_core::account::Principal;
use numbers_core::error::{Error, Limit};
use numbers_core::ids::AccountId;

use super::{Dialect, EdgeLimits};

/// A token bucket's shape: `burst` requests at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

/// Most keys one bucket map tracks.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Buckets<K> {
    rate: Rate,
    state: Mutex<BucketMap<K>>,
}

struct BucketMap<K> {
    buckets: HashMap<K, Bucket>,
    last_sweep: Option<Instant>,
}

impl<K: Hash + Eq + Copy> Buckets<K> {
    fn new(rate: Rate) -> Self {
        Buckets {
            rate,
            state: Mutex::new(BucketMap {
                buckets: HashMap::new(),
                last_sweep: None,
            }),
        }
    }

    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.rate.per_second).min(f64::from(self.rate.burst))
    }

    /// Seconds until one token is back, given what is left.
    fn wait_for_token(&self, tokens: f64) -> u64 {
        if self.rate.per_second <= 0.0 {
            return 3600;
        }
        let seconds = ((1.0 - tokens) / self.rate.per_second).ceil();
        (seconds as u64).clamp(1, 3600)
    }

    /// Takes one token, or says how long until there is one.
    fn take(&self, key: K, now: Instant) -> Result<(), u64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let tokens = match state.buckets.get(&key) {
            Some(bucket) => self.refilled(*bucket, now),
            None => {
                if !self.room_for_one_more(&mut state, now) {
                    return Ok(());
                }
                f64::from(self.rate.burst)
            }
        };
        if tokens >= 1.0 {
            state.buckets.insert(
                key,
                Bucket {
                    tokens: tokens - 1.0,
                    at: now,
                },
            );
            Ok(())
        } else {
            state.buckets.insert(key, Bucket { tokens, at: now });
            Err(self.wait_for_token(tokens))
        }
    }

    /// `Some(seconds)` while the bucket has no token left (nothing is taken).
    fn empty_for(&self, key: K, now: Instant) -> Option<u64> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let tokens = self.refilled(*state.buckets.get(&key)?, now);
        (tokens < 1.0).then(|| self.wait_for_token(tokens))
    }

    fn room_for_one_more(&self, state: &mut BucketMap<K>, now: Instant) -> bool {
        if state.buckets.len() < MAX_KEYS {
            return true;
        }
        let swept_recently = state
            .last_sweep
            .is_some_and(|at| now.saturating_duration_since(at) < Duration::from_secs(1));
        if !swept_recently {
            state.last_sweep = Some(now);
            let full = f64::from(self.rate.burst);
            let rate = self.rate;
            state.buckets.retain(|_, b| {
                let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
                b.tokens + elapsed * rate.per_second < full
            });
        }
        state.buckets.len() < MAX_KEYS
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .buckets
            .len()
    }
}

/// Whose budget a request spends: an IPv4 address, or an IPv6 /64 (one host usually holds a
/// whole /64, so counting single IPv6 addresses would let it rotate through 2^64 of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressKey(IpAddr);

impl AddressKey {
    pub fn of(ip: IpAddr) -> Self {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            v4 => v4,
        };
        AddressKey(ip)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum CredentialKey {
    Operator,
    Account(AccountId),
}

/// Why a request was throttled (the metric's `reason`).
#[derive(Debug, Clone, Copy)]
enum Reason {
    Address,
    Credential,
    AuthFailures,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Address => "per_address",
            Reason::Credential => "per_credential",
            Reason::AuthFailures => "auth_failures",
        }
    }
}

/// The three throttles of one server.
pub struct Throttle {
    per_address: Option<Buckets<AddressKey>>,
    per_credential: Option<Buckets<CredentialKey>>,
    auth_failures: Option<Buckets<AddressKey>>,
}

impl Throttle {
    pub fn new(limits: &EdgeLimits) -> Self {
        Throttle {
            per_address: limits.per_address.map(Buckets::new),
            per_credential: limits.per_credential.map(Buckets::new),
            auth_failures: limits.auth_failures.map(Buckets::new),
        }
    }

    /// Before anything else: an address that used up its failed authentications, or its
    /// request budget, is refused.
    pub fn admit_address(&self, address: AddressKey, dialect: Dialect) -> Result<(), Error> {
        let now = Instant::now();
        if let Some(seconds) = self
            .auth_failures
            .as_ref()
            .and_then(|b| b.empty_for(address, now))
        {
            return Err(refused(Reason::AuthFailures, dialect, seconds));
        }
        match &self.per_address {
            Some(buckets) => buckets
                .take(address, now)
                .map_err(|seconds| refused(Reason::Address, dialect, seconds)),
            None => Ok(()),
        }
    }

    fn admit_principal(&self, principal: Principal, dialect: Dialect) -> Result<(), Error> {
        let Some(buckets) = &self.per_credential else {
            return Ok(());
        };
        let key = match principal {
            Principal::Operator => CredentialKey::Operator,
            Principal::Account(id) => CredentialKey::Account(id),
        };
        buckets
            .take(key, Instant::now())
            .map_err(|seconds| refused(Reason::Credential, dialect, seconds))
    }

    fn auth_failed(&self, address: AddressKey) {
        if let Some(buckets) = &self.auth_failures {
            // An empty bucket is already refusing this address; nothing more to count.
            let _ = buckets.take(address, Instant::now());
        }
        metrics::counter!("numbersd_auth_failures_total").increment(1);
    }
}

fn refused(reason: Reason, dialect: Dialect, retry_after_seconds: u64) -> Error {
    super::count_refusal(reason.as_str(), dialect);
    Error::OverLimit(Limit::TooManyRequests {
        retry_after_seconds,
    })
}

/// What the auth hooks need to know about the request being handled.
#[derive(Clone)]
pub(super) struct RequestEdge {
    pub throttle: Arc<Throttle>,
    pub address: Option<AddressKey>,
    pub dialect: Dialect,
}

tokio::task_local! {
    pub(super) static REQUEST_EDGE: RequestEdge;
}

fn current() -> Option<RequestEdge> {
    REQUEST_EDGE.try_with(RequestEdge::clone).ok()
}

/// The hook every door's authentication goes through: a rejected credential counts against the
/// client's address, an accepted one spends from its account's budget (`TooManyRequests` when
/// there is none left). Outside a request (unit tests of a door) it passes the outcome through.
pub fn admit(outcome: Result<Principal, Error>) -> Result<Principal, Error> {
    let Some(edge) = current() else {
        return outcome;
    };
    match outcome {
        Ok(principal) => {
            edge.throttle.admit_principal(principal, edge.dialect)?;
            Ok(principal)
        }
        Err(Error::Unauthorized) => {
            if let Some(address) = edge.address {
                edge.throttle.auth_failed(address);
            }
            Err(Error::Unauthorized)
        }
        Err(other) => Err(other),
    }
}

/// A credential rejected outside `admit`'s `Unauthorized` (a bad HMAC signature, an OAuth2
/// client that failed to authenticate).
pub fn note_auth_failure() {
    if let Some(edge) = current()
        && let Some(address) = edge.address
    {
        edge.throttle.auth_failed(address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_second: f64, burst: u32) -> Rate {
        Rate { per_second, burst }
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_until_it_refills() {
        let b = Buckets::new(rate(2.0, 3));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(b.take(1u8, t0), Ok(()));
        }
        assert_eq!(b.take(1, t0), Err(1), "one token back in 0.5 s → 1 s");
        assert_eq!(b.take(2, t0), Ok(()), "other keys have their own bucket");
        assert_eq!(b.take(1, t0 + Duration::from_millis(600)), Ok(()));
        assert!(b.take(1, t0 + Duration::from_millis(600)).is_err());
        // Never more than the burst, however long the wait.
        let later = t0 + Duration::from_secs(3600);
        for _ in 0..3 {
            assert_eq!(b.take(1, later), Ok(()));
        }
        assert!(b.take(1, later).is_err());
    }

    #[test]
    fn retry_after_is_the_time_to_the_next_token() {
        let b = Buckets::new(rate(0.1, 1));
        let t0 = Instant::now();
        assert_eq!(b.take(1u8, t0), Ok(()));
        assert_eq!(b.take(1, t0), Err(10));
        assert_eq!(b.empty_for(1, t0 + Duration::from_secs(5)), Some(5));
        assert_eq!(b.empty_for(1, t0 + Duration::from_secs(10)), None);
        assert_eq!(b.empty_for(9, t0), None, "unknown keys are not empty");
    }

    #[test]
    fn full_buckets_are_swept_when_the_map_is_full() {
        let b = Buckets::new(rate(1000.0, 1));
        let t0 = Instant::now();
        for key in 0..MAX_KEYS as u32 {
            assert_eq!(b.take(key, t0), Ok(()));
        }
        assert_eq!(b.len(), MAX_KEYS);
        // A new key while every bucket is still empty: tracked keys stay, the new one is let
        // through untracked.
        assert_eq!(b.take(u32::MAX, t0), Ok(()));
        assert_eq!(b.len(), MAX_KEYS);
        assert!(b.take(0, t0).is_err(), "an empty bucket was not evicted");
        // A second later every bucket is full again: swept, and the new key is tracked.
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(b.take(u32::MAX, t1), Ok(()));
        assert!(b.len() < 10, "{}", b.len());
    }

    #[test]
    fn ipv6_addresses_count_per_64_and_mapped_v4_as_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(AddressKey::of(a), AddressKey::of(b));
        assert_ne!(AddressKey::of(a), AddressKey::of(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(AddressKey::of(mapped), AddressKey::of(v4));
    }

    #[test]
    fn failed_authentications_block_the_address_until_they_refill() {
        let limits = EdgeLimits {
            auth_failures: Some(rate(1.0, 2)),
            ..EdgeLimits::default()
        };
        let throttle = Throttle::new(&limits);
        let me = AddressKey::of("192.0.2.1".parse().unwrap());
        let other = AddressKey::of("192.0.2.2".parse().unwrap());
        assert!(throttle.admit_address(me, Dialect::Native).is_ok());
        throttle.auth_failed(me);
        assert!(throttle.admit_address(me, Dialect::Native).is_ok());
        throttle.auth_failed(me);
        let refused = throttle.admit_address(me, Dialect::Native).unwrap_err();
        assert!(matches!(
            refused,
            Error::OverLimit(Limit::TooManyRequests {
                retry_after_seconds: 1
            })
        ));
        assert!(throttle.admit_address(other, Dialect::Native).is_ok());
    }
}
