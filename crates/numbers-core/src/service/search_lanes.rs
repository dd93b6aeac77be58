//! Keeping one expensive search from starving the rest. Every search first runs with the
//! store's `Quick` budget; one that used it up without filling its page is remembered and run
//! again — and its repeats directly — in the thorough lane: `Thorough` budget, a few at a time,
//! with a short queue. Beyond that queue a thorough search is refused at once with 503 and
//! `Retry-After` instead of waiting, so a flood of expensive searches costs the server a
//! bounded amount of database time and never takes the connections ordinary searches use.
//!
//! "Remembered" is by the query without its page token, for a minute: the next page of an
//! expensive search is as expensive as the first.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::account::Principal;
use crate::error::{Error, Limit, Result};
use crate::ids::AccountId;
use crate::search::SearchQuery;

/// Thorough searches run at once; more would compete with the quick ones for the cores.
const THOROUGH_AT_ONCE: usize = 1;
/// Thorough searches that may wait for their turn; the next is refused (503).
const THOROUGH_QUEUE: usize = 4;
/// How long an expensive query is remembered.
const REMEMBER_FOR: Duration = Duration::from_secs(60);
/// Expensive queries remembered at most (the memory is cleared when full).
const REMEMBER_AT_MOST: usize = 4096;
/// Searches one account may run at once; its others wait their turn. A search holds a store
/// reader while it runs, and a search new to the server may read a whole quick budget before it
/// is known to be expensive: without a cap, one account's 64 connections of an expensive shape
/// held every reader and starved every other account's searches (issue 15's contention phase).
/// Two leaves the stores' other readers (SQLite keeps 4, PostgreSQL's search pool 8) to others.
const PER_ACCOUNT_AT_ONCE: usize = 2;

/// The thorough lane and the memory of which searches need it.
pub(crate) struct SearchLanes {
    thorough: Semaphore,
    waiting: AtomicUsize,
    expensive: Mutex<HashMap<u64, Instant>>,
    /// Each account's turns (`turn`); one entry per account that has searched.
    accounts: Mutex<HashMap<AccountId, Arc<Semaphore>>>,
}

impl Default for SearchLanes {
    fn default() -> Self {
        SearchLanes {
            thorough: Semaphore::new(THOROUGH_AT_ONCE),
            waiting: AtomicUsize::new(0),
            expensive: Mutex::new(HashMap::new()),
            accounts: Mutex::new(HashMap::new()),
        }
    }
}

/// The query without its page token, hashed.
fn fingerprint(query: &SearchQuery) -> u64 {
    let mut hasher = DefaultHasher::new();
    let first_page = SearchQuery {
        after: None,
        ..query.clone()
    };
    format!("{first_page:?}").hash(&mut hasher);
    hasher.finish()
}

impl SearchLanes {
    /// Whether `query` recently used up the quick budget.
    /// Waits until `caller` may run one more search (at most `PER_ACCOUNT_AT_ONCE` at once per
    /// account; the operator is not capped). Hold the answer while the search runs.
    pub(crate) async fn turn(&self, caller: Principal) -> Option<OwnedSemaphorePermit> {
        let Principal::Account(account) = caller else {
            return None;
        };
        let turns = {
            let mut accounts = self
                .accounts
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(
                accounts
                    .entry(account)
                    .or_insert_with(|| Arc::new(Semaphore::new(PER_ACCOUNT_AT_ONCE))),
            )
        };
        // The semaphore is never closed, so acquiring only fails if it were; then run uncapped.
        turns.acquire_owned().await.ok()
    }

    pub(crate) fn known_expensive(&self, query: &SearchQuery) -> bool {
        let key = fingerprint(query);
        let mut expensive = self
            .expensive
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match expensive.get(&key) {
            Some(since) if since.elapsed() < REMEMBER_FOR => true,
            Some(_) => {
                expensive.remove(&key);
                false
            }
            None => false,
        }
    }

    pub(crate) fn remember_expensive(&self, query: &SearchQuery) {
        let mut expensive = self
            .expensive
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if expensive.len() >= REMEMBER_AT_MOST {
            expensive.clear();
        }
        expensive.insert(fingerprint(query), Instant::now());
    }

    /// Runs `search` in the thorough lane: when it is its turn, or refused at once when the
    /// queue is full.
    pub(crate) async fn thorough<T>(&self, search: impl Future<Output = Result<T>>) -> Result<T> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= THOROUGH_AT_ONCE + THOROUGH_QUEUE {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!("numbersd_search_thorough_refused_total").increment(1);
            return Err(Error::OverLimit(Limit::Overloaded {
                retry_after_seconds: 1,
            }));
        }
        let permit = self.thorough.acquire().await;
        metrics::counter!("numbersd_search_thorough_total").increment(1);
        let out = search.await;
        drop(permit);
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(npa: &str, after: Option<&str>) -> SearchQuery {
        SearchQuery::builder()
            .npa(Some(npa), "npa")
            .build()
            .map(|q| SearchQuery {
                after: after.map(str::to_string),
                ..q
            })
            .unwrap_or_default()
    }

    #[test]
    fn an_expensive_query_is_remembered_whatever_its_page() {
        let lanes = SearchLanes::default();
        assert!(!lanes.known_expensive(&query("206", None)));
        lanes.remember_expensive(&query("206", None));
        assert!(lanes.known_expensive(&query("206", Some("+12065550100"))));
        assert!(!lanes.known_expensive(&query("425", None)));
    }

    #[tokio::test]
    async fn one_account_waits_for_its_turn_while_others_search() {
        use std::pin::pin;
        use std::task::{Context, Poll, Waker};

        let lanes = SearchLanes::default();
        let (busy, other) = (AccountId::new(), AccountId::new());
        let mut held = Vec::new();
        for _ in 0..PER_ACCOUNT_AT_ONCE {
            held.push(lanes.turn(Principal::Account(busy)).await);
        }
        assert!(held.iter().all(Option::is_some));
        let mut cx = Context::from_waker(Waker::noop());
        // The busy account's next search waits…
        let mut next = pin!(lanes.turn(Principal::Account(busy)));
        assert!(next.as_mut().poll(&mut cx).is_pending());
        // …another account's and the operator's do not…
        let mut others = pin!(lanes.turn(Principal::Account(other)));
        assert!(matches!(
            others.as_mut().poll(&mut cx),
            Poll::Ready(Some(_))
        ));
        assert!(lanes.turn(Principal::Operator).await.is_none());
        // …and it runs once one of its searches ends.
        held.pop();
        assert!(matches!(next.as_mut().poll(&mut cx), Poll::Ready(Some(_))));
    }

    #[tokio::test]
    async fn the_thorough_lane_refuses_beyond_its_queue() {
        let lanes = std::sync::Arc::new(SearchLanes::default());
        let (release, hold) = tokio::sync::watch::channel(false);
        let mut running = Vec::new();
        for _ in 0..THOROUGH_AT_ONCE + THOROUGH_QUEUE {
            let lanes = lanes.clone();
            let mut hold = hold.clone();
            running.push(tokio::spawn(async move {
                lanes
                    .thorough(async move {
                        let _ = hold.wait_for(|go| *go).await;
                        Ok(())
                    })
                    .await
            }));
        }
        while lanes.waiting.load(Ordering::Acquire) < THOROUGH_AT_ONCE + THOROUGH_QUEUE {
            tokio::task::yield_now().await;
        }
        let refused = lanes.thorough(async { Ok(()) }).await;
        assert!(
            matches!(refused, Err(Error::OverLimit(Limit::Overloaded { .. }))),
            "{refused:?}"
        );
        let _ = release.send(true);
        for r in running {
            assert!(r.await.unwrap().is_ok());
        }
        assert!(lanes.thorough(async { Ok(()) }).await.is_ok());
    }
}
