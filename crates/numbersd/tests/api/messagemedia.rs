//! The MessageMedia dialect over real HTTP: the seed guide step by step (search AU mobile SMS
//! numbers three at a time, follow `next_token`, assign the third, PATCH label and metadata, read
//! back, list assignments, delete, see it aging), the 409 cases, HMAC signatures accepted and
//! tampered ones refused, 100 concurrent assignments of one number with exactly one winner, and
//! the same inventory seen through the native API.

use std::collections::HashSet;

use chrono::Duration;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, Creds, TestApp, spawn_app, spawn_app_on};
use crate::mm_schema::SendChecked;

const BASE: &str = "/v1/messaging/numbers/dedicated";

/// AU mobiles with SMS: …101 to …106, …851616 and …999999 (eight); the rest differ in type,
/// capabilities or country.
const AU_CSV: &str = "\
e164,type,capabilities
+61438000101,MOBILE,SMS
+61438000102,MOBILE,SMS|MMS
+61438000103,MOBILE,SMS
+61438000104,MOBILE,SMS
+61438000105,MOBILE,SMS
+61438000106,MOBILE,SMS
+61438851616,MOBILE,SMS
+61438999999,MOBILE,SMS
+61438000200,MOBILE,MMS
+61290001234,LOCAL,SMS|VOICE
+447400123456,MOBILE,SMS
+18005550199,TOLL_FREE,VOICE|SMS
";

async fn json_of(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

/// A `{"message": …}` answer with this status; returns the message.
async fn message_of(res: Response, status: StatusCode) -> String {
    let body = json_of(res, status).await;
    body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {body}"))
        .to_string()
}

fn phone_numbers(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["phone_number"].as_str().unwrap().to_string())
        .collect()
}

/// A GET that must answer 200; its JSON.
async fn get_ok(app: &TestApp, creds: &Creds, path: impl AsRef<str>) -> Value {
    json_of(
        app.get(creds, path.as_ref()).send_checked().await.unwrap(),
        StatusCode::OK,
    )
    .await
}

async fn search(app: &TestApp, creds: &Creds, query: &str) -> Value {
    get_ok(app, creds, format!("{BASE}?{query}")).await
}

/// The MessageMedia id of a number on offer, found by its digits.
async fn id_of(app: &TestApp, creds: &Creds, e164: &str) -> String {
    let page = search(app, creds, &format!("matching=%2B{}", &e164[1..])).await;
    assert_eq!(phone_numbers(&page), vec![e164.to_string()]);
    page["data"][0]["id"].as_str().unwrap().to_string()
}

fn assignment_path(id: &str) -> String {
    format!("{BASE}/{id}/assignment")
}

async fn assign(app: &TestApp, creds: &Creds, id: &str, body: Value) -> Response {
    app.post(creds, &assignment_path(id), body)
        .send_checked()
        .await
        .unwrap()
}

async fn guide_walk(app: TestApp) {
    app.import_csv(AU_CSV).await;
    let a = app.tenant("reseller-a").await;
    let b = app.tenant("reseller-b").await;

    // 1. Search: Australian mobile numbers capable of SMS, three per page.
    let query = "country=AU&service_types=SMS&types=MOBILE&page_size=3";
    let first = search(&app, &a.creds, query).await;
    assert_eq!(
        phone_numbers(&first),
        vec!["+61438000101", "+61438000102", "+61438000103"]
    );
    assert_eq!(first["pagination"]["page_size"], 3);
    for n in first["data"].as_array().unwrap() {
        assert!(uuid::Uuid::parse_str(n["id"].as_str().unwrap()).is_ok());
        assert_eq!(n["country"], "AU");
        assert_eq!(n["type"], "MOBILE");
        assert!(
            n["capabilities"]
                .as_array()
                .unwrap()
                .contains(&json!("SMS"))
        );
        assert!(matches!(
            n["classification"].as_str(),
            Some("BRONZE" | "SILVER" | "GOLD")
        ));
        assert!(n["available_after"].is_string(), "on offer since import");
    }
    assert_eq!(first["data"][1]["capabilities"], json!(["SMS", "MMS"]));

    // 2. The next page with the token, trailing slash as some SDKs send it. Tokens are UUIDs, as
    // the schema types them (issue 14, item 11).
    let token = first["pagination"]["next_token"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(token).is_ok(), "{token}");
    // A UUID this server did not issue (the spec's example) names `token`.
    let res = app
        .get(
            &a.creds,
            &format!("{BASE}?{query}&token=0428d673-0f75-4063-9493-e89d75f13438"),
        )
        .send_checked()
        .await
        .unwrap();
    let refused = json_of(res, StatusCode::BAD_REQUEST).await;
    assert!(
        refused["details"][0].as_str().unwrap().starts_with("token"),
        "{refused}"
    );
    let second = search(&app, &a.creds, &format!("{query}&token={token}")).await;
    let second_slash = get_ok(&app, &a.creds, format!("{BASE}/?{query}&token={token}")).await;
    assert_eq!(second, second_slash);
    assert_eq!(
        phone_numbers(&second),
        vec!["+61438000104", "+61438000105", "+61438000106"]
    );
    let last = search(
        &app,
        &a.creds,
        &format!(
            "{query}&token={}",
            second["pagination"]["next_token"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(phone_numbers(&last), vec!["+61438851616", "+61438999999"]);
    assert_eq!(last["data"][1]["classification"], "GOLD");
    assert_eq!(last["pagination"]["next_token"], Value::Null);
    assert_eq!(last["pagination"]["page_size"], 2);

    // 3. Assign the third number of the page.
    let chosen = &second["data"][2];
    let number_id = chosen["id"].as_str().unwrap();
    let e164 = chosen["phone_number"].as_str().unwrap();
    let by_id = get_ok(&app, &a.creds, format!("{BASE}/{number_id}")).await;
    assert_eq!(&by_id, chosen);
    let created = json_of(
        app.request(Method::POST, &a.creds, &assignment_path(number_id))
            .send_checked()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let assignment_id = created["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&assignment_id).is_ok());
    assert_ne!(assignment_id, number_id);
    assert_eq!(created["number_id"], number_id);
    assert_eq!(created["label"], Value::Null);
    assert_eq!(created["metadata"], json!({}));

    // 4. PATCH label and metadata (by number id), then read back.
    let patched = json_of(
        app.request(Method::PATCH, &a.creds, &assignment_path(number_id))
            .json(&json!({"label": "Representative-Fred", "metadata": {"State": "Vic", "Region": "SE"}}))
            .send_checked()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let expected = json!({"id": assignment_id, "number_id": number_id, "label": "Representative-Fred", "metadata": {"Region": "SE", "State": "Vic"}});
    assert_eq!(patched, expected);
    let read = json_of(
        app.get(&a.creds, &assignment_path(number_id))
            .send_checked()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(read, expected);
    // A label-only PATCH leaves the metadata alone.
    let relabelled = json_of(
        app.request(Method::PATCH, &a.creds, &assignment_path(number_id))
            .json(&json!({"label": "HouseElf-Fred"}))
            .send_checked()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(relabelled["label"], "HouseElf-Fred");
    assert_eq!(relabelled["metadata"], expected["metadata"]);

    // 5. The account's assigned numbers, with filters.
    let assigned = get_ok(&app, &a.creds, format!("{BASE}/assignments")).await;
    assert_eq!(assigned["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        assigned["data"][0]["assignment"]["id"],
        assignment_id.as_str()
    );
    assert_eq!(assigned["data"][0]["assignment"]["label"], "HouseElf-Fred");
    assert_eq!(assigned["data"][0]["number"]["phone_number"], e164);
    // The schema's date-time, never null: an assigned number shows when its assignment began
    // (issue 14, item 12; the end of an assignment is unknown).
    let since = assigned["data"][0]["number"]["available_after"]
        .as_str()
        .expect("available_after is a date-time on assigned numbers");
    let since = chrono::DateTime::parse_from_rfc3339(since).unwrap();
    assert_eq!(since.with_timezone(&chrono::Utc), clock_now(&app));
    assert!(
        assigned["pagination"].get("next_token").is_none(),
        "omitted on the last page"
    );
    for (filter, expected_len) in [
        ("label=HouseElf-Fred", 1),
        ("label=Someone-Else", 0),
        (&format!("number_id={number_id}") as &str, 1),
        ("matching=0106", 1),
        ("matching=999", 0),
        ("country=AU&types=MOBILE&service_types=SMS", 1),
        ("type=LANDLINE", 0),
        ("type=LANDLINE&types=MOBILE", 1),
        ("classification=GOLD", 0),
    ] {
        let list = get_ok(&app, &a.creds, format!("{BASE}/assignments?{filter}")).await;
        assert_eq!(
            list["data"].as_array().unwrap().len(),
            expected_len,
            "{filter}"
        );
    }
    let others = get_ok(&app, &b.creds, format!("{BASE}/assignments/")).await;
    assert_eq!(others["data"], json!([]), "another account sees none of it");
    assert_eq!(
        phone_numbers(&search(&app, &b.creds, "matching=61438000106").await),
        Vec::<String>::new(),
        "an assigned number is not offered"
    );

    assert!(
        crate::mm_schema::CHECKED.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "every answer above went through the schema check"
    );

    // 6. Delete: 204, then the number ages.
    let res = app
        .request(Method::DELETE, &a.creds, &assignment_path(number_id))
        .send_checked()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    message_of(
        app.get(&a.creds, &assignment_path(number_id))
            .send_checked()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let aging = get_ok(&app, &a.creds, format!("{BASE}/{number_id}")).await;
    let available_after =
        chrono::DateTime::parse_from_rfc3339(aging["available_after"].as_str().unwrap()).unwrap();
    assert_eq!(
        available_after.with_timezone(&chrono::Utc),
        clock_now(&app) + Duration::days(45),
        "MessageMedia's 45-day quarantine"
    );
    assert_eq!(
        phone_numbers(&search(&app, &b.creds, "matching=61438000106").await),
        Vec::<String>::new(),
        "an aging number is not offered"
    );
    let refused = message_of(
        assign(&app, &b.creds, number_id, json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(refused.contains("aging"), "{refused}");

    // 7. The last owner may take it back during quarantine: a new assignment.
    let reclaimed = json_of(
        assign(&app, &a.creds, number_id, json!({"label": "Back"})).await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(reclaimed["id"], assignment_id.as_str());
    assert_eq!(reclaimed["label"], "Back");

    // 8. Released again, it is on offer to everyone once the quarantine is over.
    let res = app
        .request(
            Method::DELETE,
            &a.creds,
            &format!("{}/", assignment_path(number_id)),
        )
        .send_checked()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    app.clock.advance(Duration::days(46));
    app.maintenance().await;
    assert_eq!(
        phone_numbers(&search(&app, &b.creds, "matching=61438000106").await),
        vec![e164.to_string()]
    );
    json_of(
        assign(&app, &b.creds, number_id, json!({})).await,
        StatusCode::CREATED,
    )
    .await;
}

/// The server's (manual) time.
fn clock_now(app: &TestApp) -> chrono::DateTime<chrono::Utc> {
    use numbers_core::clock::Clock;
    app.clock.now()
}

#[tokio::test]
async fn the_seed_guide_step_by_step_on_sqlite() {
    guide_walk(spawn_app().await).await;
}

#[tokio::test]
async fn the_seed_guide_step_by_step_on_postgres() {
    if let Some(app) = spawn_app_on(Backend::Postgres).await {
        guide_walk(app).await;
    }
}

#[tokio::test]
async fn conflicts_and_errors_in_the_vendor_envelopes() {
    let app = spawn_app().await;
    app.import_csv(AU_CSV).await;
    let a = app.tenant("a").await;
    let b = app.tenant("b").await;
    let id = id_of(&app, &a.creds, "+61438000101").await;

    json_of(
        assign(
            &app,
            &a.creds,
            &id,
            json!({"label": "Mine", "unknown_field": 1}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // Taken by another account.
    let taken = message_of(
        assign(&app, &b.creds, &id, json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(taken.contains("assigned to another account"), "{taken}");
    // Already the caller's own.
    let own = message_of(
        assign(&app, &a.creds, &id, json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(own.contains("already assigned to this account"), "{own}");
    // Someone else's number is not theirs to read, change or delete, nor to see.
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let res = app
            .request(method.clone(), &b.creds, &assignment_path(&id))
            .json(&json!({"label": "x"}))
            .send_checked()
            .await
            .unwrap();
        message_of(res, StatusCode::NOT_FOUND).await;
    }
    message_of(
        app.get(&b.creds, &format!("{BASE}/{id}"))
            .send_checked()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    // Unknown and malformed ids.
    let unknown = uuid::Uuid::new_v4();
    message_of(
        assign(&app, &a.creds, &unknown.to_string(), json!({})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    message_of(
        app.get(&a.creds, &format!("{BASE}/not-a-uuid"))
            .send_checked()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    // 400s carry details.
    let other = id_of(&app, &a.creds, "+61438000102").await;
    let bad_json = json_of(
        app.request(Method::POST, &a.creds, &assignment_path(&other))
            .header("content-type", "application/json")
            .body("{\"label\": ")
            .send_checked()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(bad_json["message"].is_string());
    assert!(!bad_json["details"].as_array().unwrap().is_empty());
    let twelve: serde_json::Map<String, Value> =
        (0..12).map(|i| (format!("k{i}"), json!("v"))).collect();
    for body in [
        json!({"label": "x".repeat(101)}),
        json!({"metadata": twelve}),
        json!({"metadata": {"k": "v".repeat(257)}}),
        json!({"metadata": {"k".repeat(101): "v"}}),
        json!({"label": 7}),
    ] {
        let res = json_of(
            assign(&app, &a.creds, &other, body.clone()).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            res["details"].as_array().is_some_and(|d| !d.is_empty()),
            "{body} → {res}"
        );
    }
    let eleven: serde_json::Map<String, Value> = (0..11)
        .map(|i| (format!("k{i}"), json!("v".repeat(256))))
        .collect();
    json_of(
        assign(
            &app,
            &a.creds,
            &other,
            json!({"label": "x".repeat(100), "metadata": eleven}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let empty_patch = json_of(
        app.request(Method::PATCH, &a.creds, &assignment_path(&other))
            .json(&json!({"unknown": true}))
            .send_checked()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        empty_patch["details"][0]
            .as_str()
            .unwrap()
            .contains("label")
    );
    for query in [
        "page_size=101",
        "page_size=0",
        "types=PIGEON",
        "service_types=VOICE",
        "matching=%5E614.*",
        "token=not-ours!",
        "exact_service_types=maybe",
        "classification=PLATINUM",
    ] {
        let res = json_of(
            app.get(&a.creds, &format!("{BASE}?{query}"))
                .send_checked()
                .await
                .unwrap(),
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            res["details"].as_array().is_some_and(|d| !d.is_empty()),
            "{query}"
        );
    }

    // Credentials: none → 401, wrong → 403, an operator key is not a tenant → 403.
    let res = app
        .client
        .get(format!("{}{BASE}", app.base))
        .send_checked()
        .await
        .unwrap();
    message_of(res, StatusCode::UNAUTHORIZED).await;
    let wrong = Creds {
        key_id: a.creds.key_id.clone(),
        secret: "wrong-secret".into(),
    };
    assert_eq!(
        message_of(
            app.get(&wrong, BASE).send_checked().await.unwrap(),
            StatusCode::FORBIDDEN
        )
        .await,
        "Invalid authentication credentials"
    );
    message_of(
        app.get(&app.operator, BASE).send_checked().await.unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn search_filters_types_service_types_and_matching() {
    let app = spawn_app().await;
    app.import_csv(AU_CSV).await;
    let a = app.tenant("a").await;
    let found = |q: &'static str| {
        let app = &app;
        let creds = a.creds.clone();
        async move { phone_numbers(&search(app, &creds, q).await) }
    };
    assert_eq!(found("types=LANDLINE").await, vec!["+61290001234"]);
    assert_eq!(found("types=TEN_DLC").await, vec!["+61290001234"]);
    assert_eq!(
        found("types=TOLL_FREE,LANDLINE").await,
        vec!["+18005550199", "+61290001234"]
    );
    assert_eq!(found("types=TOLL_FREE&types=LANDLINE").await.len(), 2);
    assert_eq!(
        found("country=AU&service_types=MMS").await,
        vec!["+61438000102", "+61438000200"]
    );
    assert_eq!(
        found("country=AU&service_types=MMS&exact_service_types=true").await,
        vec!["+61438000200"]
    );
    assert_eq!(
        found("country=AU&service_types=SMS,MMS&exact_service_types=true").await,
        vec!["+61438000102"]
    );
    // Digits contained anywhere; a leading + anchors at the start (country code included).
    assert_eq!(found("matching=851616").await, vec!["+61438851616"]);
    assert_eq!(found("matching=%2B4474").await, vec!["+447400123456"]);
    assert_eq!(found("matching=+4474").await, vec!["+447400123456"]);
    assert_eq!(found("matching=%2B74").await, Vec::<String>::new());
    // …999999 is six of the same, …123456 six in sequence: both GOLD.
    assert_eq!(
        found("classification=GOLD").await,
        vec!["+447400123456", "+61438999999"]
    );
    // sort_by / sort_direction and unknown parameters are accepted and ignored.
    assert_eq!(
        found("matching=851616&sort_by=TIMESTAMP&sort_direction=ASCENDING&foo=bar").await,
        vec!["+61438851616"]
    );
    let default_page = search(&app, &a.creds, "").await;
    assert_eq!(default_page["data"].as_array().unwrap().len(), 12);
    assert_eq!(default_page["pagination"]["next_token"], Value::Null);
    // Capabilities shown are the vendor's words only (no VOICE).
    let landline = search(&app, &a.creds, "types=LANDLINE").await;
    assert_eq!(landline["data"][0]["capabilities"], json!(["SMS"]));
    assert_eq!(landline["data"][0]["type"], "LANDLINE");
}

/// `Date` as HTTP sends it, from the server's (manual) clock.
fn http_date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// A request signed the MessageMedia way: `Date`, `Content-MD5` (with a body) and the request
/// line, HMAC-SHA256 with the key's secret, base64.
fn signed(
    app: &TestApp,
    creds: &Creds,
    method: Method,
    path: &str,
    body: Option<&str>,
    date: &str,
) -> RequestBuilder {
    let (headers, md5_line, md5) = match body {
        Some(b) => {
            let md5 = numbers_core::signature::content_md5(b.as_bytes());
            (
                "Date Content-MD5 request-line",
                format!("Content-MD5: {md5}\n"),
                Some(md5),
            )
        }
        None => ("Date request-line", String::new(), None),
    };
    let signing = format!("Date: {date}\n{md5_line}{method} {path} HTTP/1.1");
    let signature = numbers_core::signature::sign(&creds.secret, &signing);
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("Date", date)
        .header(
            "Authorization",
            format!(r#"hmac username="{}", algorithm="hmac-sha256", headers="{headers}", signature="{signature}""#, creds.key_id),
        );
    if let (Some(b), Some(md5)) = (body, md5) {
        req = req
            .header("Content-MD5", md5)
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    req
}

#[tokio::test]
async fn hmac_signatures_accepted_and_tampered_ones_refused() {
    let app = spawn_app().await;
    app.import_csv(AU_CSV).await;
    let a = app.tenant("a").await;
    let now = http_date(clock_now(&app));
    let path = format!("{BASE}?country=AU&matching=851616");

    // A signed GET (no body) and a signed POST (body covered by Content-MD5).
    let page = json_of(
        signed(&app, &a.creds, Method::GET, &path, None, &now)
            .send_checked()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let id = page["data"][0]["id"].as_str().unwrap().to_string();
    let body = r#"{"label":"Signed","metadata":{"via":"hmac"}}"#;
    let created = json_of(
        signed(
            &app,
            &a.creds,
            Method::POST,
            &assignment_path(&id),
            Some(body),
            &now,
        )
        .send_checked()
        .await
        .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created["label"], "Signed");

    // Tampered signature → 403 in the vendor's envelope.
    let good = signed(&app, &a.creds, Method::GET, &path, None, &now)
        .build()
        .unwrap();
    let auth = good.headers()["authorization"]
        .to_str()
        .unwrap()
        .to_string();
    let sig_start = auth.find("signature=\"").unwrap() + "signature=\"".len();
    let mut tampered = auth.clone();
    let flipped = if &auth[sig_start..=sig_start] == "A" {
        "B"
    } else {
        "A"
    };
    tampered.replace_range(sig_start..=sig_start, flipped);
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .header("Date", &now)
        .header("Authorization", tampered)
        .send_checked()
        .await
        .unwrap();
    assert_eq!(
        message_of(res, StatusCode::FORBIDDEN).await,
        "Invalid authentication credentials"
    );

    // A signature over another request line (query changed after signing) is refused too.
    let res = app
        .client
        .get(format!("{}{BASE}?country=GB", app.base))
        .header("Date", &now)
        .header("Authorization", &auth)
        .send_checked()
        .await
        .unwrap();
    message_of(res, StatusCode::FORBIDDEN).await;

    // The body changed after signing: its digest no longer matches.
    let other = id_of(&app, &a.creds, "+61438000101").await;
    let req = signed(
        &app,
        &a.creds,
        Method::POST,
        &assignment_path(&other),
        Some(body),
        &now,
    )
    .body(r#"{"label":"Changed","metadata":{"via":"hmac"}}"#);
    let why = message_of(req.send_checked().await.unwrap(), StatusCode::UNAUTHORIZED).await;
    assert!(why.contains("Content-MD5"), "{why}");

    // A Date more than five minutes from the server's clock.
    let stale = http_date(clock_now(&app) - Duration::minutes(6));
    let why = message_of(
        signed(&app, &a.creds, Method::GET, &path, None, &stale)
            .send_checked()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(why.contains("5 minutes"), "{why}");
    let skewed_but_fine = http_date(clock_now(&app) + Duration::minutes(4));
    json_of(
        signed(&app, &a.creds, Method::GET, &path, None, &skewed_but_fine)
            .send_checked()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;

    // A key whose secret was not derived from the server secret cannot sign (the operator key
    // here, random like one given in configuration).
    let why = message_of(
        signed(&app, &app.operator, Method::GET, &path, None, &now)
            .send_checked()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        why.contains("issued without the server's secret_key"),
        "{why}"
    );

    // Unknown key and a revoked key: invalid credentials.
    let ghost = Creds {
        key_id: "key_ghost".into(),
        secret: a.creds.secret.clone(),
    };
    message_of(
        signed(&app, &ghost, Method::GET, &path, None, &now)
            .send_checked()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
    let res = app
        .request(
            Method::DELETE,
            &app.operator,
            &format!("/v1/operator/keys/{}", a.creds.key_id),
        )
        .send_checked()
        .await
        .unwrap();
    assert!(res.status().is_success());
    message_of(
        signed(&app, &a.creds, Method::GET, &path, None, &now)
            .send_checked()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
    )
    .await;
}

async fn hundred_concurrent_assignments(app: TestApp) {
    app.import_csv(AU_CSV).await;
    let mut tenants = Vec::new();
    for i in 0..4 {
        tenants.push(app.tenant(&format!("racer-{i}")).await);
    }
    let id = id_of(&app, &tenants[0].creds, "+61438851616").await;
    let attempts = (0..100).map(|i| {
        let tenant = &tenants[i % tenants.len()];
        let app = &app;
        let id = id.clone();
        async move {
            let res = assign(
                app,
                &tenant.creds,
                &id,
                json!({"label": format!("attempt {i}")}),
            )
            .await;
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            (tenant.id.clone(), status, body)
        }
    });
    let results = futures::future::join_all(attempts).await;
    let winners: Vec<_> = results
        .iter()
        .filter(|(_, s, _)| *s == StatusCode::CREATED)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one assignment wins");
    let losers = results
        .iter()
        .filter(|(_, s, b)| *s == StatusCode::CONFLICT && b["message"].is_string())
        .count();
    assert_eq!(losers, 99, "every other attempt is a 409");
    let (winner, _, created) = winners[0];
    let winner_tenant = tenants.iter().find(|t| &t.id == winner).unwrap();
    let native: Value = app
        .number(&winner_tenant.creds, "+61438851616")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(native["state"], "ASSIGNED");
    assert_eq!(native["account_id"], winner.as_str());
    assert_eq!(native["label"], created["label"]);
    let mut assignment_ids = HashSet::new();
    for t in &tenants {
        let list = get_ok(&app, &t.creds, format!("{BASE}/assignments")).await;
        for item in list["data"].as_array().unwrap() {
            assignment_ids.insert(item["assignment"]["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(assignment_ids.len(), 1, "one live assignment in all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_assignments_have_one_winner_on_sqlite() {
    hundred_concurrent_assignments(spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_assignments_have_one_winner_on_postgres() {
    if let Some(app) = spawn_app_on(Backend::Postgres).await {
        hundred_concurrent_assignments(app).await;
    }
}

#[tokio::test]
async fn the_same_inventory_through_the_native_api() {
    let app = spawn_app().await;
    app.import_csv(AU_CSV).await;
    let a = app.tenant("a").await;
    let b = app.tenant("b").await;

    // Assigned here → ASSIGNED to the same account over the native API, gone from its search.
    let id = id_of(&app, &a.creds, "+61438000103").await;
    json_of(
        assign(
            &app,
            &a.creds,
            &id,
            json!({"label": "Support", "metadata": {"team": "emea"}}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let native: Value = json_of(app.number(&a.creds, "+61438000103").await, StatusCode::OK).await;
    assert_eq!(native["state"], "ASSIGNED");
    assert_eq!(native["account_id"], a.id.as_str());
    assert_eq!(native["id"], id.as_str(), "one stable id for both doors");
    assert_eq!(native["label"], "Support");
    assert_eq!(native["metadata"], json!({"team": "emea"}));
    let available: Value =
        get_ok(&app, &b.creds, "/v1/available-numbers?contains=61438000103").await;
    assert_eq!(available["data"], json!([]));

    // A field another dialect owns survives a MessageMedia PATCH, and the other way round.
    json_of(
        app.request(Method::PATCH, &a.creds, "/v1/numbers/+61438000103")
            .json(&json!({"display_name": "Front desk"}))
            .send_checked()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    json_of(
        app.request(Method::PATCH, &a.creds, &assignment_path(&id))
            .json(&json!({"label": "Sales", "metadata": null}))
            .send_checked()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let native: Value = json_of(app.number(&a.creds, "+61438000103").await, StatusCode::OK).await;
    assert_eq!(native["display_name"], "Front desk");
    assert_eq!(native["label"], "Sales");
    assert_eq!(native["metadata"], json!({}));

    // Assigned elsewhere (a native order by b) → not offered here, and a 409 to take.
    let elsewhere = id_of(&app, &a.creds, "+61438000104").await;
    let order = app
        .order(
            &b.creds,
            json!({"numbers": ["+61438000104"], "label": "From native"}),
        )
        .await;
    assert_eq!(
        app.settled_order(&b.creds, order["id"].as_str().unwrap())
            .await["status"],
        "COMPLETE"
    );
    assert_eq!(
        phone_numbers(&search(&app, &a.creds, "matching=61438000104").await),
        Vec::<String>::new()
    );
    message_of(
        app.get(&a.creds, &format!("{BASE}/{elsewhere}"))
            .send_checked()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    message_of(
        assign(&app, &a.creds, &elsewhere, json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
    // Its owner sees it among its assignments here, with the label set over there.
    let list = json_of(
        app.get(
            &b.creds,
            &format!("{BASE}/assignments?number_id={elsewhere}"),
        )
        .send_checked()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["data"][0]["assignment"]["label"], "From native");
    assert_eq!(list["data"][0]["number"]["phone_number"], "+61438000104");

    // A number the native API reserved for b is not offered here either.
    let reserved = id_of(&app, &a.creds, "+61438000105").await;
    let res = app
        .post(
            &b.creds,
            "/v1/reservations",
            json!({"numbers": ["+61438000105"]}),
        )
        .send_checked()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        phone_numbers(&search(&app, &a.creds, "matching=61438000105").await),
        Vec::<String>::new()
    );
    message_of(
        assign(&app, &a.creds, &reserved, json!({})).await,
        StatusCode::CONFLICT,
    )
    .await;
}
