//! Webhooks (`WebhookStore`): subscriptions scoped to their account with optimistic updates, the
//! fan-out cursor moved only from where the caller saw it, de-duplicated enqueueing, claims that
//! honour due times, leases, busy endpoints, per-endpoint limits and inactive subscriptions,
//! attempts with their results (410 Gone switches the subscription off), the delivery log, and a
//! race of concurrent claimers that never hands one delivery out twice.

use std::collections::HashSet;
use std::fmt::Debug;

use numbers_core::clock::Timestamp;
use numbers_core::error::Result;
use numbers_core::event::{Event, EventKind, NewEvent};
use numbers_core::ids::{AccountId, DeliveryId, EventId, SubscriptionId};
use numbers_core::webhook::{
    Attempt, AttemptResult, ClaimedDelivery, Delivery, DeliveryClaim, DeliveryFilter,
    DeliveryStatus, EventTypes, NewSubscription, Rendered, Subscription, SubscriptionPatch,
    WebhookUrl,
};

use crate::fixtures::{self, at, minutes};
use crate::support::{DynStore, all_events, import, new_account};

#[track_caller]
fn ok<T: Debug>(result: Result<T>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("{what} failed: {e:?}"))
}

pub(super) fn subscription(
    account: AccountId,
    url: &str,
    events: &[&str],
    now: Timestamp,
) -> Subscription {
    Subscription::new(
        account,
        NewSubscription {
            url: WebhookUrl::parse(url, "url").unwrap_or_else(|e| panic!("fixture url {url}: {e}")),
            format: "native".into(),
            format_config: serde_json::json!({"k": "v"}),
            events: EventTypes::parse(events.iter().copied(), "events")
                .unwrap_or_else(|e| panic!("fixture events {events:?}: {e}")),
            active: true,
        },
        now,
    )
}

/// A pending delivery of a (made-up) event to the subscription, due at `due`.
pub(super) fn delivery(s: &Subscription, seq: i64, due: Timestamp) -> Delivery {
    let event_id = EventId::new();
    Delivery {
        id: DeliveryId::new(),
        dedupe_key: format!("sub:{}:{event_id}", s.id),
        subscription: Some(s.id),
        account: Some(s.account),
        event_seq: seq,
        event_id,
        event_type: EventKind::OrderCompleted,
        url: s.url.as_str().to_string(),
        target_key: s.url.origin(),
        format: s.format.clone(),
        format_config: s.format_config.clone(),
        signing_secret: None,
        request: Rendered {
            content_type: "application/json".into(),
            headers: vec![("Numbersd-Event-Id".into(), event_id.to_string())],
            body: format!("{{\"seq\":{seq}}}"),
        },
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: due,
        last_status_code: None,
        last_error: None,
        created_at: due,
        updated_at: due,
        completed_at: None,
    }
}

async fn create(store: &DynStore, s: &Subscription) {
    ok(store.create_subscription(s).await, "create_subscription");
}

async fn enqueue(store: &DynStore, deliveries: &[Delivery]) -> u64 {
    ok(
        store.enqueue_deliveries(None, deliveries).await,
        "enqueue_deliveries",
    )
    .unwrap_or_else(|| panic!("enqueue_deliveries without a cursor move must write"))
}

async fn claim(
    store: &DynStore,
    now: Timestamp,
    limit: u32,
    per_endpoint: u32,
    skip: &[&str],
) -> Vec<ClaimedDelivery> {
    ok(
        store
            .claim_deliveries(&DeliveryClaim {
                now,
                lease_until: now + chrono::Duration::minutes(5),
                limit,
                per_endpoint,
                skip_endpoints: skip.iter().map(|s| s.to_string()).collect(),
            })
            .await,
        "claim_deliveries",
    )
}

fn ids(claimed: &[ClaimedDelivery]) -> HashSet<DeliveryId> {
    claimed.iter().map(|c| c.delivery.id).collect()
}

async fn log(store: &DynStore, s: &Subscription, filter: DeliveryFilter) -> Vec<Delivery> {
    ok(
        store.list_deliveries(s.account, s.id, &filter).await,
        "list_deliveries",
    )
    .into_iter()
    .map(|l| l.delivery)
    .collect()
}

fn attempt(at_: Timestamp, code: Option<u16>) -> Attempt {
    Attempt {
        number: 1,
        at: at_,
        status_code: code,
        latency_ms: 12,
        error: code.is_none().then(|| "connection refused".to_string()),
    }
}

pub async fn webhook_subscriptions(store: DynStore) {
    let a = new_account(&store, "a", at(0)).await;
    let b = new_account(&store, "b", at(0)).await;
    let s1 = subscription(a, "https://hooks.example.com/1", &["*"], at(1));
    let s2 = subscription(
        a,
        "https://hooks.example.com/2",
        &["order.completed", "number.assigned"],
        at(2),
    );
    let s3 = subscription(b, "https://other.example.net/x", &["*"], at(3));
    for s in [&s1, &s2, &s3] {
        create(&store, s).await;
    }
    let got = ok(store.get_subscription(a, s2.id).await, "get_subscription");
    assert_eq!(
        got.as_ref(),
        Some(&s2),
        "a subscription reads back as written"
    );
    assert_eq!(
        ok(store.get_subscription(b, s2.id).await, "get_subscription"),
        None,
        "another account's subscription is invisible"
    );
    let mut expected = vec![s1.id, s2.id];
    expected.sort();
    let listed: Vec<SubscriptionId> = ok(store.list_subscriptions(a, None, 10).await, "list")
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, expected, "an account lists only its own, by id");
    let page2 = ok(
        store.list_subscriptions(a, Some(expected[0]), 10).await,
        "list after",
    );
    assert_eq!(
        page2.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![expected[1]]
    );

    let off = SubscriptionPatch {
        active: Some(false),
        ..Default::default()
    }
    .apply(&s1, at(5));
    assert!(
        ok(store.update_subscription(&off).await, "update"),
        "update at the expected version"
    );
    assert!(
        !ok(store.update_subscription(&off).await, "stale update"),
        "an update from a stale version must be refused"
    );
    let rotated = off
        .rotated(chrono::Duration::hours(1), at(6))
        .unwrap_or_else(|e| panic!("rotate: {e}"));
    assert!(ok(store.update_subscription(&rotated).await, "rotate"));
    assert_eq!(
        ok(store.get_subscription(a, s1.id).await, "get").as_ref(),
        Some(&rotated),
        "secrets and flags are stored"
    );
    let active: Vec<SubscriptionId> = ok(store.active_subscriptions().await, "active")
        .iter()
        .map(|s| s.id)
        .collect();
    assert!(
        !active.contains(&s1.id) && active.contains(&s2.id) && active.contains(&s3.id),
        "active_subscriptions lists exactly the active ones: {active:?}"
    );

    // Deleting cancels what is still pending, and only for the owner.
    let pending = delivery(&s2, 1, at(10));
    let mut done = delivery(&s2, 2, at(10));
    done.status = DeliveryStatus::Succeeded;
    enqueue(&store, &[pending.clone(), done.clone()]).await;
    assert!(!ok(
        store.delete_subscription(b, s2.id, at(20)).await,
        "delete by another"
    ));
    assert!(ok(
        store.delete_subscription(a, s2.id, at(20)).await,
        "delete"
    ));
    assert!(!ok(
        store.delete_subscription(a, s2.id, at(21)).await,
        "delete twice"
    ));
    assert_eq!(
        ok(store.get_subscription(a, s2.id).await, "get deleted"),
        None
    );
    let after = log(
        &store,
        &s2,
        DeliveryFilter {
            page_size: 10,
            ..Default::default()
        },
    )
    .await;
    let status = |id| after.iter().find(|d| d.id == id).map(|d| d.status);
    assert_eq!(status(pending.id), Some(DeliveryStatus::Cancelled));
    assert_eq!(status(done.id), Some(DeliveryStatus::Succeeded));
    assert_eq!(ok(store.pending_deliveries().await, "pending"), 0);
}

pub async fn webhook_fanout_cursor(store: DynStore) {
    assert_eq!(
        ok(store.fanout_cursor().await, "cursor"),
        0,
        "an empty log starts at 0"
    );
    import(&store, &[fixtures::seattle("0100")], at(0)).await;
    let events: Vec<Event> = all_events(&store).await;
    let last = events
        .last()
        .map(|e| e.seq)
        .unwrap_or_else(|| panic!("import appends an event"));
    let a = new_account(&store, "a", at(0)).await;
    let s = subscription(a, "https://hooks.example.com/", &["*"], at(0));
    create(&store, &s).await;
    let d = delivery(&s, last, at(1));
    assert_eq!(
        ok(
            store
                .enqueue_deliveries(Some((0, last)), std::slice::from_ref(&d))
                .await,
            "enqueue"
        ),
        Some(1)
    );
    assert_eq!(
        ok(store.fanout_cursor().await, "cursor"),
        last,
        "the cursor moved with the write"
    );
    let other = delivery(&s, last, at(1));
    assert_eq!(
        ok(
            store
                .enqueue_deliveries(Some((0, last)), std::slice::from_ref(&other))
                .await,
            "stale"
        ),
        None,
        "a fan-out from a cursor that moved meanwhile writes nothing"
    );
    assert_eq!(
        ok(store.pending_deliveries().await, "pending"),
        1,
        "the stale batch wrote nothing"
    );
    let mut again = d.clone();
    again.id = DeliveryId::new();
    assert_eq!(
        ok(store.enqueue_deliveries(None, &[again]).await, "dedupe"),
        Some(0),
        "a delivery with a known dedupe key is skipped"
    );
    let id = events[0].event.id;
    assert_eq!(
        ok(store.get_event(id).await, "get_event").as_ref(),
        Some(&events[0])
    );
    assert_eq!(ok(store.get_event(EventId::new()).await, "get_event"), None);
    // Events carry what the fan-out needs to match them.
    let mut e = NewEvent::new(EventKind::OrderCompleted, at(2));
    e.account_id = Some(a);
    assert!(s.accepts(&Event {
        seq: last + 1,
        event: e
    }));
}

pub async fn webhook_claims_and_attempts(store: DynStore) {
    let a = new_account(&store, "a", at(0)).await;
    let one = subscription(a, "https://one.example.com/h", &["*"], at(0));
    let two = subscription(a, "https://two.example.com/h", &["*"], at(0));
    let off = SubscriptionPatch {
        active: Some(false),
        ..Default::default()
    }
    .apply(
        &subscription(a, "https://off.example.com/h", &["*"], at(0)),
        at(0),
    );
    for s in [&one, &two, &off] {
        create(&store, s).await;
    }
    let now = minutes(10);
    let ones: Vec<Delivery> = (1..=3).map(|i| delivery(&one, i, now)).collect();
    let twos: Vec<Delivery> = (4..=6).map(|i| delivery(&two, i, now)).collect();
    let later = delivery(&one, 7, now + chrono::Duration::minutes(1));
    let inactive = delivery(&off, 8, now);
    let mut all = ones.clone();
    all.extend(twos.clone());
    all.push(later.clone());
    all.push(inactive.clone());
    assert_eq!(enqueue(&store, &all).await, 8);
    assert_eq!(ok(store.pending_deliveries().await, "pending"), 8);

    let first = claim(&store, now, 10, 2, &[]).await;
    let expected: HashSet<DeliveryId> = [ones[0].id, ones[1].id, twos[0].id, twos[1].id]
        .into_iter()
        .collect();
    assert_eq!(
        ids(&first),
        expected,
        "two per endpoint, oldest first, due and active only"
    );
    assert!(
        first
            .iter()
            .all(|c| c.subscription.as_ref().map(|s| s.id) == c.delivery.subscription),
        "each claimed delivery comes with its subscription"
    );
    let second = claim(&store, now, 10, 2, &[]).await;
    assert_eq!(
        ids(&second),
        [ones[2].id, twos[2].id].into_iter().collect(),
        "leased deliveries are not claimed again"
    );
    assert!(claim(&store, now, 10, 2, &[]).await.is_empty());
    // Once the leases run out they come back, except on endpoints the caller is busy with.
    let after_lease = now + chrono::Duration::minutes(6);
    let back = claim(&store, after_lease, 10, 10, &[&one.url.origin()]).await;
    assert!(
        back.iter()
            .all(|c| c.delivery.target_key == two.url.origin())
            && back.len() == 3,
        "a busy endpoint is skipped: {:?}",
        back.iter()
            .map(|c| &c.delivery.target_key)
            .collect::<Vec<_>>()
    );
    let limited = claim(&store, after_lease, 2, 10, &[]).await;
    assert_eq!(limited.len(), 2, "limit caps the batch");

    // Attempts: retry later, then success; give up; gone.
    let retry_at = after_lease + chrono::Duration::minutes(30);
    let d = ones[0].id;
    ok(
        store
            .record_attempt(
                d,
                &attempt(after_lease, Some(500)),
                AttemptResult::Retry {
                    next_attempt_at: retry_at,
                },
            )
            .await,
        "record retry",
    );
    let soon = claim(&store, retry_at - chrono::Duration::seconds(1), 10, 10, &[]).await;
    assert!(
        !ids(&soon).contains(&d),
        "not claimable before its next attempt time"
    );
    let due = claim(&store, retry_at, 10, 10, &[]).await;
    assert!(
        ids(&due).contains(&d),
        "claimable once due, even though its old lease was cleared"
    );
    ok(
        store
            .record_attempt(d, &attempt(retry_at, Some(204)), AttemptResult::Succeeded)
            .await,
        "record success",
    );
    ok(
        store
            .record_attempt(ones[1].id, &attempt(retry_at, None), AttemptResult::GaveUp)
            .await,
        "record give-up",
    );
    ok(
        store
            .record_attempt(
                twos[0].id,
                &attempt(retry_at, Some(410)),
                AttemptResult::Gone,
            )
            .await,
        "record gone",
    );
    let two_now = ok(store.get_subscription(a, two.id).await, "get")
        .unwrap_or_else(|| panic!("subscription two exists"));
    assert!(!two_now.active, "410 Gone switches the subscription off");
    assert!(two_now.disabled_reason.is_some() && two_now.version == two.version + 1);
    let far = retry_at + chrono::Duration::hours(1);
    let rest = claim(&store, far, 50, 50, &[]).await;
    assert!(
        rest.iter().all(|c| c.delivery.subscription == Some(one.id)),
        "nothing of a switched-off subscription is claimed"
    );

    let logs = ok(
        store
            .list_deliveries(
                a,
                one.id,
                &DeliveryFilter {
                    page_size: 10,
                    ..Default::default()
                },
            )
            .await,
        "list_deliveries",
    );
    let ordered: Vec<DeliveryId> = logs.iter().map(|l| l.delivery.id).collect();
    let mut newest_first = ordered.clone();
    newest_first.sort_by(|x, y| y.cmp(x));
    assert_eq!(ordered, newest_first, "newest first");
    let succeeded = logs
        .iter()
        .find(|l| l.delivery.id == d)
        .unwrap_or_else(|| panic!("the delivery is listed"));
    assert_eq!(succeeded.delivery.status, DeliveryStatus::Succeeded);
    assert_eq!(succeeded.delivery.attempts, 2);
    assert_eq!(succeeded.delivery.last_status_code, Some(204));
    assert_eq!(succeeded.delivery.completed_at, Some(retry_at));
    assert_eq!(
        succeeded
            .attempts
            .iter()
            .map(|a| (a.number, a.status_code))
            .collect::<Vec<_>>(),
        vec![(1, Some(500)), (2, Some(204))],
        "every attempt is logged, in order"
    );
    let gave_up = logs
        .iter()
        .find(|l| l.delivery.id == ones[1].id)
        .unwrap_or_else(|| panic!("listed"));
    assert_eq!(gave_up.delivery.status, DeliveryStatus::Failed);
    assert_eq!(
        gave_up.attempts[0].error.as_deref(),
        Some("connection refused")
    );
    let failed = log(
        &store,
        &one,
        DeliveryFilter {
            status: Some(DeliveryStatus::Failed),
            page_size: 10,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        failed.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![ones[1].id]
    );
    let page = log(
        &store,
        &one,
        DeliveryFilter {
            page_size: 1,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(page.len(), 2, "page_size + 1 rows prove there is more");
    let next = log(
        &store,
        &one,
        DeliveryFilter {
            page_size: 10,
            before: Some(page[0].id),
            ..Default::default()
        },
    )
    .await;
    assert!(next.iter().all(|d| d.id < page[0].id) && next.len() == logs.len() - 1);
    let by_event = log(
        &store,
        &one,
        DeliveryFilter {
            event_id: Some(later.event_id),
            page_size: 10,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        by_event.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![later.id]
    );
}

pub async fn webhook_claim_race(store: DynStore) {
    let a = new_account(&store, "a", at(0)).await;
    let mut deliveries = Vec::new();
    for i in 0..8 {
        let s = subscription(a, &format!("https://h{i}.example.com/"), &["*"], at(0));
        create(&store, &s).await;
        deliveries.extend((0..10).map(|j| delivery(&s, i * 10 + j, at(1))));
    }
    assert_eq!(enqueue(&store, &deliveries).await, 80);
    let claimers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = claim(&store, at(2), 7, 3, &[]).await;
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got.into_iter().map(|c| c.delivery.id));
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for c in claimers {
        for id in c.await.unwrap_or_else(|e| panic!("claimer task: {e}")) {
            total += 1;
            assert!(seen.insert(id), "delivery {id} was claimed twice");
        }
    }
    assert_eq!(total, 80, "every due delivery was claimed exactly once");
}
