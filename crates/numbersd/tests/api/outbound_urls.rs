//! The outbound-URL policy over real HTTP, on SQLite and PostgreSQL, with the default
//! configuration (`webhooks.allow_private` off): every hostile spelling of a loopback, private,
//! link-local or reserved address is refused at write time on every route of every door that
//! stores a URL — native webhooks and `callback_url`s, Bandwidth subscriptions, Sinch
//! `callbackUrl`s — with a field error in the door's own format, and nothing is written. A
//! listener on 127.0.0.1 then hears nothing even from URLs that pass the write check but resolve
//! to loopback when sent (names resolved by a resolver the test controls), or that were stored
//! before the check existed; the same scenario with private targets allowed does reach it, so
//! the silence is the policy's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use numbers_core::store::EventFilter;
use numbers_core::webhook::{EventTypes, NewSubscription, StaticLookup, Subscription, WebhookUrl};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bandwidth::{call, last_segment, text_of, xml_answer};
use crate::helpers::{
    AppOptions, Backend, INVENTORY_CSV, TestApp, assert_problem, fresh_database, on_both_databases,
    spawn_app_owning,
};
use crate::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(60);

on_both_databases!(
    hostile_urls_are_refused_on_every_route_of_every_door,
    a_loopback_listener_hears_nothing_by_default,
    the_same_scenario_reaches_the_listener_when_private_targets_are_allowed,
);

/// Every spelling the issue reported, and more: WHATWG re-spellings of 127.0.0.1, the other
/// refused ranges, IPv6 forms embedding them, loopback names, and URL tricks (credentials,
/// backslashes, whitespace WHATWG would strip, schemes that are not http).
const HOSTILE: &[&str] = &[
    // As reported.
    "http://127.1:9/",
    "http://0:9/",
    "http://2130706433:9/",
    "http://0x7f000001:9/",
    "http://017700000001:9/",
    "http://127.000.000.001:9/",
    "http://%31%32%37.0.0.1:9/",
    "http://①②⑦.0.0.1/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://198.18.0.1/",
    "http://169.254.169.254/latest/meta-data",
    // More spellings of this host.
    "http://127.0.0.1:9/",
    "HTTP://127.0.0.1/",
    "http://127.0.0.1./",
    "http://0x7F.1/",
    "http://127.0.1/",
    "http://１２７.０.０.１/",
    "http://127。0。0。1/",
    "http://0.0.0.0:9/",
    "http://[::]/",
    "http://[::1]:9/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:0:127.0.0.1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://localhost:9/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/",
    "http://%6c%6f%63%61%6c%68%6f%73%74/",
    "http://192.0.2.2/",
    // Private, shared, link-local, reserved.
    "http://10.0.0.1/",
    "http://012.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://3232235777/",
    "http://100.64.0.1/",
    "http://0xa9fea9fe/",
    "http://169.254.43518/",
    "https://[0:0:0:0:0:ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://[ff02::1]/",
    "http://[2001:db8::1]/",
    "http://[2002:7f00:1::]/",
    "http://[2001::1]/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://203.0.113.9/",
    // URL tricks.
    "http://example.com@127.0.0.1/",
    "http://user:pass@example.com/",
    "http://127.0.0.1#@example.com/",
    "http:\\\\127.0.0.1\\",
    "http://127.0.0.1\\@example.com/",
    "http://127.0.0.1\t/",
    "http://12\n7.0.0.1/",
    " http://127.0.0.1/ ",
    "http:127.0.0.1",
    "//127.0.0.1/",
    "ftp://example.com/",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "gopher://127.0.0.1:6379/_INFO",
];

/// A resolver for names the test owns; every other name does not exist (no real DNS).
fn test_dns(names: &[(&'static str, &str)]) -> Arc<StaticLookup> {
    Arc::new(StaticLookup::new(
        names.iter().map(|(name, ip)| (*name, ip.parse().unwrap())),
    ))
}

/// A server with the default outbound policy, resolving names with `dns`.
async fn app(backend: Backend, allow_private: bool, dns: Arc<StaticLookup>) -> Option<TestApp> {
    let url = fresh_database(backend).await?;
    let mut options = AppOptions::default();
    options.config.webhooks.allow_private = allow_private;
    // One attempt: a refused or failed delivery is FAILED at once, so "everything was
    // attempted" is observable without waiting for retries.
    options.config.webhooks.retry.give_up_after = chrono::Duration::zero();
    // One tenant sends ~2,000 requests as fast as it can: more than the per-credential
    // throttle lets one client send (the throttle has tests of its own).
    options.serve.limits.per_credential = None;
    options.configure = Box::new(move |service| {
        service.webhooks().set_name_lookup(dns);
        service
    });
    Some(spawn_app_owning(url, options).await)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn subscription_xml(url: &str) -> String {
    format!(
        "<Subscription><OrderType>orders</OrderType><CallbackSubscription><URL>{}</URL></CallbackSubscription></Subscription>",
        xml_escape(url)
    )
}

fn assert_sinch_field(status: StatusCode, body: &Value, field: &str, url: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{url:?}: {body}");
    assert_eq!(
        body["error"]["status"], "INVALID_ARGUMENT",
        "{url:?}: {body}"
    );
    let fields: Vec<&str> = body["error"]["details"][0]["fieldViolations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["field"].as_str())
        .collect();
    assert!(fields.contains(&field), "{url:?}: {body}");
}

async fn hostile_urls_are_refused_on_every_route_of_every_door(backend: Backend) {
    let Some(app) = app(backend, false, test_dns(&[])).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let t = app.tenant("mallory").await;
    app.own(&t.creds, &["+12065550100"]).await;
    // Targets of the PATCH / PUT routes, with harmless URLs (inactive: nothing is sent).
    let res = app
        .post(
            &t.creds,
            "/v1/webhooks",
            json!({"url": "https://hooks.example.com/n", "active": false}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let webhook: Value = res.json().await.unwrap();
    let webhook_id = webhook["id"].as_str().unwrap().to_string();
    let created = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/subscriptions",
        Some(&subscription_xml("https://hooks.example.com/bw")),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let subscription_id = last_segment(&created);

    for url in HOSTILE {
        // Native: webhooks (create, update), a number's callback_url, a number order's.
        let res = app
            .post(&t.creds, "/v1/webhooks", json!({"url": url}))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, Some("url")).await;
        let res = app
            .request(
                Method::PATCH,
                &t.creds,
                &format!("/v1/webhooks/{webhook_id}"),
            )
            .json(&json!({"url": url}))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, Some("url")).await;
        let res = app
            .request(Method::PATCH, &t.creds, "/v1/numbers/+12065550100")
            .json(&json!({"callback_url": url}))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, Some("callback_url")).await;
        let res = app
            .post(
                &t.creds,
                "/v1/number-orders",
                json!({"region_code": "AU", "number_type": "MOBILE",
                       "number": "+61491570156", "callback_url": url}),
            )
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, Some("callback_url")).await;

        // Bandwidth: subscriptions (create, replace). XML cannot carry NUL; none here does.
        let body = subscription_xml(url);
        for (method, path) in [
            (Method::POST, "/accounts/{acct}/subscriptions".to_string()),
            (
                Method::PUT,
                format!("/accounts/{{acct}}/subscriptions/{subscription_id}"),
            ),
        ] {
            let a = call(&app, &t, method, &path, Some(&body)).await;
            xml_answer(&a, StatusCode::BAD_REQUEST);
            assert!(a.body.contains("<SubscriptionsResponse>"), "{}", a.body);
            let description = text_of(&a.body, "Description").unwrap_or_default();
            assert!(
                description.starts_with("URL: "),
                "{url:?} names the URL element: {}",
                a.body
            );
        }

        // Sinch: PATCH activeNumbers, :rent, :rentAny, createNumberOrder.
        for (method, route, mut body) in [
            (Method::PATCH, "activeNumbers/+12065550100", json!({})),
            (
                Method::POST,
                "availableNumbers/+12065550101:rent",
                json!({}),
            ),
            (
                Method::POST,
                "availableNumbers:rentAny",
                json!({"regionCode": "US", "type": "LOCAL"}),
            ),
            (
                Method::POST,
                "numberOrders:createNumberOrder",
                json!({"regionCode": "AU", "numberType": "MOBILE",
                       "numberOrderOption": {"phoneNumbers": ["+61491570156"]}}),
            ),
        ] {
            body["callbackUrl"] = json!(url);
            let (status, body) = app.sinch(&t, method, route, body).await;
            assert_sinch_field(status, &body, "callbackUrl", url);
        }
    }

    // Nothing was written: the targets kept their URLs, nothing was rented or ordered.
    let res = app
        .get(&t.creds, &format!("/v1/webhooks/{webhook_id}"))
        .send()
        .await
        .unwrap();
    let webhook: Value = res.json().await.unwrap();
    assert_eq!(webhook["url"], "https://hooks.example.com/n");
    let listed: Value = app
        .get(&t.creds, "/v1/webhooks")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2, "{listed}");
    let a = call(
        &app,
        &t,
        Method::GET,
        &format!("/accounts/{{acct}}/subscriptions/{subscription_id}"),
        None,
    )
    .await;
    assert_eq!(
        text_of(&a.body, "URL").as_deref(),
        Some("https://hooks.example.com/bw")
    );
    let number: Value = app
        .number(&t.creds, "+12065550100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(number["state"], "ASSIGNED", "{number}");
    assert_eq!(number["callback_url"], Value::Null, "{number}");
    let orders: Value = app
        .get(&t.creds, "/v1/orders")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        orders["data"].as_array().unwrap().len(),
        1,
        "only the set-up order: {orders}"
    );
    let number_orders: Value = app
        .get(&app.operator, "/v1/operator/number-orders")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(number_orders["data"], json!([]), "{number_orders}");
}

/// Where the scenario's requests may land: one receiver per path into the engine.
struct Listeners {
    native: Receiver,
    bandwidth: Receiver,
    sinch: Receiver,
    stored_before_the_check: Receiver,
}

/// Sets up every kind of outbound URL pointing at listeners on 127.0.0.1 through names that
/// pass the write check (`*.test`, resolved by the test to loopback at send time), plus one
/// IP-literal URL written straight into the store as an old database may hold it; makes events
/// for all of them and waits until every event is fanned out and every delivery attempted.
async fn loopback_scenario(backend: Backend, allow_private: bool) -> Option<Listeners> {
    let listeners = Listeners {
        native: Receiver::start().await,
        bandwidth: Receiver::start().await,
        sinch: Receiver::start().await,
        stored_before_the_check: Receiver::start().await,
    };
    let dns = test_dns(&[
        ("hooks.test", "127.0.0.1"),
        ("127.0.0.1.nip.test", "127.0.0.1"),
        ("ipv6.test", "::1"),
        ("mapped.test", "::ffff:127.0.0.1"),
    ]);
    let app = app(backend, allow_private, dns).await?;
    app.import_csv(INVENTORY_CSV).await;
    let t = app.tenant("hooked").await;
    app.own(&t.creds, &["+12065550100"]).await;

    let native = format!("http://hooks.test:{}/native", listeners.native.port);
    let res = app
        .post(&t.creds, "/v1/webhooks", json!({"url": native}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "names pass the write check"
    );
    for name in ["127.0.0.1.nip.test", "ipv6.test", "mapped.test"] {
        let url = format!("http://{name}:{}/native", listeners.native.port);
        let res = app
            .post(&t.creds, "/v1/webhooks", json!({"url": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let created = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/subscriptions",
        Some(&subscription_xml(&format!(
            "http://hooks.test:{}/bandwidth",
            listeners.bandwidth.port
        ))),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let account = t.id.parse().unwrap();
    let legacy = Subscription::new(
        account,
        NewSubscription {
            url: WebhookUrl::parse(
                &format!(
                    "http://127.1:{}/legacy",
                    listeners.stored_before_the_check.port
                ),
                "url",
            )
            .unwrap(),
            format: "native".into(),
            format_config: Value::Null,
            events: EventTypes::All,
            active: true,
        },
        app.service.now(),
    );
    app.service
        .store()
        .create_subscription(&legacy)
        .await
        .unwrap();
    // Sinch: a callbackUrl and a configuration change, whose outcome is called back.
    let (status, body) = app
        .sinch(
            &t,
            Method::PATCH,
            "activeNumbers/+12065550100",
            json!({"callbackUrl": format!("http://hooks.test:{}/sinch", listeners.sinch.port),
               "smsConfiguration": {"servicePlanId": "plan-1"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // More events: a label, and an order (Bandwidth notifies order outcomes).
    let res = app
        .request(Method::PATCH, &t.creds, "/v1/numbers/+12065550100")
        .json(&json!({"label": "hooked"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.own(&t.creds, &["+12065550101"]).await;
    let provisioned = numbers_core::event::EventKind::NumberProvisioned;
    settle(&app, |kinds| kinds.contains(&provisioned)).await;
    app.shutdown().await;
    Some(listeners)
}

/// Waits until the events include what `ready` wants, every event is fanned out and no
/// delivery is pending (each was attempted once: `give_up_after` is zero).
async fn settle(app: &TestApp, ready: impl Fn(&[numbers_core::event::EventKind]) -> bool) {
    let store = app.service.store();
    let started = Instant::now();
    loop {
        let events = store
            .list_events(&EventFilter {
                limit: 10_000,
                ..Default::default()
            })
            .await
            .unwrap();
        let kinds: Vec<_> = events.iter().map(|e| e.event.kind).collect();
        let last = events.last().map_or(0, |e| e.seq);
        let fanned_out = store.fanout_cursor().await.unwrap() >= last;
        let pending = store.pending_deliveries().await.unwrap();
        if ready(&kinds) && fanned_out && pending == 0 {
            return;
        }
        assert!(
            started.elapsed() < WAIT,
            "deliveries never settled ({pending} pending)"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_loopback_listener_hears_nothing_by_default(backend: Backend) {
    let Some(listeners) = loopback_scenario(backend, false).await else {
        return;
    };
    assert_eq!(listeners.native.requests().len(), 0);
    assert_eq!(listeners.sinch.requests().len(), 0);
    assert_eq!(listeners.stored_before_the_check.requests().len(), 0);
    assert_eq!(listeners.bandwidth.requests().len(), 0);
}

async fn the_same_scenario_reaches_the_listener_when_private_targets_are_allowed(backend: Backend) {
    let Some(listeners) = loopback_scenario(backend, true).await else {
        return;
    };
    assert!(!listeners.native.requests().is_empty());
    assert!(!listeners.bandwidth.requests().is_empty());
    assert!(!listeners.sinch.requests().is_empty());
    assert!(!listeners.stored_before_the_check.requests().is_empty());
}
