//! KYC number orders end to end over HTTP: requirements lookup, create (number reserved for 48 h),
//! registration invalid then valid, a multipart document upload, submit, operator review
//! (approve → ASSIGNED; reject → released), expiry by the clock; and the operator CLI
//! (`numbersd number-order approve|reject`, `number-requirements set|show`) run as a real
//! process against a SQLite file.

use std::process::Command;
use std::sync::Arc;

use chrono::Duration;
use numbers_core::account::Principal;
use numbers_core::clock::{Clock, SystemClock};
use numbers_core::number::{E164, NumberType};
use numbers_core::service::{NumberOrderRequest, SelectionRequest, ServiceConfig};
use numbersd::startup::{build_service, open_store};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, Creds, INVENTORY_CSV, TestApp, assert_problem, e164s, spawn_app_on};

const AU_REGISTRATION: &str = r#"{"businessName": "Acme Pty Ltd", "abn": "51824753556",
    "contactFirstName": "Jo", "contactLastName": "Citizen", "contactEmail": "jo@acme.com.au",
    "streetAddress": "1 George St", "city": "Sydney", "state": "NSW", "postalCode": "2000",
    "useCase": "TWO_WAY_SMS"}"#;

async fn json_of(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

async fn create_order(app: &TestApp, creds: &Creds, body: Value) -> Value {
    let res = app
        .post(creds, "/v1/number-orders", body)
        .send()
        .await
        .unwrap();
    json_of(res, StatusCode::CREATED).await
}

async fn available_au(app: &TestApp, creds: &Creds) -> Vec<String> {
    e164s(
        &app.get(creds, "/v1/available-numbers?country=AU")
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap(),
    )
}

fn pdf_part(bytes: &[u8], name: &str, mime: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec())
                .file_name(name.to_string())
                .mime_str(mime)
                .unwrap(),
        )
        .text("documentType", "PASSPORT")
}

async fn whole_flow(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let acme = app.tenant("acme").await;
    let other = app.tenant("other").await;

    // 1. Requirements (the built-in default for AU MOBILE).
    let req = json_of(
        app.get(&acme.creds, "/v1/number-requirements/au/mobile")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (req["region_code"].as_str(), req["number_type"].as_str()),
        (Some("AU"), Some("MOBILE"))
    );
    let names: Vec<&str> = req["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"businessName") && names.contains(&"state"),
        "{names:?}"
    );
    let attachment_id = req["attachments"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(req["attachments"][0]["mandatory"], true);

    // 2. Create: the number is reserved for 48 hours and invisible to others.
    let order = create_order(
        &app,
        &acme.creds,
        json!({"region_code": "AU", "number_type": "MOBILE", "number": "+61491570156",
               "callback_url": "http://127.0.0.1:9/kyc", "sms_configuration": {"servicePlanId": "plan-1"}}),
    )
    .await;
    assert_eq!(order["state"], "CREATED");
    let id = order["id"].as_str().unwrap().to_string();
    let created =
        chrono::DateTime::parse_from_rfc3339(order["created_at"].as_str().unwrap()).unwrap();
    let expire =
        chrono::DateTime::parse_from_rfc3339(order["expire_at"].as_str().unwrap()).unwrap();
    assert_eq!(expire - created, Duration::hours(48));
    assert_eq!(order["numbers"][0]["e164"], "+61491570156");
    assert!(
        !order["missing"].as_array().unwrap().is_empty(),
        "the order says what is missing"
    );
    assert!(
        !available_au(&app, &other.creds)
            .await
            .contains(&"+61491570156".to_string())
    );
    // Someone else cannot order it, nor see the order.
    let res = app
        .post(
            &other.creds,
            "/v1/number-orders",
            json!({"region_code": "AU", "number_type": "MOBILE", "number": "+61491570156"}),
        )
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, StatusCode::CONFLICT, None).await;
    assert_eq!(problem["code"], "NUMBERS_UNAVAILABLE");
    let res = app
        .get(&other.creds, &format!("/v1/number-orders/{id}"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, None).await;
    // Exactly one of number / quantity; the number must be of the order's region and type.
    let res = app
        .post(&acme.creds, "/v1/number-orders", json!({"region_code": "AU", "number_type": "MOBILE", "number": "+61491570157", "quantity": 2}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, Some("number")).await;
    let res = app
        .post(
            &acme.creds,
            "/v1/number-orders",
            json!({"region_code": "AU", "number_type": "LOCAL", "number": "+61491570157"}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, Some("number")).await;
    let res = app
        .post(
            &acme.creds,
            "/v1/number-orders",
            json!({"region_code": "AU", "number_type": "MOBILE", "quantity": 101}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, Some("quantity")).await;

    // 3. Registration: invalid (each field named), then valid.
    let res = app
        .request(Method::PUT, &acme.creds, &format!("/v1/number-orders/{id}/registration"))
        .json(&json!({"fields": {"businessName": "A", "contactEmail": "not-an-email", "state": "XX", "postalCode": "20000", "shoeSize": 9}}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, StatusCode::BAD_REQUEST, Some("fields.businessName")).await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "fields.contactEmail",
        "fields.state",
        "fields.postalCode",
        "fields.shoeSize",
        "fields.contactFirstName",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let registration: Value = serde_json::from_str(AU_REGISTRATION).unwrap();
    let res = app
        .request(
            Method::PUT,
            &acme.creds,
            &format!("/v1/number-orders/{id}/registration"),
        )
        .json(&json!({"fields": registration}))
        .send()
        .await
        .unwrap();
    let order = json_of(res, StatusCode::OK).await;
    assert_eq!(order["registration"]["state"], "NSW");

    // 4. Submitting without the mandatory document is refused, naming it.
    let res = app
        .post(
            &acme.creds,
            &format!("/v1/number-orders/{id}/submit"),
            json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(
        res,
        StatusCode::BAD_REQUEST,
        Some(&format!("attachments.{attachment_id}")),
    )
    .await;

    // 5. Upload: a MIME type the requirement refuses, then a PDF.
    let upload_url = format!("/v1/number-orders/{id}/attachments/{attachment_id}");
    let res = app
        .request(Method::POST, &acme.creds, &upload_url)
        .multipart(pdf_part(b"hello", "notes.txt", "text/plain"))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, Some("file")).await;
    let pdf = b"%PDF-1.4\n% a passport scan\n".repeat(20);
    let res = app
        .request(Method::POST, &acme.creds, &upload_url)
        .multipart(pdf_part(&pdf, "passport.pdf", "application/pdf"))
        .send()
        .await
        .unwrap();
    let order = json_of(res, StatusCode::OK).await;
    let att = &order["attachments"][0];
    assert_eq!(
        (
            att["file_name"].as_str(),
            att["mime_type"].as_str(),
            att["upload_status"].as_str()
        ),
        (
            Some("passport.pdf"),
            Some("application/pdf"),
            Some("COMPLETED")
        )
    );
    assert_eq!(
        (att["size_bytes"].as_u64(), att["document_type"].as_str()),
        (Some(pdf.len() as u64), Some("PASSPORT"))
    );
    assert_eq!(order["missing"], json!([]));

    // 6. Submit → IN_REVIEW; no more edits.
    let res = app
        .post(
            &acme.creds,
            &format!("/v1/number-orders/{id}/submit"),
            json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(res, StatusCode::OK).await["state"], "IN_REVIEW");
    let res = app
        .request(
            Method::PUT,
            &acme.creds,
            &format!("/v1/number-orders/{id}/registration"),
        )
        .json(&json!({"fields": registration}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, None).await;

    // 7. The operator reviews: list, read (registration + documents), download, approve.
    let res = app
        .get(&acme.creds, "/v1/operator/number-orders")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, None).await;
    let list = json_of(
        app.get(&app.operator, "/v1/operator/number-orders?state=IN_REVIEW")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);
    let seen = json_of(
        app.get(&app.operator, &format!("/v1/operator/number-orders/{id}"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen["registration"]["businessName"], "Acme Pty Ltd");
    let res = app
        .get(
            &app.operator,
            &format!("/v1/operator/number-orders/{id}/attachments/{attachment_id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().as_ref(), pdf.as_slice());
    let res = app
        .post(
            &acme.creds,
            &format!("/v1/operator/number-orders/{id}/approve"),
            json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, None).await;
    let approved = json_of(
        app.post(
            &app.operator,
            &format!("/v1/operator/number-orders/{id}/approve"),
            json!({}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["state"], "COMPLETED");
    assert!(approved["order_id"].is_string());
    let mine = json_of(
        app.get(&acme.creds, "/v1/numbers").send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(e164s(&mine), vec!["+61491570156"]);
    let number = json_of(
        app.number(&acme.creds, "+61491570156").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(number["state"], "ASSIGNED");
    assert_eq!(
        number["callback_url"], "http://127.0.0.1:9/kyc",
        "the order's callback URL is on the number: {number}"
    );
    let res = app
        .post(
            &app.operator,
            &format!("/v1/operator/number-orders/{id}/approve"),
            json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::CONFLICT, None).await;

    // 8. A second order, by quantity, rejected: the number is on offer again.
    let second = create_order(
        &app,
        &acme.creds,
        json!({"region_code": "AU", "number_type": "MOBILE", "quantity": 1, "search": {"ends_with": "157"}}),
    )
    .await;
    assert_eq!(second["numbers"][0]["e164"], "+61491570157");
    assert!(
        !available_au(&app, &other.creds)
            .await
            .contains(&"+61491570157".to_string())
    );
    let second_id = second["id"].as_str().unwrap();
    let res = app
        .post(
            &app.operator,
            &format!("/v1/operator/number-orders/{second_id}/reject"),
            json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, Some("reason")).await;
    let rejected = json_of(
        app.post(
            &app.operator,
            &format!("/v1/operator/number-orders/{second_id}/reject"),
            json!({"reason": "business name does not match the ABN"}),
        )
        .send()
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["state"], "REJECTED");
    assert_eq!(
        rejected["logs"][0]["message"],
        "Rejected: business name does not match the ABN"
    );
    assert!(
        available_au(&app, &other.creds)
            .await
            .contains(&"+61491570157".to_string())
    );

    // 9. A third order nobody finishes expires after 48 hours.
    let third = create_order(
        &app,
        &acme.creds,
        json!({"region_code": "AU", "number_type": "MOBILE", "number": "+61491570999"}),
    )
    .await;
    let third_id = third["id"].as_str().unwrap();
    app.clock.advance(Duration::hours(47));
    assert_eq!(app.maintenance().await["number_orders_expired"], 0);
    assert!(
        !available_au(&app, &other.creds)
            .await
            .contains(&"+61491570999".to_string())
    );
    app.clock.advance(Duration::hours(1));
    assert_eq!(app.maintenance().await["number_orders_expired"], 1);
    let expired = json_of(
        app.get(&acme.creds, &format!("/v1/number-orders/{third_id}"))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(expired["state"], "EXPIRED");
    assert!(
        available_au(&app, &other.creds)
            .await
            .contains(&"+61491570999".to_string())
    );
    let res = app
        .post(
            &acme.creds,
            &format!("/v1/number-orders/{third_id}/submit"),
            json!({}),
        )
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, StatusCode::CONFLICT, None).await;
    assert_eq!(problem["code"], "NUMBER_ORDER_EXPIRED");

    // Every state change is in the event log, for webhooks.
    let events = json_of(
        app.get(&acme.creds, "/v1/events?after=0")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .filter(|k| k.starts_with("number_order."))
        .collect();
    assert_eq!(
        kinds,
        vec![
            "number_order.created",
            "number_order.in_review",
            "number_order.completed",
            "number_order.created",
            "number_order.rejected",
            "number_order.created",
            "number_order.expired"
        ]
    );
}

#[tokio::test]
async fn number_order_flow_sqlite() {
    whole_flow(Backend::Sqlite).await;
}

#[tokio::test]
async fn number_order_flow_postgres() {
    whole_flow(Backend::Postgres).await;
}

#[tokio::test]
async fn operator_changes_requirements_over_http() {
    let Some(app) = spawn_app_on(Backend::Sqlite).await else {
        return;
    };
    let doc = json!({"fields": [{"name": "companyName", "required": true, "max_length": 5}], "attachments": []});
    let res = app
        .request(
            Method::PUT,
            &app.operator,
            "/v1/operator/number-requirements/DE/LOCAL",
        )
        .json(&json!({"fields": [{"name": "x", "type": "enum"}]}))
        .send()
        .await
        .unwrap();
    assert_problem(
        res,
        StatusCode::BAD_REQUEST,
        Some("fields[0].allowed_values"),
    )
    .await;
    let res = app
        .request(
            Method::PUT,
            &app.operator,
            "/v1/operator/number-requirements/DE/LOCAL",
        )
        .json(&doc)
        .send()
        .await
        .unwrap();
    let stored = json_of(res, StatusCode::OK).await;
    assert_eq!(stored["fields"][0]["name"], "companyName");
    let tenant = app.tenant("t").await;
    let seen = json_of(
        app.get(&tenant.creds, "/v1/number-requirements/DE/LOCAL")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        seen["attachments"],
        json!([]),
        "the operator's set replaced the default"
    );
    let res = app
        .request(
            Method::PUT,
            &tenant.creds,
            "/v1/operator/number-requirements/DE/LOCAL",
        )
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, None).await;
}

fn numbersd(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_numbersd"))
        .arg("--database-url")
        .arg(db)
        .args(args)
        .env("NUMBERSD_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn cli_reviews_number_orders() {
    let db = crate::helpers::fresh_database(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();

    // Requirements through the CLI: GB MOBILE gets a single field and no documents (the file
    // is named after the database, whose guard removes it with its own files).
    let file = std::path::PathBuf::from(format!(
        "{}.requirements.json",
        db.trim_start_matches("sqlite://")
    ));
    std::fs::write(
        &file,
        r#"{"fields": [{"name": "businessName", "required": true, "min_length": 2}]}"#,
    )
    .unwrap();
    let (ok, stdout, stderr) = numbersd(
        &db,
        &[
            "number-requirements",
            "set",
            "GB",
            "MOBILE",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert!(ok, "set failed: {stderr}");
    assert!(stdout.contains("businessName"));
    let (ok, stdout, stderr) = numbersd(&db, &["number-requirements", "show", "GB", "MOBILE"]);
    assert!(ok, "show failed: {stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["attachments"], json!([]));
    let (ok, _, stderr) = numbersd(
        &db,
        &[
            "number-requirements",
            "set",
            "GB",
            "WIRELESS",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        !ok && stderr.contains("WIRELESS"),
        "an unknown type is refused: {stderr}"
    );

    // A tenant's order, made through the service on the same database.
    let store = open_store(&db, numbers_core::sealing::SecretBox::default())
        .await
        .unwrap();
    let service = build_service(
        store,
        Arc::new(SystemClock) as Arc<dyn Clock>,
        ServiceConfig::default(),
    );
    let (account, _) = service
        .create_account(Principal::Operator, "acme")
        .await
        .unwrap();
    let numbers: Vec<_> = numbers_inventory_rows();
    service
        .import_numbers(Principal::Operator, &numbers)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for e in ["+447400123456", "+447400123457"] {
        let order = service
            .create_number_order(
                account.id,
                NumberOrderRequest {
                    region_code: "GB".into(),
                    number_type: NumberType::Mobile,
                    selection: SelectionRequest::Number(E164::parse(e).unwrap()),
                    callback_url: None,
                    sms_configuration: None,
                    voice_configuration: None,
                },
            )
            .await
            .unwrap();
        service
            .update_number_order_registration(
                account.id,
                order.id,
                &json!({"businessName": "Acme Ltd"}),
                "fields",
            )
            .await
            .unwrap();
        service
            .submit_number_order(account.id, order.id)
            .await
            .unwrap();
        ids.push(order.id.to_string());
    }

    let (ok, stdout, stderr) = numbersd(
        &db,
        &["number-order", "list", "--state", "IN_REVIEW", "--json"],
    );
    assert!(ok, "list failed: {stderr}");
    let listed: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    let (ok, stdout, stderr) = numbersd(&db, &["number-order", "approve", &ids[0], "--json"]);
    assert!(ok, "approve failed: {stderr}");
    let approved: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(approved["state"], "COMPLETED");
    let n = service
        .number_by_e164(Principal::Operator, &E164::parse("+447400123456").unwrap())
        .await
        .unwrap();
    assert_eq!((n.state.as_str(), n.owner), ("ASSIGNED", Some(account.id)));

    let (ok, stdout, stderr) = numbersd(
        &db,
        &[
            "number-order",
            "reject",
            &ids[1],
            "--reason",
            "no company of that name",
            "--json",
        ],
    );
    assert!(ok, "reject failed: {stderr}");
    let rejected: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rejected["state"], "REJECTED");
    assert_eq!(
        rejected["logs"][0]["message"],
        "Rejected: no company of that name"
    );
    let n = service
        .number_by_e164(Principal::Operator, &E164::parse("+447400123457").unwrap())
        .await
        .unwrap();
    assert_eq!((n.state.as_str(), n.owner), ("AVAILABLE", None));

    let (ok, _, stderr) = numbersd(&db, &["number-order", "approve", &ids[1]]);
    assert!(
        !ok && stderr.contains("REJECTED"),
        "a rejected order cannot be approved: {stderr}"
    );
    let (ok, _, stderr) = numbersd(
        &db,
        &["number-order", "reject", "not-a-uuid", "--reason", "x"],
    );
    assert!(!ok && stderr.contains("UUID"), "{stderr}");
}

fn numbers_inventory_rows() -> Vec<numbers_core::number::NewNumber> {
    use numbers_core::number::{Capabilities, Capability, Classification, Location, NewNumber};
    ["+447400123456", "+447400123457"]
        .iter()
        .map(|e| NewNumber {
            e164: E164::parse(e).unwrap(),
            country: "GB".into(),
            number_type: NumberType::Mobile,
            capabilities: Capabilities::default()
                .with(Capability::Sms)
                .with(Capability::Voice),
            classification: Classification::Bronze,
            location: Location::default(),
            tier: None,
            vendor_id: None,
            vendor_name: None,
            price: None,
            protected: false,
        })
        .collect()
}
