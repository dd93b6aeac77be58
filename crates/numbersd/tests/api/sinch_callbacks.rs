//! The Sinch Number Order API and Sinch callbacks over real HTTP, on SQLite and PostgreSQL: the
//! whole KYC flow through the Sinch routes (lookup requirements, create, an invalid then a valid
//! registration, an over-size then a good upload, submit, operator approval; a second order
//! rejected; a third expired by the clock) with each NUMBER_ORDER_PROCESSING callback received by
//! a real receiver and its `X-Sinch-Signature` verified; active-number provisioning callbacks;
//! unsigned callbacks for a project without a secret. Documents are compared with snapshots in
//! `snapshots/sinch/`.

use std::time::Duration;

use chrono::Duration as Span;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha1::Sha1;

use crate::helpers::{Backend, INVENTORY_CSV, Tenant, TestApp, on_both_databases, spawn_app_on};
use crate::receiver::{Received, Receiver};
use crate::sinch::{assert_snapshot, project_path};

const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "callback-secret-0123456789-abcdefghij";
/// The built-in AU MOBILE requirement's proof-of-identity attachment.
const AU_IDENTITY: &str = "9a3c6f0e-2b1d-4c5e-8f70-1a2b3c4d5e01";

on_both_databases!(
    number_order_flow_with_signed_callbacks,
    provisioning_callbacks_of_an_active_number,
);

/// What a receiver computes: lowercase hex HMAC-SHA1 of the raw body with the project secret.
pub fn expected_signature(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn assert_signed(r: &Received, secret: &str) {
    assert_eq!(
        r.header("x-sinch-signature"),
        expected_signature(secret, &r.body),
        "signature of {}",
        r.body
    );
    assert_eq!(r.header("content-type"), "application/json");
}

async fn send(
    app: &TestApp,
    tenant: &Tenant,
    method: Method,
    rest: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.request(method, &tenant.creds, &project_path(tenant, rest));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn upload(
    app: &TestApp,
    tenant: &Tenant,
    order: &str,
    attachment: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name("passport.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .part("file", part)
        .text("documentType", "PASSPORT");
    let res = app
        .request(
            Method::POST,
            &tenant.creds,
            &project_path(
                tenant,
                &format!("numberOrders/{order}/attachments/{attachment}"),
            ),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn operator(app: &TestApp, path: &str, body: Value) -> Value {
    let res = app.post(&app.operator, path, body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.json().await.unwrap()
}

/// Ids and times change from run to run.
fn stable(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        // Phone numbers are stable; order and event ids are not.
                        "idNumberOrder" | "eventId" | "resourceId"
                            if !v.as_str().is_some_and(|s| s.starts_with('+')) =>
                        {
                            json!("[id]")
                        }
                        "expireTime" | "createTime" | "updateTime" | "timestamp" => {
                            json!("[time]")
                        }
                        _ => stable(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(stable).collect()),
        other => other.clone(),
    }
}

fn valid_registration() -> Value {
    json!({
        "businessName": "Acme Pty Ltd",
        "abn": "51824753556",
        "contactFirstName": "Ada",
        "contactLastName": "Lovelace",
        "contactEmail": "ada@acme.example",
        "streetAddress": "1 George Street",
        "city": "Sydney",
        "state": "NSW",
        "postalCode": "2000",
        "useCase": "TWO_WAY_SMS",
    })
}

async fn create_order(app: &TestApp, tenant: &Tenant, number: &str, callback: &str) -> Value {
    let (status, order) = send(
        app,
        tenant,
        Method::POST,
        "numberOrders:createNumberOrder",
        Some(json!({
            "regionCode": "AU",
            "numberType": "MOBILE",
            "numberOrderOption": {"phoneNumbers": [number]},
            "smsConfiguration": {"servicePlanId": "plan-au"},
            "callbackUrl": callback,
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{order}");
    assert_eq!(order["state"], "CREATED");
    order
}

/// Waits for `n` callbacks and returns them ordered by (order of) arrival.
async fn callbacks(receiver: &Receiver, n: usize) -> Vec<Value> {
    let got = receiver.wait_for_deliveries(n, WAIT).await;
    for r in &got {
        assert_signed(r, SECRET);
    }
    got.iter().map(Received::json).collect()
}

async fn number_order_flow_with_signed_callbacks(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let tenant = app.tenant("KYC customer").await;
    let receiver = Receiver::start().await;
    let (status, _) = send(
        &app,
        &tenant,
        Method::PATCH,
        "callbackConfiguration",
        Some(json!({"hmacSecret": SECRET})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Numbers that need documents say so; US LOCAL asks for fields only.
    let (_, au) = send(
        &app,
        &tenant,
        Method::GET,
        "availableNumbers?regionCode=AU&type=MOBILE",
        None,
    )
    .await;
    assert_eq!(
        au["availableNumbers"][0]["supportingDocumentationRequired"],
        true
    );
    let (_, us) = send(
        &app,
        &tenant,
        Method::GET,
        "availableNumbers/+12065550100",
        None,
    )
    .await;
    assert_eq!(us["supportingDocumentationRequired"], false);

    // 1. What AU MOBILE needs.
    let (status, requirements) = send(
        &app,
        &tenant,
        Method::POST,
        "numberOrders:lookupNumberRequirements",
        Some(json!({"regionCode": "AU", "numberType": "MOBILE"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(requirements["attachments"][0]["id"], AU_IDENTITY);
    assert_snapshot("number_requirements_au_mobile", &requirements, &tenant.id);

    // 2. Order one number; it is held for 48 hours.
    let order = create_order(&app, &tenant, "+61491570156", &receiver.url).await;
    let id = order["idNumberOrder"].as_str().unwrap().to_string();
    let created =
        chrono::DateTime::parse_from_rfc3339(order["createTime"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(order["expireTime"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, Span::hours(48));
    assert_snapshot("number_order_created", &stable(&order), &tenant.id);
    let (status, again) = send(
        &app,
        &tenant,
        Method::GET,
        &format!("numberOrders/{id}"),
        None,
    )
    .await;
    assert_eq!((status, &again), (StatusCode::OK, &order));
    let (status, taken) = send(
        &app,
        &tenant,
        Method::POST,
        "numberOrders:createNumberOrder",
        Some(json!({"regionCode": "AU", "numberType": "MOBILE",
                     "numberOrderOption": {"phoneNumbers": ["+61491570156"]}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(taken["error"]["status"], "FAILED_PRECONDITION");

    // 3. Registration: invalid (every problem named), then valid.
    let (status, invalid) = send(
        &app,
        &tenant,
        Method::PUT,
        &format!("numberOrders/{id}/registration"),
        Some(
            json!({"requestDetails": {"businessName": "A", "state": "XX", "postalCode": "20000"}}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_snapshot("number_order_registration_invalid", &invalid, &tenant.id);
    // Sinch's nested `data` shape is accepted too.
    let (status, registration) = send(
        &app,
        &tenant,
        Method::PUT,
        &format!("numberOrders/{id}/registration"),
        Some(json!({"requestDetails": {"data": [valid_registration()]}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{registration}");
    assert_eq!(registration["requestDetails"], valid_registration());

    // 4. Documents: over the 3 MiB limit is Sinch's 413, then a good one.
    let (status, too_large) = upload(
        &app,
        &tenant,
        &id,
        AU_IDENTITY,
        vec![b'x'; 3 * 1024 * 1024 + 1],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large["error"]["status"], "CONTENT_TOO_LARGE");
    assert_eq!(too_large["error"]["code"], 413);
    let (status, _) = upload(
        &app,
        &tenant,
        &id,
        AU_IDENTITY,
        b"%PDF-1.7 passport".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, registration) = send(
        &app,
        &tenant,
        Method::GET,
        &format!("numberOrders/{id}/registration"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_snapshot(
        "number_order_registration",
        &stable(&registration),
        &tenant.id,
    );

    // 5. Submit → IN_REVIEW; the operator approves → COMPLETED, the number is the project's.
    let (status, submitted) = send(
        &app,
        &tenant,
        Method::POST,
        &format!("numberOrders/{id}/submit"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted["state"], "IN_REVIEW");
    operator(
        &app,
        &format!("/v1/operator/number-orders/{id}/approve"),
        json!({}),
    )
    .await;
    let (_, done) = send(
        &app,
        &tenant,
        Method::GET,
        &format!("numberOrders/{id}"),
        None,
    )
    .await;
    assert_eq!(done["state"], "COMPLETED");
    let (status, active) = send(
        &app,
        &tenant,
        Method::GET,
        "activeNumbers/+61491570156",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(active["smsConfiguration"]["servicePlanId"], "plan-au");

    let got = callbacks(&receiver, 2).await;
    assert_snapshot(
        "callback_number_order_in_review",
        &stable(&got[0]),
        &tenant.id,
    );
    for (callback, status) in got.iter().zip(["IN_REVIEW", "COMPLETED"]) {
        assert_eq!(callback["resourceType"], "NUMBER_ORDER");
        assert_eq!(callback["resourceId"], id.as_str());
        assert_eq!(callback["eventType"], "NUMBER_ORDER_PROCESSING");
        assert_eq!(callback["status"], status);
        assert_eq!(callback["projectId"], tenant.id.as_str());
        assert!(callback["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    // A second order, rejected: its number is back on offer.
    let second = create_order(&app, &tenant, "+61491570157", &receiver.url).await;
    let second_id = second["idNumberOrder"].as_str().unwrap();
    operator(
        &app,
        &format!("/v1/operator/number-orders/{second_id}/reject"),
        json!({"reason": "The identity document is unreadable"}),
    )
    .await;
    let (_, rejected) = send(
        &app,
        &tenant,
        Method::GET,
        &format!("numberOrders/{second_id}/registration"),
        None,
    )
    .await;
    assert_eq!(
        rejected["logs"][0]["message"],
        "Rejected: The identity document is unreadable"
    );
    let (status, _) = send(
        &app,
        &tenant,
        Method::GET,
        "availableNumbers/+61491570157",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let got = callbacks(&receiver, 3).await;
    assert_eq!(
        (&got[2]["resourceId"], &got[2]["status"]),
        (&json!(second_id), &json!("REJECTED"))
    );

    // A third order, expired by the clock: EXPIRED, its number released.
    let third = create_order(&app, &tenant, "+61491570999", &receiver.url).await;
    let third_id = third["idNumberOrder"].as_str().unwrap();
    app.clock.advance(Span::hours(48) + Span::minutes(1));
    app.maintenance().await;
    let (_, expired) = send(
        &app,
        &tenant,
        Method::GET,
        &format!("numberOrders/{third_id}"),
        None,
    )
    .await;
    assert_eq!(expired["state"], "EXPIRED");
    let (status, _) = send(
        &app,
        &tenant,
        Method::GET,
        "availableNumbers/+61491570999",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let got = callbacks(&receiver, 4).await;
    assert_eq!(
        (&got[3]["resourceId"], &got[3]["status"]),
        (&json!(third_id), &json!("EXPIRED"))
    );
    // CREATED has no callback: four state changes, four callbacks, nothing more.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 4);
}

async fn provisioning_callbacks_of_an_active_number(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let signed = app.tenant("signed").await;
    let unsigned = app.tenant("unsigned").await;
    let receiver = Receiver::start().await;
    let plain = Receiver::start().await;
    let (status, _) = send(
        &app,
        &signed,
        Method::PATCH,
        "callbackConfiguration",
        Some(json!({"hmacSecret": SECRET})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, rented) = send(
        &app,
        &signed,
        Method::POST,
        "availableNumbers/+12065550100:rent",
        Some(json!({"smsConfiguration": {"servicePlanId": "plan-1"}, "callbackUrl": receiver.url})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rented}");
    app.maintenance().await;
    let got = callbacks(&receiver, 1).await;
    assert_snapshot(
        "callback_active_number_provisioned",
        &stable(&got[0]),
        &signed.id,
    );
    assert_eq!(got[0]["resourceId"], "+12065550100");

    // Unlinking the service plan and linking a voice app: two more outcomes.
    let (status, _) = send(
        &app,
        &signed,
        Method::PATCH,
        "activeNumbers/+12065550100",
        Some(json!({"smsConfiguration": null, "voiceConfiguration": {"type": "RTC", "appId": "app-1"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    app.maintenance().await;
    let got = callbacks(&receiver, 3).await;
    let mut kinds: Vec<(String, String)> = got[1..]
        .iter()
        .map(|c| {
            (
                c["eventType"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            (
                "DEPROVISIONING_FROM_SMS_PLATFORM".to_string(),
                "SUCCEEDED".to_string()
            ),
            (
                "PROVISIONING_TO_VOICE_PLATFORM".to_string(),
                "SUCCEEDED".to_string()
            ),
        ]
    );

    // A project without an hmacSecret gets its callbacks unsigned.
    let (status, _) = send(
        &app,
        &unsigned,
        Method::POST,
        "availableNumbers/+12065550101:rent",
        Some(json!({"voiceConfiguration": {"appId": "app-2"}, "callbackUrl": plain.url})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    app.maintenance().await;
    let got = plain.wait_for_deliveries(1, WAIT).await;
    assert!(got[0].headers.get("x-sinch-signature").is_none());
    assert_eq!(got[0].json()["eventType"], "PROVISIONING_TO_VOICE_PLATFORM");
    assert_eq!(receiver.requests().len(), 3);
}
