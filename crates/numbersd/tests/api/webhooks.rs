//! Webhooks end to end, against a real receiver on 127.0.0.1 and the real server: signatures
//! (and the documented verification example), secret rotation, retries with backoff on the
//! manual clock, 410 Gone, pending deliveries surviving a restart, a hanging endpoint among ten,
//! replay and catch-up polling in order, two server processes on one database without
//! duplicates, per-resource targets from a `TargetResolver`, the URL safety rules and metrics.
//! Each scenario runs on SQLite and on PostgreSQL.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Duration as Span;
use numbers_core::event::{Event, EventKind};
use numbers_core::service::Service;
use numbers_core::webhook::signature::verify_v1;
use numbers_core::webhook::{ResolvedTarget, TargetResolver, WebhookUrl};
use numbersd::startup::webhook_registry;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    AppOptions, Backend, Creds, INVENTORY_CSV, Tenant, TestApp, assert_problem, fresh_database,
    on_both_databases, spawn_app_owning, spawn_app_with,
};
use crate::receiver::{Received, Receiver};

const WAIT: Duration = Duration::from_secs(60);

on_both_databases!(
    signed_payloads_and_rotation,
    retries_with_backoff_then_exactly_once,
    gone_disables_the_webhook,
    pending_deliveries_survive_a_restart,
    a_hanging_endpoint_does_not_stall_the_others,
    replay_and_catch_up_in_order,
    two_servers_one_database_no_duplicates,
    resolver_targets_without_a_subscription,
);

async fn app_on(backend: Backend, options: AppOptions) -> Option<TestApp> {
    let url = fresh_database(backend).await?;
    Some(spawn_app_owning(url, options).await)
}

/// Subscribes; returns the create answer (with its secret).
async fn subscribe(app: &TestApp, creds: &Creds, body: Value) -> Value {
    let res = app.post(creds, "/v1/webhooks", body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn own(app: &TestApp, t: &Tenant, numbers: &[&str]) {
    let order = app.order(&t.creds, json!({"numbers": numbers})).await;
    let order = app
        .settled_order(&t.creds, order["id"].as_str().unwrap())
        .await;
    assert_eq!(order["status"], "COMPLETE");
}

async fn label(app: &TestApp, t: &Tenant, number: &str, label: &str) {
    let res = app
        .request(Method::PATCH, &t.creds, &format!("/v1/numbers/{number}"))
        .json(&json!({ "label": label }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn deliveries(app: &TestApp, t: &Tenant, webhook: &str) -> Vec<Value> {
    let res = app
        .get(&t.creds, &format!("/v1/webhooks/{webhook}/deliveries"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["data"]
        .as_array()
        .unwrap()
        .clone()
}

/// The delivery log once it holds `n` deliveries and none is PENDING.
async fn settled_deliveries(app: &TestApp, t: &Tenant, webhook: &str, n: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let log = deliveries(app, t, webhook).await;
        if log.len() == n && log.iter().all(|d| d["status"] != "PENDING") {
            return log;
        }
        assert!(
            started.elapsed() < WAIT,
            "deliveries never settled: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Checks the native headers and signature of a request with `secret`.
fn assert_signed(r: &Received, secret: &str) {
    let ts: i64 = r.header("numbersd-timestamp").parse().unwrap();
    let signature = r.header("numbersd-signature");
    assert!(signature.starts_with("v1="), "{signature}");
    assert!(
        verify_v1(&signature, secret, ts, r.body.as_bytes()),
        "signature {signature} does not verify with the secret"
    );
    assert_eq!(r.header("numbersd-event-id"), r.event_id());
    assert_eq!(r.header("content-type"), "application/json");
}

async fn signed_payloads_and_rotation(backend: Backend) {
    let Some(app) = app_on(backend, AppOptions::default()).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    let receiver = Receiver::start().await;
    let created = subscribe(
        &app,
        &a.creds,
        json!({"url": receiver.url, "events": ["number.assigned", "number.updated"]}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(
        created["events"],
        json!(["number.assigned", "number.updated"])
    );
    assert_eq!(created["active"], true);
    assert_eq!(created["format"], "native");
    let shown: Value = app
        .get(&a.creds, &format!("/v1/webhooks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        shown.get("secret").is_none(),
        "the secret is shown only once"
    );

    own(&app, &a, &["+12065550100"]).await;
    let got = receiver.wait_for_deliveries(1, WAIT).await;
    let r = &got[0];
    assert_signed(r, &secret);
    let body = r.json();
    assert_eq!(body["type"], "number.assigned");
    assert_eq!(body["account_id"], a.id.as_str());
    assert_eq!(body["e164"], "+12065550100");
    assert_eq!(body["resource"]["type"], "number");
    assert_eq!(body["resource"]["e164"], "+12065550100");
    assert!(body["resource"]["version"].as_i64().unwrap() >= 1);
    assert!(body["occurred_at"].as_str().unwrap().ends_with('Z'));
    assert!(body["order_id"].is_string());
    let events: Value = app
        .get(&a.creds, "/v1/events?after=0&limit=1000")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        events["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == body["event_id"] && e["seq"] == body["seq"]),
        "the payload's event_id and seq are the log's"
    );

    // Rotation with an overlap: two signatures, one per secret, until the overlap ends.
    let rotated: Value = app
        .post(
            &a.creds,
            &format!("/v1/webhooks/{id}/rotate-secret"),
            json!({"overlap_seconds": 3600}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert!(rotated["previous_secret_expires_at"].is_string());
    label(&app, &a, "+12065550100", "first").await;
    let got = receiver.wait_for_deliveries(2, WAIT).await;
    let during = &got[1];
    assert_eq!(during.json()["type"], "number.updated");
    let header = during.header("numbersd-signature");
    assert_eq!(header.matches("v1=").count(), 2, "{header}");
    assert_signed(during, &new_secret);
    assert_signed(during, &secret);
    app.clock.advance(Span::hours(2));
    label(&app, &a, "+12065550100", "second").await;
    let got = receiver.wait_for_deliveries(3, WAIT).await;
    let after = &got[2];
    assert_eq!(after.header("numbersd-signature").matches("v1=").count(), 1);
    assert_signed(after, &new_secret);
    let ts: i64 = after.header("numbersd-timestamp").parse().unwrap();
    assert!(!verify_v1(
        &after.header("numbersd-signature"),
        &secret,
        ts,
        after.body.as_bytes()
    ));
    assert_eq!(receiver.requests().len(), 3, "nothing was sent twice");

    // The delivery log shows each delivery with its attempt (recorded just after the answer).
    let log = settled_deliveries(&app, &a, &id, 3).await;
    assert!(log.iter().all(|d| d["status"] == "SUCCEEDED"
        && d["attempts"].as_array().unwrap().len() == 1
        && d["attempts"][0]["status_code"] == 200));
}

/// Waits a little with the clock standing still and checks nothing more arrived.
async fn assert_quiet(receiver: &Receiver, expected: usize) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.requests().len(),
        expected,
        "no attempt may come before its backoff has passed"
    );
}

async fn retries_with_backoff_then_exactly_once(backend: Backend) {
    let Some(app) = app_on(backend, AppOptions::default()).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    own(&app, &a, &["+12065550101"]).await;
    let receiver = Receiver::start().await;
    receiver.fail_next(5, 503);
    let created = subscribe(
        &app,
        &a.creds,
        json!({"url": receiver.url, "events": ["number.updated"]}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    label(&app, &a, "+12065550101", "retry me").await;
    for attempt in 1..=5 {
        receiver.wait_for_requests(attempt, WAIT).await;
        assert_quiet(&receiver, attempt).await;
        let log = deliveries(&app, &a, id).await;
        assert_eq!(log[0]["status"], "PENDING");
        assert_eq!(log[0]["last_status_code"], 503);
        // Backoff is at most an hour (jittered): two hours is always enough.
        app.clock.advance(Span::hours(2));
    }
    let got = receiver.wait_for_deliveries(1, WAIT).await;
    assert_eq!(got[0].json()["type"], "number.updated");
    for _ in 0..3 {
        app.clock.advance(Span::hours(2));
        assert_quiet(&receiver, 6).await;
    }
    let requests = receiver.requests();
    assert_eq!(
        requests.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![503, 503, 503, 503, 503, 200]
    );
    let ids: HashSet<String> = requests.iter().map(Received::event_id).collect();
    assert_eq!(ids.len(), 1, "six attempts at the same event");
    let log = settled_deliveries(&app, &a, id, 1).await;
    assert_eq!(log[0]["status"], "SUCCEEDED");
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 6);
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = attempts
        .iter()
        .map(|a| chrono::DateTime::parse_from_rfc3339(a["at"].as_str().unwrap()).unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[1] - w[0] >= Span::seconds(5)),
        "attempts are spaced by the backoff: {times:?}"
    );
}

async fn gone_disables_the_webhook(backend: Backend) {
    let Some(app) = app_on(backend, AppOptions::default()).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    own(&app, &a, &["+12065550123"]).await;
    let receiver = Receiver::start().await;
    receiver.answer_gone();
    // Created after the order's events, so the label's event is the first it gets.
    app.clock.advance(Span::seconds(1));
    let created = subscribe(&app, &a.creds, json!({"url": receiver.url})).await;
    let id = created["id"].as_str().unwrap();
    label(&app, &a, "+12065550123", "x").await;
    receiver.wait_for_requests(1, WAIT).await;
    let started = Instant::now();
    loop {
        let shown: Value = app
            .get(&a.creds, &format!("/v1/webhooks/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if shown["active"] == false {
            assert!(shown["disabled_reason"].as_str().unwrap().contains("410"));
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "410 Gone never disabled the webhook"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    label(&app, &a, "+12065550123", "y").await;
    app.clock.advance(Span::hours(2));
    assert_quiet(&receiver, 1).await;
    let log = settled_deliveries(&app, &a, id, 1).await;
    assert_eq!(log[0]["status"], "FAILED");
}

async fn pending_deliveries_survive_a_restart(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let options = AppOptions::default();
    let clock = Arc::clone(&options.clock);
    let app = spawn_app_with(&url, options).await;
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    own(&app, &a, &["+19195550142"]).await;
    let receiver = Receiver::start().await;
    let port = receiver.port;
    let created = subscribe(
        &app,
        &a.creds,
        json!({"url": receiver.url, "events": ["number.updated"]}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    receiver.stop();
    label(&app, &a, "+19195550142", "while down").await;
    // The first attempt finds nobody listening and is scheduled for later.
    let started = Instant::now();
    while deliveries(&app, &a, &id)
        .await
        .first()
        .is_none_or(|d| d["attempts"].as_array().unwrap().is_empty())
    {
        assert!(started.elapsed() < WAIT, "the first attempt never happened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.shutdown().await;

    let receiver = Receiver::start_on(port).await;
    let again = spawn_app_with(
        &url,
        AppOptions {
            clock: Arc::clone(&clock),
            ..AppOptions::default()
        },
    )
    .await;
    clock.advance(Span::hours(2));
    let got = receiver.wait_for_deliveries(1, WAIT).await;
    assert_eq!(got[0].json()["type"], "number.updated");
    assert_eq!(got[0].json()["data"]["label"], "while down");
    clock.advance(Span::hours(2));
    assert_quiet(&receiver, 1).await;
    let log = settled_deliveries(&again, &a, &id, 1).await;
    assert_eq!(log[0]["status"], "SUCCEEDED");
    assert_eq!(log[0]["attempts"].as_array().unwrap().len(), 2);
}

/// `count` numbers +1206201xxxx as CSV.
fn block_csv(count: usize) -> String {
    let mut csv = String::from("e164,type,capabilities,rate_center,state\n");
    for i in 0..count {
        csv.push_str(&format!("+1206201{i:04},LOCAL,SMS|VOICE,SEATTLE,WA\n"));
    }
    csv
}

async fn order_block(app: &TestApp, t: &Tenant, quantity: usize) {
    let order = app
        .order(
            &t.creds,
            json!({"search": {"npa_nxx": "206201"}, "quantity": quantity}),
        )
        .await;
    let order = app
        .settled_order(&t.creds, order["id"].as_str().unwrap())
        .await;
    assert_eq!(order["status"], "COMPLETE");
}

async fn a_hanging_endpoint_does_not_stall_the_others(backend: Backend) {
    let mut options = AppOptions::default();
    options.config.webhooks.timeout = Duration::from_secs(2);
    let Some(app) = app_on(backend, options).await else {
        return;
    };
    const EVENTS: usize = 1000;
    app.import_csv(&block_csv(EVENTS)).await;
    let a = app.tenant("a").await;
    let mut receivers = Vec::new();
    for _ in 0..10 {
        receivers.push(Receiver::start().await);
    }
    receivers[0].hang();
    for r in &receivers {
        subscribe(
            &app,
            &a.creds,
            json!({"url": r.url, "events": ["number.assigned"]}),
        )
        .await;
    }
    let started = Instant::now();
    order_block(&app, &a, EVENTS).await;
    for r in &receivers[1..] {
        let got = r
            .wait_for_deliveries(EVENTS, Duration::from_secs(180))
            .await;
        let ids: HashSet<String> = got.iter().map(Received::event_id).collect();
        assert_eq!(ids.len(), EVENTS, "every event once at {}", r.url);
        assert_eq!(r.requests().len(), EVENTS, "no duplicates at {}", r.url);
    }
    let elapsed = started.elapsed();
    let hung = receivers[0].requests().len();
    println!(
        "{backend:?}: {} deliveries to 9 healthy endpoints in {elapsed:?} with one endpoint hanging ({hung} requests held there)",
        9 * EVENTS
    );
    // However long the run took (it depends on the machine's load), the engine never had more
    // than one request in flight at the hanging endpoint.
    assert_eq!(
        receivers[0].most_in_flight(),
        1,
        "one request in flight at a time per endpoint ({hung} requests held in all)"
    );
}

/// Every event of the account by paging `/v1/events?after=` two at a time.
async fn poll_all_events(app: &TestApp, creds: &Creds) -> Vec<Value> {
    let mut after = 0;
    let mut all = Vec::new();
    loop {
        let page: Value = app
            .get(creds, &format!("/v1/events?after={after}&limit=2"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let data = page["data"].as_array().unwrap();
        if data.is_empty() {
            return all;
        }
        after = data.last().unwrap()["seq"].as_i64().unwrap();
        all.extend(data.iter().cloned());
    }
}

async fn replay_and_catch_up_in_order(backend: Backend) {
    let Some(app) = app_on(backend, AppOptions::default()).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    let b = app.tenant("b").await;
    let since = app.service.now();
    own(&app, &a, &["+12065552233", "+12532001234"]).await;
    own(&app, &b, &["+18005550199"]).await;
    label(&app, &a, "+12532001234", "tacoma").await;
    let res = app
        .post(&a.creds, "/v1/numbers/+12065552233/release", json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Catch-up polling: every event of the account, strictly in log order, none of b's.
    let polled = poll_all_events(&app, &a.creds).await;
    let seqs: Vec<i64> = polled.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert!(polled.iter().all(|e| e["account_id"] == a.id.as_str()));
    let kinds: Vec<&str> = polled.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for kind in [
        "order.received",
        "number.assigned",
        "order.completed",
        "number.updated",
        "number.released",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }

    // A webhook created afterwards gets nothing of the past until a replay asks for it.
    app.clock.advance(Span::seconds(1));
    let receiver = Receiver::start().await;
    let created = subscribe(&app, &a.creds, json!({"url": receiver.url})).await;
    let id = created["id"].as_str().unwrap();
    assert_quiet(&receiver, 0).await;
    let res = app
        .post(
            &a.creds,
            &format!("/v1/webhooks/{id}/replay"),
            json!({"since": numbersd_ts(since)}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let replay: Value = res.json().await.unwrap();
    assert_eq!(replay["enqueued"], json!(polled.len()));
    assert_eq!(replay["truncated"], false);
    let got = receiver.wait_for_deliveries(polled.len(), WAIT).await;
    let replayed: Vec<Value> = got.iter().map(Received::json).collect();
    assert_eq!(
        replayed
            .iter()
            .map(|p| p["event_id"].clone())
            .collect::<Vec<_>>(),
        polled.iter().map(|e| e["id"].clone()).collect::<Vec<_>>(),
        "a replay delivers every event once, in log order"
    );
    assert_quiet(&receiver, polled.len()).await;

    // Redeliver one event: the same event id again.
    let first = polled[0]["id"].as_str().unwrap();
    let res = app
        .post(
            &a.creds,
            &format!("/v1/webhooks/{id}/redeliver"),
            json!({"event_id": first}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let got = receiver.wait_for_deliveries(polled.len() + 1, WAIT).await;
    assert_eq!(got.last().unwrap().event_id(), first);
    // Another tenant's event cannot be redelivered to a's webhook.
    let theirs = poll_all_events(&app, &b.creds).await;
    let res = app
        .post(
            &a.creds,
            &format!("/v1/webhooks/{id}/redeliver"),
            json!({"event_id": theirs[0]["id"]}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, None).await;
    // Nor can b see a's webhook.
    let res = app
        .get(&b.creds, &format!("/v1/webhooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, None).await;
}

fn numbersd_ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn two_servers_one_database_no_duplicates(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let options = AppOptions::default();
    let clock = Arc::clone(&options.clock);
    let one = spawn_app_with(&url, options).await;
    let two = spawn_app_with(
        &url,
        AppOptions {
            clock,
            ..AppOptions::default()
        },
    )
    .await;
    const EVENTS: usize = 300;
    one.import_csv(&block_csv(EVENTS)).await;
    let a = one.tenant("a").await;
    let receivers = [Receiver::start().await, Receiver::start().await];
    for r in &receivers {
        subscribe(
            &two,
            &a.creds,
            json!({"url": r.url, "events": ["number.assigned"]}),
        )
        .await;
    }
    // Half the numbers through each server.
    order_block(&one, &a, EVENTS / 2).await;
    order_block(&two, &a, EVENTS / 2).await;
    for r in &receivers {
        r.wait_for_deliveries(EVENTS, WAIT).await;
        assert_quiet(r, EVENTS).await;
        let mut counts: HashMap<String, usize> = HashMap::new();
        for req in r.requests() {
            *counts.entry(req.event_id()).or_default() += 1;
        }
        let duplicates: usize = counts.values().map(|n| n - 1).sum();
        println!(
            "{backend:?}: two servers, {} events, {duplicates} duplicates",
            counts.len()
        );
        assert_eq!(counts.len(), EVENTS);
        assert_eq!(duplicates, 0, "two processes delivered an event twice");
    }
}

/// A stand-in for Sinch's per-number callbacks: updates of a number whose assignment has a
/// callback URL go there, signed with a fixed secret, with no subscription at all.
struct CallbackUrlResolver;

const RESOLVER_SECRET: &str = "callback-secret-0123456789";

#[async_trait]
impl TargetResolver for CallbackUrlResolver {
    fn name(&self) -> &'static str {
        "test-callback-url"
    }

    async fn targets(
        &self,
        event: &Event,
        service: &Service,
    ) -> numbers_core::Result<Vec<ResolvedTarget>> {
        // Only updates: the order's own events may be fanned out after the callback URL is
        // set (fan-out is asynchronous and reads the number as it is then).
        let (Some(e164), EventKind::NumberUpdated) = (&event.event.e164, event.event.kind) else {
            return Ok(vec![]);
        };
        let number = service.store().get_number(e164).await?;
        Ok(number
            .and_then(|n| n.assignment.callback_url)
            .map(|url| ResolvedTarget {
                url: WebhookUrl::parse(&url, "callback_url").unwrap(),
                format: "native".into(),
                format_config: json!({}),
                signing_secret: Some(RESOLVER_SECRET.into()),
            })
            .into_iter()
            .collect())
    }
}

async fn resolver_targets_without_a_subscription(backend: Backend) {
    let options = AppOptions {
        webhooks: webhook_registry().with_resolver(Arc::new(CallbackUrlResolver)),
        ..AppOptions::default()
    };
    let Some(app) = app_on(backend, options).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    own(&app, &a, &["+12065617890"]).await;
    let receiver = Receiver::start().await;
    let res = app
        .request(Method::PATCH, &a.creds, "/v1/numbers/+12065617890")
        .json(&json!({"callback_url": receiver.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    label(&app, &a, "+12065617890", "per-number").await;
    // Two number.updated events: setting the callback URL, then the label.
    let got = receiver.wait_for_deliveries(2, WAIT).await;
    for r in &got {
        assert_signed(r, RESOLVER_SECRET);
        assert_eq!(r.json()["e164"], "+12065617890");
    }
    assert_eq!(got[1].json()["data"]["label"], "per-number");
    assert_quiet(&receiver, 2).await;
}

#[tokio::test]
async fn unsafe_urls_are_refused_and_fields_validated() {
    let mut options = AppOptions::default();
    options.config.webhooks.allow_private = false;
    let strict = app_on(Backend::Sqlite, options).await.unwrap();
    let a = strict.tenant("a").await;
    for url in [
        "http://127.0.0.1:9/hooks",
        "http://localhost:9000/x",
        "http://10.0.0.8/x",
        "http://169.254.169.254/latest/meta-data",
    ] {
        let res = strict
            .post(&a.creds, "/v1/webhooks", json!({"url": url}))
            .send()
            .await
            .unwrap();
        let problem = assert_problem(res, StatusCode::BAD_REQUEST, Some("url")).await;
        assert!(
            problem["detail"].as_str().unwrap().contains("private"),
            "{problem}"
        );
    }
    let open = app_on(Backend::Sqlite, AppOptions::default())
        .await
        .unwrap();
    let b = open.tenant("b").await;
    let own_url = format!("{}/v1/orders", open.base);
    let res = open
        .post(&b.creds, "/v1/webhooks", json!({"url": own_url}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, StatusCode::BAD_REQUEST, Some("url")).await;
    assert!(problem["detail"].as_str().unwrap().contains("this server"));
    for (body, field) in [
        (json!({"url": "ftp://x.example.com/"}), "url"),
        (json!({}), "url"),
        (
            json!({"url": "http://127.0.0.1:9/", "events": ["order.done"]}),
            "events",
        ),
        (
            json!({"url": "http://127.0.0.1:9/", "format": "carrier-pigeon"}),
            "format",
        ),
        (
            json!({"url": "http://127.0.0.1:9/", "format_config": {"a": 1}}),
            "format_config",
        ),
        (
            json!({"url": "http://127.0.0.1:9/", "colour": "red"}),
            "colour",
        ),
    ] {
        let res = open
            .post(&b.creds, "/v1/webhooks", body)
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, Some(field)).await;
    }
    // PATCH, list and delete.
    let created = subscribe(&open, &b.creds, json!({"url": "http://127.0.0.1:9/n"})).await;
    let id = created["id"].as_str().unwrap();
    let patched: Value = open
        .request(Method::PATCH, &b.creds, &format!("/v1/webhooks/{id}"))
        .json(&json!({"active": false, "events": ["order.completed"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["active"], false);
    assert_eq!(patched["events"], json!(["order.completed"]));
    assert_eq!(
        patched["url"], "http://127.0.0.1:9/n",
        "untouched when absent"
    );
    let listed: Value = open
        .get(&b.creds, "/v1/webhooks")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let res = open
        .request(Method::DELETE, &b.creds, &format!("/v1/webhooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = open
        .get(&b.creds, &format!("/v1/webhooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, None).await;
    let res = open
        .post(
            &open.operator,
            "/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/"}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, None).await;
}

#[tokio::test]
async fn metrics_listener_reports_deliveries_and_requests() {
    let app = app_on(Backend::Sqlite, AppOptions::default())
        .await
        .unwrap();
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    let receiver = Receiver::start().await;
    subscribe(&app, &a.creds, json!({"url": receiver.url})).await;
    own(&app, &a, &["+18775552233"]).await;
    receiver.wait_for_deliveries(1, WAIT).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(numbersd::startup::serve_metrics(
        listener,
        std::future::pending(),
    ));
    let started = Instant::now();
    loop {
        // A request recorded after the recorder is installed (the first scrape installs it).
        app.number(&a.creds, "+18775552233").await;
        let text = reqwest::get(format!("http://{address}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("numbersd_webhook_attempts_total{outcome=\"succeeded\"}")
            && text.contains("numbersd_webhook_attempt_duration_seconds")
            && text.contains("numbersd_webhook_deliveries_pending")
            // Every door's requests, labelled by route template, never by raw path.
            && text.contains("route=\"/v1/numbers/{e164}\"")
            && text.contains("numbersd_http_request_duration_seconds")
            && !text.contains("route=\"/v1/numbers/+")
        {
            break;
        }
        assert!(started.elapsed() < WAIT, "metrics never appeared:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The signature example of docs/WEBHOOKS.md: its values verify, and its Python verifier
/// accepts them (and refuses a tampered body).
#[tokio::test]
async fn documented_signature_example_verifies() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/WEBHOOKS.md"
    ))
    .unwrap();
    let value = |key: &str| -> String {
        doc.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("docs/WEBHOOKS.md has no `{key}: ` line"))
            .trim()
            .to_string()
    };
    let (secret, timestamp, body, signature) = (
        value("secret"),
        value("timestamp"),
        value("body"),
        value("signature"),
    );
    let ts: i64 = timestamp.parse().unwrap();
    assert!(verify_v1(&signature, &secret, ts, body.as_bytes()));
    assert_eq!(
        signature,
        format!(
            "v1={}",
            numbers_core::webhook::signature::sign_v1(&secret, ts, body.as_bytes())
        )
    );
    let python = doc
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/WEBHOOKS.md has a python block");
    let script = format!(
        "{python}\nimport sys\nok = verify(sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4], now={ts})\n\
         bad = verify(sys.argv[1], sys.argv[2], sys.argv[3].encode() + b' ', sys.argv[4], now={ts})\n\
         print(ok, bad)\n"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script, &secret, &timestamp, &body, &signature])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "True False");
}
