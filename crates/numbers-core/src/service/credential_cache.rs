//! Keys verified a moment ago, with whom they speak for, so that a client's burst of requests
//! costs one key lookup and one account lookup instead of two store reads per request (each a
//! hop to the database's thread pool: a measurable share of a search at thousands per second).
//!
//! What it may delay, and for how long: a revocation through this process (`Service::revoke_key`)
//! takes effect at once (`forget`; only a request that was looking the key up at that very
//! moment can put it back, for at most `CREDENTIAL_TTL`); a revocation by another process (the
//! CLI, a second server on the same database) and an account suspended in the database take
//! effect within `CREDENTIAL_TTL`. The secret is checked on every request against the cached key's hash,
//! exactly as against the stored one; a refused attempt is never cached.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::account::{ApiKey, Principal};

pub(crate) const CREDENTIAL_TTL: Duration = Duration::from_secs(1);
/// Bounds the memory a flood of distinct valid keys could take.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(crate) struct CredentialCache {
    entries: Mutex<HashMap<String, (ApiKey, Principal, Instant)>>,
}

impl CredentialCache {
    pub(crate) fn get(&self, key_id: &str) -> Option<(ApiKey, Principal)> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key_id)
            .filter(|(_, _, verified)| verified.elapsed() < CREDENTIAL_TTL)
            .map(|(key, principal, _)| (key.clone(), *principal))
    }

    pub(crate) fn put(&self, key: ApiKey, principal: Principal) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, _, verified)| verified.elapsed() < CREDENTIAL_TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key.key_id.clone(), (key, principal, Instant::now()));
    }

    pub(crate) fn forget(&self, key_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.remove(key_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::KeyOwner;

    fn key(id: &str) -> ApiKey {
        ApiKey {
            key_id: id.into(),
            owner: KeyOwner::Operator,
            secret_hash: "h".into(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            revoked_at: None,
        }
    }

    #[test]
    fn remembers_until_forgotten() {
        let cache = CredentialCache::default();
        assert!(cache.get("k1").is_none());
        cache.put(key("k1"), Principal::Operator);
        assert_eq!(
            cache.get("k1").map(|(k, p)| (k.key_id, p)),
            Some(("k1".into(), Principal::Operator))
        );
        cache.forget("k1");
        assert!(cache.get("k1").is_none());
    }

    #[test]
    fn stays_bounded() {
        let cache = CredentialCache::default();
        for i in 0..=MAX_ENTRIES {
            cache.put(key(&format!("k{i}")), Principal::Operator);
        }
        let len = cache.entries.lock().unwrap().len();
        assert!(len <= MAX_ENTRIES, "{len}");
    }
}
