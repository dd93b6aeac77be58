//! Bandwidth subscriptions over real HTTP on SQLite and PostgreSQL: create (201 + Location, no
//! body) / get / list / update / delete with committed snapshots, the 14500–14508 and 16000
//! errors, and `<Notification>` callbacks to real receivers — an order reaching COMPLETE and
//! PARTIAL, a disconnect reaching COMPLETE — including Bandwidth's Basic challenge flow (first
//! without credentials, again with them after a 401 + `WWW-Authenticate: Basic`), the last
//! callback result in `<Status>`, the OrderId filter and Expiry.

use std::time::Duration;

use chrono::Duration as Span;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::bandwidth::{
    Answer, call, existing, last_segment, order_xml, settle, setup, snapshot, text_of, xml_answer,
};
use crate::helpers::{Backend, Tenant, TestApp, spawn_app, spawn_app_on};
use crate::receiver::{Received, Receiver};

const WAIT: Duration = Duration::from_secs(20);

fn subscription_xml(order_type: &str, url: &str, extra_callback: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n<Subscription><OrderType>{order_type}</OrderType><CallbackSubscription><URL>{url}</URL>{extra_callback}</CallbackSubscription></Subscription>"
    )
}

async fn subscribe(app: &TestApp, t: &Tenant, body: &str) -> String {
    let a = call(
        app,
        t,
        Method::POST,
        "/accounts/{acct}/subscriptions",
        Some(body),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    assert!(a.body.is_empty(), "no body on create: {}", a.body);
    last_segment(&a)
}

async fn refused(app: &TestApp, t: &Tenant, body: &str, status: StatusCode, code: &str) -> Answer {
    let a = call(
        app,
        t,
        Method::POST,
        "/accounts/{acct}/subscriptions",
        Some(body),
    )
    .await;
    xml_answer(&a, status);
    assert!(a.body.contains("<SubscriptionsResponse>"), "{}", a.body);
    assert_eq!(
        text_of(&a.body, "ErrorCode").as_deref(),
        Some(code),
        "{}",
        a.body
    );
    a
}

async fn native_deliveries(app: &TestApp, t: &Tenant, id: &str) -> Vec<Value> {
    let res = app
        .get(&t.creds, &format!("/v1/webhooks/{id}/deliveries"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["data"]
        .as_array()
        .unwrap()
        .clone()
}

fn assert_notification(r: &Received) {
    assert_eq!(r.header("content-type"), "application/xml; charset=utf-8");
    assert!(
        r.body.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Notification>"
        ),
        "{}",
        r.body
    );
}

/// The subscription's `<Status>` once the engine has recorded the attempt.
async fn status_of(app: &TestApp, t: &Tenant, id: &str) -> Answer {
    for _ in 0..500 {
        let a = call(
            app,
            t,
            Method::GET,
            &format!("/accounts/{{acct}}/subscriptions/{id}"),
            None,
        )
        .await;
        if text_of(&a.body, "Status").is_some() {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("subscription {id} never showed a callback status");
}

async fn flow(app: TestApp) {
    let (t, site, _peer) = setup(&app).await;
    let guarded = Receiver::start().await;
    guarded.require_basic("hook", "s3cure");
    let plain = Receiver::start().await;

    // Create: 201, Location, no body.
    let orders = subscribe(
        &app,
        &t,
        &subscription_xml(
            "orders",
            &guarded.url,
            "<Expiry>3600</Expiry><CallbackCredentials><BasicAuthentication><Username>hook</Username><Password>s3cure</Password></BasicAuthentication></CallbackCredentials>",
        ),
    )
    .await;
    let disconnects = subscribe(
        &app,
        &t,
        &subscription_xml(
            "disconnects",
            &plain.url,
            "<NumberFormat>E164</NumberFormat>",
        ),
    )
    .await;
    // The Python SDK's legacy <User> is accepted and ignored; element names in any case.
    let legacy = subscribe(
        &app,
        &t,
        &format!(
            "<subscription><ordertype>ORDERS</ordertype><callbacksubscription><url>{}</url><User>someone</User><expiry>60</expiry></callbacksubscription></subscription>",
            plain.url
        ),
    )
    .await;

    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/subscriptions",
        None,
    )
    .await;
    xml_answer(&a, StatusCode::OK);
    snapshot(
        "subscriptions_list",
        &a.body
            .replace(&guarded.url, "{guarded}")
            .replace(&plain.url, "{plain}"),
    );
    assert!(!a.body.contains("s3cure"), "the password is never echoed");
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/subscriptions?orderType=disconnects",
        None,
    )
    .await;
    assert_eq!(a.body.matches("<Subscription>").count(), 1, "{}", a.body);

    // Errors, each in <SubscriptionsResponse><ResponseStatus>; nothing is created.
    let a = refused(
        &app,
        &t,
        &subscription_xml("portins", &plain.url, ""),
        StatusCode::BAD_REQUEST,
        "14500",
    )
    .await;
    snapshot("subscription_error_14500", &a.body);
    refused(
        &app,
        &t,
        "<Order><Name>x</Name></Order>",
        StatusCode::BAD_REQUEST,
        "14501",
    )
    .await;
    refused(
        &app,
        &t,
        &subscription_xml("orders", &plain.url, "<Expiry>soon</Expiry>"),
        StatusCode::BAD_REQUEST,
        "14501",
    )
    .await;
    refused(&app, &t, "<Subscription><OrderType>orders</OrderType><EmailSubscription><Email>a@b.c</Email></EmailSubscription></Subscription>", StatusCode::BAD_REQUEST, "14502").await;
    refused(&app, &t, "<Subscription><OrderType>orders</OrderType><CallbackSubscription><Expiry>5</Expiry></CallbackSubscription></Subscription>", StatusCode::BAD_REQUEST, "14503").await;
    let a = refused(
        &app,
        &t,
        &subscription_xml(
            "orders",
            &plain.url,
            "<CallbackCredentials><BasicAuthentication><Username>hook</Username><Password> </Password></BasicAuthentication></CallbackCredentials>",
        ),
        StatusCode::BAD_REQUEST,
        "14505",
    )
    .await;
    snapshot("subscription_error_14505", &a.body);
    refused(
        &app,
        &t,
        &subscription_xml("orders", "not a url", ""),
        StatusCode::BAD_REQUEST,
        "14506",
    )
    .await;
    refused(
        &app,
        &t,
        &subscription_xml("orders", &format!("{}/api", app.base), ""),
        StatusCode::BAD_REQUEST,
        "14506",
    )
    .await;
    refused(
        &app,
        &t,
        "<Subscription><EventType>MESSAGING_LOST</EventType></Subscription>",
        StatusCode::BAD_REQUEST,
        "14507",
    )
    .await;
    refused(&app, &t, &format!("<Subscription><CallbackSubscription><URL>{}</URL></CallbackSubscription></Subscription>", plain.url), StatusCode::BAD_REQUEST, "14508").await;
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/subscriptions/0193a000-0000-7000-8000-000000000000",
        None,
    )
    .await;
    xml_answer(&a, StatusCode::NOT_FOUND);
    snapshot("subscription_not_found", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/subscriptions",
        None,
    )
    .await;
    assert_eq!(a.body.matches("<Subscription>").count(), 3, "{}", a.body);

    // An order reaching COMPLETE: Basic challenge, then the notification with credentials.
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/orders",
        Some(&order_xml(&site, &existing(&["2065550100", "2065550101"]))),
    )
    .await;
    let order1 = last_segment(&a);
    settle(&app, &t, "orders", &order1).await;
    let got = guarded.wait_for_deliveries(1, WAIT).await;
    let all = guarded.requests();
    assert_eq!(all.len(), 2, "one challenge, one delivery: {all:#?}");
    assert_eq!(all[0].status, 401);
    assert!(
        all[0].headers.get("authorization").is_none(),
        "first without credentials"
    );
    assert_eq!(all[1].header("authorization"), "Basic aG9vazpzM2N1cmU=");
    assert_eq!(all[0].body, all[1].body, "the same document both times");
    assert_notification(&got[0]);
    assert_eq!(
        text_of(&got[0].body, "OrderId").as_deref(),
        Some(order1.as_str())
    );
    assert_eq!(
        text_of(&got[0].body, "SubscriptionId").as_deref(),
        Some(orders.as_str())
    );
    snapshot("notification_order_complete", &got[0].body);
    // The legacy subscription (no credentials) got the same outcome.
    let legacy_got = plain.wait_for_deliveries(1, WAIT).await;
    assert_eq!(
        text_of(&legacy_got[0].body, "SubscriptionId").as_deref(),
        Some(legacy.as_str())
    );

    // The last callback result is the subscription's <Status>; the password stays hidden.
    let a = status_of(&app, &t, &orders).await;
    xml_answer(&a, StatusCode::OK);
    assert_eq!(text_of(&a.body, "Status").as_deref(), Some("200 OK"));
    assert!(!a.body.contains("s3cure"));
    snapshot(
        "subscription_get",
        &a.body.replace(&guarded.url, "{guarded}"),
    );
    // The same subscription through the native API: format `bandwidth`, the password hidden.
    let res = app
        .get(&t.creds, &format!("/v1/webhooks/{orders}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let native: Value = res.json().await.unwrap();
    assert_eq!(native["format"], "bandwidth");
    assert_eq!(native["format_config"]["username"], "hook");
    assert!(
        native["format_config"].get("password").is_none(),
        "{native}"
    );

    // PARTIAL.
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/orders",
        Some(&order_xml(&site, &existing(&["2065550100", "2065550123"]))),
    )
    .await;
    let partial = last_segment(&a);
    settle(&app, &t, "orders", &partial).await;
    let got = guarded.wait_for_deliveries(2, WAIT).await;
    assert_notification(&got[1]);
    assert_eq!(
        text_of(&got[1].body, "OrderId").as_deref(),
        Some(partial.as_str())
    );
    snapshot("notification_order_partial", &got[1].body);

    // A disconnect reaching COMPLETE, numbers in E.164 as that subscription asked.
    let a = call(&app, &t, Method::POST, "/accounts/{acct}/disconnects", Some("<DisconnectTelephoneNumberOrder><CustomerOrderId>d-1</CustomerOrderId><DisconnectTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>2065550100</TelephoneNumber></TelephoneNumberList></DisconnectTelephoneNumberOrderType></DisconnectTelephoneNumberOrder>")).await;
    let disconnect = last_segment(&a);
    settle(&app, &t, "disconnects", &disconnect).await;
    let from_plain = plain.wait_for_deliveries(3, WAIT).await;
    let note = from_plain
        .iter()
        .find(|r| r.body.contains("<OrderType>disconnects</OrderType>"))
        .expect("the disconnect notification");
    assert_notification(note);
    assert_eq!(
        text_of(&note.body, "OrderId").as_deref(),
        Some(disconnect.as_str())
    );
    assert_eq!(
        text_of(&note.body, "SubscriptionId").as_deref(),
        Some(disconnects.as_str())
    );
    snapshot("notification_disconnect_complete", &note.body);

    // Update (same body as create): only one order now, and a new receiver.
    let moved = Receiver::start().await;
    let other_order = "0193a000-0000-7000-8000-0000000000ff";
    let a = call(
        &app,
        &t,
        Method::PUT,
        &format!("/accounts/{{acct}}/subscriptions/{orders}"),
        Some(&format!(
            "<Subscription><OrderType>orders</OrderType><OrderId>{other_order}</OrderId><CallbackSubscription><URL>{}</URL><Expiry>7200</Expiry></CallbackSubscription></Subscription>",
            moved.url
        )),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        &format!("/accounts/{{acct}}/subscriptions/{orders}"),
        None,
    )
    .await;
    assert_eq!(text_of(&a.body, "OrderId").as_deref(), Some(other_order));
    assert_eq!(text_of(&a.body, "URL").as_deref(), Some(moved.url.as_str()));
    assert_eq!(text_of(&a.body, "Expiry").as_deref(), Some("7200"));
    assert!(
        !a.body.contains("<CallbackCredentials>"),
        "credentials replaced: {}",
        a.body
    );
    let a = call(
        &app,
        &t,
        Method::PUT,
        &format!("/accounts/{{acct}}/subscriptions/{orders}"),
        Some(&subscription_xml("e911s", &moved.url, "")),
    )
    .await;
    assert_eq!(text_of(&a.body, "ErrorCode").as_deref(), Some("14500"));

    // Expiry: the legacy subscription lived 60 s. Two minutes later an order completes: the
    // live subscription is told, the expired one and the one filtered to another order are not
    // (the fan-out writes all of an event's deliveries in one transaction).
    app.clock.advance(Span::minutes(2));
    let live = subscribe(&app, &t, &subscription_xml("orders", &plain.url, "")).await;
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/orders",
        Some(&order_xml(&site, &existing(&["2065617890"]))),
    )
    .await;
    let order3 = last_segment(&a);
    settle(&app, &t, "orders", &order3).await;
    let got = plain.wait_for_deliveries(4, WAIT).await;
    assert_eq!(
        text_of(&got[3].body, "OrderId").as_deref(),
        Some(order3.as_str())
    );
    assert_eq!(
        text_of(&got[3].body, "SubscriptionId").as_deref(),
        Some(live.as_str())
    );
    assert_eq!(
        native_deliveries(&app, &t, &legacy).await.len(),
        2,
        "expired: only the first two orders"
    );
    assert_eq!(
        native_deliveries(&app, &t, &orders).await.len(),
        2,
        "filtered to another order"
    );
    assert!(moved.requests().is_empty());

    // Delete: 200, then 16000.
    let a = call(
        &app,
        &t,
        Method::DELETE,
        &format!("/accounts/{{acct}}/subscriptions/{orders}"),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = call(
        &app,
        &t,
        Method::GET,
        &format!("/accounts/{{acct}}/subscriptions/{orders}"),
        None,
    )
    .await;
    xml_answer(&a, StatusCode::NOT_FOUND);
    assert_eq!(text_of(&a.body, "ErrorCode").as_deref(), Some("16000"));
    let a = call(
        &app,
        &t,
        Method::DELETE,
        &format!("/accounts/{{acct}}/subscriptions/{orders}"),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_subscriptions_and_notifications() {
    flow(spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_subscriptions_and_notifications_on_postgres() {
    let Some(app) = spawn_app_on(Backend::Postgres).await else {
        eprintln!("NUMBERSD_TEST_POSTGRES_URL not set: skipping the PostgreSQL run");
        return;
    };
    flow(app).await;
}

/// A native webhook of the same account is not one of Bandwidth's subscriptions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_webhooks_are_not_bandwidth_subscriptions() {
    let app = spawn_app().await;
    let (t, _site, _peer) = setup(&app).await;
    let plain = Receiver::start().await;
    let res = app
        .post(
            &t.creds,
            "/v1/webhooks",
            serde_json::json!({"url": plain.url}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let native: Value = res.json().await.unwrap();
    let id = native["id"].as_str().unwrap();
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/subscriptions",
        None,
    )
    .await;
    assert!(!a.body.contains(id), "{}", a.body);
    let a = call(
        &app,
        &t,
        Method::DELETE,
        &format!("/accounts/{{acct}}/subscriptions/{id}"),
        None,
    )
    .await;
    assert_eq!(text_of(&a.body, "ErrorCode").as_deref(), Some("16000"));
}
