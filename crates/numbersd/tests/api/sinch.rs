//! The Sinch dialect over real HTTP: OAuth2 tokens and their expiry (ManualClock), available
//! regions / numbers, rent and rentAny, active numbers (list, paging, PATCH null-vs-absent,
//! release), provisioning states through the built-in and an HTTP hook, callbackConfiguration,
//! Sinch's wire habits and its error documents. JSON documents are compared with snapshots in
//! `snapshots/sinch/` (volatile values redacted; `UPDATE_SNAPSHOTS=1` rewrites them).

use std::time::Duration;

use axum::Json;
use axum::routing::post;
use chrono::Duration as Span;
use numbers_core::provisioning::Provisioner;
use numbersd::provisioning::HttpProvisioner;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, INVENTORY_CSV, Tenant, TestApp, spawn_app, spawn_app_configured, spawn_app_on,
};
use crate::snapshots;

pub fn project_path(tenant: &Tenant, rest: &str) -> String {
    format!("/v1/projects/{}/{rest}", tenant.id)
}

async fn token(app: &TestApp, tenant: &Tenant) -> String {
    let res = app
        .client
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(&tenant.creds.key_id, Some(&tenant.creds.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// A request with a bearer token.
async fn call(
    app: &TestApp,
    bearer: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(bearer);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, value)
}

/// Replaces values that change from run to run (ids, times, tokens) by placeholders.
fn redact(value: &Value, project: &str) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "lastUpdatedTime" | "nextChargeDate" | "expireAt" => {
                            json!("[time]")
                        }
                        "nextPageToken" if v.as_str().is_some_and(|t| !t.is_empty()) => {
                            json!("[token]")
                        }
                        _ => redact(v, project),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| redact(v, project)).collect()),
        Value::String(s) if s == project => json!("[projectId]"),
        Value::String(s) if s.contains(project) => json!(s.replace(project, "[projectId]")),
        other => other.clone(),
    }
}

/// Compares the redacted document with `snapshots/sinch/<name>.json` (`crate::snapshots`).
#[track_caller]
pub fn assert_snapshot(name: &str, value: &Value, project: &str) {
    let actual = serde_json::to_string_pretty(&redact(value, project)).unwrap() + "\n";
    snapshots::assert_matches(&format!("sinch/{name}.json"), &actual);
}

/// Polls GET activeNumbers/{n} until `done` holds for it.
async fn await_number(
    app: &TestApp,
    bearer: &str,
    tenant: &Tenant,
    e164: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..300 {
        let (status, body) = call(
            app,
            bearer,
            Method::GET,
            &project_path(tenant, &format!("activeNumbers/{e164}")),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if done(&body) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{e164} never reached the expected state");
}

fn settled(n: &Value) -> bool {
    n["smsConfiguration"].get("scheduledProvisioning").is_none()
        && n["voiceConfiguration"]
            .get("scheduledVoiceProvisioning")
            .is_none()
}

fn error_of(body: &Value) -> (&str, u64) {
    (
        body["error"]["status"].as_str().unwrap(),
        body["error"]["code"]
            .as_u64()
            .expect("code is a JSON integer"),
    )
}

#[tokio::test]
async fn oauth_tokens_expire_by_the_clock_and_basic_works_too() {
    let app = spawn_app().await;
    let acme = app.tenant("Acme").await;
    let res = app
        .client
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(&acme.creds.key_id, Some(&acme.creds.secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "");
    let bearer = body["access_token"].as_str().unwrap().to_string();

    let regions = project_path(&acme, "availableRegions");
    assert_eq!(
        call(&app, &bearer, Method::GET, &regions, None).await.0,
        StatusCode::OK
    );

    // Bad client credentials and grants, RFC 6749 style.
    let res = app
        .client
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(&acme.creds.key_id, Some("wrong"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let res = app
        .client
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(&acme.creds.key_id, Some(&acme.creds.secret))
        .body("grant_type=password")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );

    // One hour later the token is expired: 401 with a challenge that says so.
    app.clock.advance(Span::seconds(3600));
    let res = app
        .client
        .get(format!("{}{regions}", app.base))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(
        challenge,
        r#"Bearer error="invalid_token", error_description="token expired""#
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_of(&body), ("UNAUTHENTICATED", 401));

    // An unknown token is not "expired" (no refresh loop), and Basic still works.
    let res = app
        .client
        .get(format!("{}{regions}", app.base))
        .bearer_auth("nbt_unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        !res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("expired")
    );
    let res = app.get(&acme.creds, &regions).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // A fresh token works; another project's path is PERMISSION_DENIED.
    let bearer = token(&app, &acme).await;
    let globex = app.tenant("Globex").await;
    let (status, body) = call(
        &app,
        &bearer,
        Method::GET,
        &project_path(&globex, "activeNumbers"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_of(&body), ("PERMISSION_DENIED", 403));

    // Revoking the key ends its tokens.
    let res = app
        .request(
            Method::DELETE,
            &app.operator,
            &format!("/v1/operator/keys/{}", acme.creds.key_id),
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert_eq!(
        call(&app, &bearer, Method::GET, &regions, None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn lifecycle(app: TestApp) {
    app.import_csv(INVENTORY_CSV).await;
    let acme = app.tenant("Acme").await;
    let bearer = token(&app, &acme).await;
    let project = acme.id.clone();
    let get = |path: String| {
        let (app, bearer) = (&app, bearer.clone());
        async move { call(app, &bearer, Method::GET, &path, None).await }
    };

    let (status, regions) = get(project_path(&acme, "availableRegions")).await;
    assert_eq!(status, StatusCode::OK);
    assert_snapshot("available_regions", &regions, &project);
    let (_, local_only) = get(project_path(
        &acme,
        "availableRegions?types=TOLL_FREE&types=MOBILE",
    ))
    .await;
    let codes: Vec<&str> = local_only["availableRegions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["regionCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["AU", "GB", "US"]);

    // Search: pattern with and without the country code, `+` raw or %2B, list styles.
    let numbers = |body: &Value, key: &str| -> Vec<String> {
        body[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["phoneNumber"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, found) = get(project_path(
        &acme,
        "availableNumbers?regionCode=US&type=LOCAL&numberPattern.pattern=206555&numberPattern.searchPattern=START&capabilities=SMS&capabilities=VOICE&size=3",
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_snapshot("available_numbers_search", &found, &project);
    for query in [
        "numberPattern.pattern=+1206555&numberPattern.searchPattern=START&capabilities=SMS,VOICE",
        "numberPattern.pattern=%2B1206555&capabilities=SMS&capability=VOICE",
    ] {
        let (_, same) = get(project_path(
            &acme,
            &format!("availableNumbers?regionCode=US&type=LOCAL&size=3&{query}"),
        ))
        .await;
        assert_eq!(
            numbers(&same, "availableNumbers"),
            numbers(&found, "availableNumbers"),
            "{query}"
        );
    }
    let (_, ending) = get(project_path(
        &acme,
        "availableNumbers?regionCode=US&type=LOCAL&numberPattern.pattern=2233&numberPattern.searchPattern=END",
    ))
    .await;
    assert_eq!(
        numbers(&ending, "availableNumbers"),
        ["+12065552233", "+19195552233"]
    );
    let (_, contains) = get(project_path(
        &acme,
        "availableNumbers?regionCode=US&type=TOLL_FREE&numberPattern.pattern=555&numberPattern.searchPattern=CONTAINS&capabilities=SMS",
    ))
    .await;
    assert_eq!(
        numbers(&contains, "availableNumbers"),
        ["+18005550199", "+18885554321"]
    );

    // Check one number: `+` raw and %2B.
    for path in [
        "availableNumbers/+12065550100",
        "availableNumbers/%2B12065550100",
    ] {
        let (status, one) = get(project_path(&acme, path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {one}");
        assert_eq!(one["phoneNumber"], "+12065550100");
    }

    // Rent with both configurations and a callback URL: WAITING at first, applied afterwards.
    let (status, rented) = call(
        &app,
        &bearer,
        Method::POST,
        &project_path(&acme, "availableNumbers/+12065550100:rent"),
        Some(json!({
            "smsConfiguration": {"servicePlanId": "plan-1"},
            "voiceConfiguration": {"type": "RTC", "appId": "app-1"},
            "callbackUrl": "http://127.0.0.1:9/sinch/cb",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rented}");
    let rented = json!({
        "phoneNumber": rented["phoneNumber"],
        "smsConfiguration": {
            "servicePlanId": rented["smsConfiguration"]["servicePlanId"],
            "scheduledProvisioning": {
                "servicePlanId": rented["smsConfiguration"]["scheduledProvisioning"]["servicePlanId"],
                "status": if rented["smsConfiguration"]["scheduledProvisioning"].is_object() { "present" } else { "absent" },
            },
        },
        "callbackUrl": rented["callbackUrl"],
    });
    assert_eq!(
        rented,
        json!({
            "phoneNumber": "+12065550100",
            "smsConfiguration": {"servicePlanId": "", "scheduledProvisioning": {"servicePlanId": "plan-1", "status": "present"}},
            "callbackUrl": "http://127.0.0.1:9/sinch/cb",
        }),
        "the rent answer shows the change as scheduled, not applied"
    );
    let active = await_number(&app, &bearer, &acme, "+12065550100", settled).await;
    assert_snapshot("active_number_provisioned", &active, &project);

    // rentAny with nested criteria.
    let (status, any) = call(
        &app,
        &bearer,
        Method::POST,
        &project_path(&acme, "availableNumbers:rentAny"),
        Some(json!({
            "regionCode": "US",
            "type": "LOCAL",
            "numberPattern": {"pattern": "+1919", "searchPattern": "START"},
            "capabilities": ["SMS", "VOICE"],
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{any}");
    assert_eq!(any["phoneNumber"], "+19195550142");
    // Renting a taken number: FAILED_PRECONDITION; an unknown one: NOT_FOUND.
    let (status, err) = call(
        &app,
        &bearer,
        Method::POST,
        &project_path(&acme, "availableNumbers/+12065550100:rent"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&err), ("FAILED_PRECONDITION", 400));
    let (status, err) = call(
        &app,
        &bearer,
        Method::POST,
        &project_path(&acme, "availableNumbers/+12065559876:rent"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_snapshot("error_rent_unknown_number", &err, &project);
    let (status, _) = get(project_path(&acme, "availableNumbers/+12065550100")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a rented number is no longer available"
    );

    // A third number, so paging has something to do.
    let (status, _) = call(
        &app,
        &bearer,
        Method::POST,
        &project_path(&acme, "availableNumbers/+12532001234:rent"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // List: pages of one with URL-safe tokens, totalSize, capability filters in both styles.
    let mut seen = Vec::new();
    let mut token_param = String::new();
    loop {
        let (status, page) = get(project_path(
            &acme,
            &format!("activeNumbers?regionCode=US&type=LOCAL&pageSize=1{token_param}"),
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["totalSize"], 3);
        seen.extend(numbers(&page, "activeNumbers"));
        let next = page["nextPageToken"].as_str().unwrap();
        if next.is_empty() {
            break;
        }
        assert!(
            next.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        token_param = format!("&pageToken={next}");
    }
    assert_eq!(seen, ["+12065550100", "+12532001234", "+19195550142"]);
    for query in [
        "capability=SMS,VOICE",
        "capabilities=SMS&capabilities=VOICE",
    ] {
        let (_, page) = get(project_path(
            &acme,
            &format!("activeNumbers?{query}&numberPattern.pattern=206"),
        ))
        .await;
        assert_eq!(numbers(&page, "activeNumbers"), ["+12065550100"], "{query}");
        assert_eq!(page["totalSize"], 1);
        assert_eq!(page["nextPageToken"], "");
    }
    let (_, listed) = get(project_path(
        &acme,
        "activeNumbers?numberPattern.pattern=%2B1206",
    ))
    .await;
    assert_snapshot("active_numbers_list", &listed, &project);

    // PATCH: explicit null clears, an omitted field is untouched, unknown fields are ignored.
    let path = project_path(&acme, "activeNumbers/+12065550100");
    let (status, updated) = call(
        &app,
        &bearer,
        Method::PATCH,
        &path,
        Some(json!({"displayName": "Front desk", "somethingNew": {"x": 1}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["displayName"], "Front desk");
    assert_eq!(
        updated["callbackUrl"], "http://127.0.0.1:9/sinch/cb",
        "omitted: untouched"
    );
    assert_eq!(
        updated["smsConfiguration"]["servicePlanId"], "plan-1",
        "omitted: untouched"
    );
    let (_, updated) = call(
        &app,
        &bearer,
        Method::PATCH,
        &path,
        Some(json!({"callbackUrl": null})),
    )
    .await;
    assert_eq!(updated["callbackUrl"], "", "null: cleared");
    assert_eq!(updated["displayName"], "Front desk", "omitted: untouched");
    let (_, updated) = call(
        &app,
        &bearer,
        Method::PATCH,
        &path,
        Some(json!({"displayName": null, "smsConfiguration": null})),
    )
    .await;
    assert_eq!(updated["displayName"], "");
    assert_eq!(
        updated["smsConfiguration"]["scheduledProvisioning"]["servicePlanId"], "",
        "null configuration: an unlink is scheduled"
    );
    let unlinked = await_number(&app, &bearer, &acme, "+12065550100", settled).await;
    assert_eq!(unlinked["smsConfiguration"]["servicePlanId"], "");
    assert_eq!(
        unlinked["voiceConfiguration"]["appId"], "app-1",
        "voice untouched"
    );
    let (status, _) = call(&app, &bearer, Method::PATCH, &path, Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "an empty PATCH changes nothing");

    // Release (empty body, with the JSON content type Python sends): aging, gone from the list.
    let res = app
        .client
        .post(format!("{}{path}:release", app.base))
        .bearer_auth(&bearer)
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let released: Value = res.json().await.unwrap();
    assert_eq!(released["phoneNumber"], "+12065550100");
    let (status, err) = get(path.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["details"][0]["resourceType"], "ActiveNumber");
    let (status, _) = get(project_path(&acme, "availableNumbers/+12065550100")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "aging numbers are not offered"
    );
    let (_, page) = get(project_path(&acme, "activeNumbers")).await;
    assert_eq!(page["totalSize"], 2);
}

#[tokio::test]
async fn search_rent_list_update_release_on_sqlite() {
    lifecycle(spawn_app().await).await;
}

#[tokio::test]
async fn search_rent_list_update_release_on_postgres() {
    if let Some(app) = spawn_app_on(Backend::Postgres).await {
        lifecycle(app).await;
    }
}

#[tokio::test]
async fn errors_use_sinch_documents() {
    let app = spawn_app().await;
    app.import_csv(INVENTORY_CSV).await;
    let acme = app.tenant("Acme").await;
    let bearer = token(&app, &acme).await;
    let project = acme.id.clone();

    let (status, err) = call(
        &app,
        &bearer,
        Method::GET,
        &project_path(&acme, "activeNumbers/12065550100"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_snapshot("error_not_e164", &err, &project);
    let (status, err) = call(
        &app,
        &bearer,
        Method::GET,
        &project_path(&acme, "activeNumbers/+12065550100"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_snapshot("error_active_not_found", &err, &project);
    let (status, err) = call(
        &app,
        &bearer,
        Method::GET,
        &project_path(&acme, "availableNumbers?type=LOCAL&capabilities=FAX"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_snapshot("error_search_arguments", &err, &project);

    let res = app
        .client
        .post(format!(
            "{}{}",
            app.base,
            project_path(&acme, "availableNumbers/+12065550100:rent")
        ))
        .bearer_auth(&bearer)
        .header("content-type", "application/json")
        .body("{\"smsConfiguration\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_of(&body), ("INVALID_ARGUMENT", 400));
    assert_eq!(
        body["error"]["details"][0]["fieldViolations"][0]["field"],
        "body"
    );

    let (status, err) = call(
        &app,
        &bearer,
        Method::POST,
        &project_path(&acme, "availableNumbers/+12065550100:rent"),
        Some(json!({"smsConfiguration": {}, "voiceConfiguration": {"type": "SIP"}, "callbackUrl": "ftp://x"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_snapshot("error_rent_body", &err, &project);
    let (status, _) = call(
        &app,
        &bearer,
        Method::GET,
        &project_path(&acme, "availableNumbers/+12065550100"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a refused rent takes nothing");

    let (status, err) = call(
        &app,
        &bearer,
        Method::POST,
        &project_path(&acme, "availableNumbers/+12065550100:buy"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_of(&err), ("NOT_FOUND", 404));

    let res = app
        .client
        .get(format!(
            "{}{}",
            app.base,
            project_path(&acme, "activeNumbers")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_of(&body), ("UNAUTHENTICATED", 401));
}

#[tokio::test]
async fn callback_configuration_keeps_a_valid_secret_per_project() {
    let app = spawn_app().await;
    let acme = app.tenant("Acme").await;
    let bearer = token(&app, &acme).await;
    let path = project_path(&acme, "callbackConfiguration");
    let (status, empty) = call(&app, &bearer, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(empty, json!({"projectId": acme.id}));
    for bad in [
        json!({"hmacSecret": "short"}),
        json!({"hmacSecret": format!("{}_", "a".repeat(40))}),
        json!({}),
    ] {
        let (status, err) = call(&app, &bearer, Method::PATCH, &path, Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            err["error"]["details"][0]["fieldViolations"][0]["field"],
            "hmacSecret"
        );
    }
    let secret = "0123456789abcdef-ABCDEF-0123456789";
    let (status, saved) = call(
        &app,
        &bearer,
        Method::PATCH,
        &path,
        Some(json!({"hmacSecret": secret})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_snapshot("callback_configuration", &saved, &acme.id);
    let (_, again) = call(&app, &bearer, Method::GET, &path, None).await;
    assert_eq!(again["hmacSecret"], secret);
    let globex = app.tenant("Globex").await;
    let res = app
        .get(
            &globex.creds,
            &project_path(&globex, "callbackConfiguration"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"projectId": globex.id})
    );
}

/// A hook receiver: SMS changes fail with two codes, voice changes succeed.
async fn spawn_hook() -> (String, tokio::sync::mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let router = axum::Router::new().route(
        "/provision",
        post(move |Json(body): Json<Value>| {
            let tx = tx.clone();
            async move {
                let answer = if body["channel"] == "SMS" && body["action"] == "PROVISION" {
                    json!({"status": "FAILED", "errorCodes": ["CAMPAIGN_NOT_AVAILABLE", "EXCEEDED_10DLC_LIMIT"]})
                } else {
                    json!({"status": "SUCCEEDED"})
                };
                let _ = tx.send(body);
                Json(answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/provision", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, rx)
}

#[tokio::test]
async fn an_http_provisioning_hook_decides_and_failures_are_reported() {
    let (url, mut calls) = spawn_hook().await;
    let hook: std::sync::Arc<dyn Provisioner> =
        std::sync::Arc::new(HttpProvisioner::new(&url, Duration::from_secs(5)).unwrap());
    let app = spawn_app_configured(Backend::Sqlite, move |s| s.with_provisioner(hook))
        .await
        .unwrap();
    app.import_csv(INVENTORY_CSV).await;
    let acme = app.tenant("Acme").await;
    let bearer = token(&app, &acme).await;
    let (status, _) = call(
        &app,
        &bearer,
        Method::POST,
        &project_path(&acme, "availableNumbers/+12065550101:rent"),
        Some(json!({
            "smsConfiguration": {"servicePlanId": "plan-9", "campaignId": "camp-1"},
            "voiceConfiguration": {"type": "EST", "trunkId": "trunk-7"},
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let failed = await_number(&app, &bearer, &acme, "+12065550101", |n| {
        n["smsConfiguration"]["scheduledProvisioning"]["status"] == "FAILED"
            && n["voiceConfiguration"]
                .get("scheduledVoiceProvisioning")
                .is_none()
    })
    .await;
    assert_snapshot("active_number_provisioning_failed", &failed, &acme.id);
    let mut seen = Vec::new();
    while let Ok(call) = calls.try_recv() {
        seen.push(call);
    }
    assert_eq!(seen.len(), 2, "one hook call per change: {seen:#?}");
    let sms = seen.iter().find(|c| c["channel"] == "SMS").unwrap();
    assert_eq!(sms["phoneNumber"], "+12065550101");
    assert_eq!(sms["accountId"], acme.id.as_str());
    assert_eq!(
        sms["configuration"],
        json!({"servicePlanId": "plan-9", "campaignId": "camp-1"})
    );
    assert_eq!(sms["attempt"], 1);

    // The failure and the success are in the number's history, for callbacks to render.
    let res = app
        .get(&acme.creds, "/v1/numbers/+12065550101/history")
        .send()
        .await
        .unwrap();
    let history: Value = res.json().await.unwrap();
    let kinds: Vec<&str> = history["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"number.provisioning_failed"), "{kinds:?}");
    assert!(kinds.contains(&"number.provisioned"), "{kinds:?}");
}

#[tokio::test]
async fn an_unreachable_hook_fails_the_change_instead_of_hanging() {
    let hook: std::sync::Arc<dyn Provisioner> = std::sync::Arc::new(
        HttpProvisioner::new("http://127.0.0.1:9/unreachable", Duration::from_secs(2)).unwrap(),
    );
    let app = spawn_app_configured(Backend::Sqlite, move |s| s.with_provisioner(hook))
        .await
        .unwrap();
    app.import_csv(INVENTORY_CSV).await;
    let acme = app.tenant("Acme").await;
    let bearer = token(&app, &acme).await;
    let (status, _) = call(
        &app,
        &bearer,
        Method::POST,
        &project_path(&acme, "availableNumbers/+12065550101:rent"),
        Some(json!({"smsConfiguration": {"servicePlanId": "p"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let failed = await_number(&app, &bearer, &acme, "+12065550101", |n| {
        n["smsConfiguration"]["scheduledProvisioning"]["status"] == "FAILED"
    })
    .await;
    assert_eq!(
        failed["smsConfiguration"]["scheduledProvisioning"]["errorCodes"],
        json!(["PARTNER_SERVICE_UNAVAILABLE"])
    );
}
