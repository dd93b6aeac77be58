//! Bad input on every endpoint gets a 4xx problem+json naming the field; another tenant's
//! resources answer 404; the server keeps serving.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Creds, INVENTORY_CSV, assert_problem, spawn_app};

#[tokio::test]
async fn bad_input_gets_a_problem_naming_the_field() {
    let app = spawn_app().await;
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    let c = &a.creds;

    // Malformed JSON, wrong content type, non-object bodies.
    let res = app
        .request(Method::POST, c, "/v1/orders")
        .header("content-type", "application/json")
        .body("{\"numbers\": [")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, Some("body")).await;
    let res = app
        .request(Method::POST, c, "/v1/orders")
        .header("content-type", "text/plain")
        .body("numbers")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, Some("Content-Type")).await;
    let res = app
        .post(c, "/v1/orders", json!([1, 2]))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, Some("body")).await;

    // Orders.
    for (body, field) in [
        (json!({"numbers": ["12065550100"]}), "numbers[0]"),
        (json!({"numbers": ["+1206555010x"]}), "numbers[0]"),
        (json!({"numbers": []}), "numbers"),
        (
            json!({"numbers": ["+12065550100", "+12065550100"]}),
            "numbers",
        ),
        (json!({"search": {"country": "US"}}), "quantity"),
        (
            json!({"search": {"country": "US"}, "quantity": 0}),
            "quantity",
        ),
        (
            json!({"search": {"type": "LANDLINE"}, "quantity": 1}),
            "search.type",
        ),
        (
            json!({"search": {"npa": "206", "npa_nxx": "206555"}, "quantity": 1}),
            "search.npa_nxx",
        ),
        (
            json!({"search": {"colour": "red"}, "quantity": 1}),
            "search.colour",
        ),
        (json!({"numbers": ["+12065550100"], "search": {}}), "search"),
        (json!({}), "numbers"),
        (
            json!({"numbers": ["+12065550100"], "label": "x".repeat(101)}),
            "label",
        ),
        (
            json!({"numbers": ["+12065550100"], "metadata": (0..12).map(|i| (format!("k{i}"), json!("v"))).collect::<serde_json::Map<_, _>>()}),
            "metadata",
        ),
        (
            json!({"numbers": ["+12065550100"], "metadata": {"k": "v".repeat(257)}}),
            "metadata.k",
        ),
        (
            json!({"numbers": ["+12065550100"], "metadata": {"k": 5}}),
            "metadata.k",
        ),
        (
            json!({"numbers": ["+12065550100"], "partial_allowed": "yes"}),
            "partial_allowed",
        ),
        (
            json!({"numbers": ["+12065550100"], "reservation_ids": ["nope"]}),
            "reservation_ids[0]",
        ),
        (
            json!({"numbers": ["+12065550100"], "priority": 1}),
            "priority",
        ),
    ] {
        let res = app
            .post(c, "/v1/orders", body.clone())
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, Some(field)).await;
    }

    // Reservations.
    for (body, field) in [
        (json!({"numbers": ["+1206"]}), "numbers[0]"),
        (
            json!({"numbers": ["+12065550100"], "ttl_seconds": 0}),
            "ttl_seconds",
        ),
        (
            json!({"numbers": ["+12065550100"], "ttl_seconds": 999999}),
            "ttl_seconds",
        ),
        (json!({"ttl_seconds": 60}), "numbers"),
    ] {
        let res = app.post(c, "/v1/reservations", body).send().await.unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, Some(field)).await;
    }
    assert_problem(
        app.get(c, "/v1/reservations/not-a-uuid")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;

    // Numbers.
    let order = app.order(c, json!({"numbers": ["+12065550100"]})).await;
    app.settled_order(c, order["id"].as_str().unwrap()).await;
    for (body, field) in [
        (json!({"label": "x".repeat(101)}), "label"),
        (json!({"metadata": {"k": "v".repeat(257)}}), "metadata.k"),
        (json!({"callback_url": "ftp://example.com"}), "callback_url"),
        (json!({"display_name": 7}), "display_name"),
        (json!({"sms_configuration": "plan"}), "sms_configuration"),
        (json!({"owner": "me"}), "owner"),
    ] {
        let res = app
            .request(Method::PATCH, c, "/v1/numbers/+12065550100")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, Some(field)).await;
    }
    assert_problem(
        app.get(c, "/v1/numbers/12065550100").send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        Some("e164"),
    )
    .await;
    let res = app
        .post(
            c,
            "/v1/numbers/+12065550100/release",
            json!({"mode": "gently"}),
        )
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, Some("mode")).await;
    assert_problem(
        app.get(c, "/v1/numbers?metadata_key=team")
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
        Some("metadata_value"),
    )
    .await;
    assert_problem(
        app.get(c, "/v1/orders?status=DONE").send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        Some("status"),
    )
    .await;
    assert_problem(
        app.get(c, "/v1/events?limit=0").send().await.unwrap(),
        StatusCode::BAD_REQUEST,
        Some("limit"),
    )
    .await;

    // Nothing was half-written: the only order is the one that succeeded.
    let orders: Value = app
        .get(c, "/v1/orders")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orders["data"].as_array().unwrap().len(), 1);
    // And the server keeps serving.
    assert_eq!(
        app.client
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn credentials_are_checked_and_tenants_are_isolated() {
    let app = spawn_app().await;
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    let b = app.tenant("b").await;

    let res = app
        .client
        .get(format!("{}/v1/available-numbers", app.base))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("www-authenticate").is_some());
    assert_problem(res, StatusCode::UNAUTHORIZED, None).await;
    let wrong = Creds {
        key_id: a.creds.key_id.clone(),
        secret: "wrong-secret".into(),
    };
    assert_problem(
        app.get(&wrong, "/v1/numbers").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        None,
    )
    .await;
    let unknown = Creds {
        key_id: "key_nobody".into(),
        secret: "x".into(),
    };
    assert_problem(
        app.get(&unknown, "/v1/numbers").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        None,
    )
    .await;
    // Tenants cannot use operator routes; the operator cannot act as a tenant.
    assert_problem(
        app.get(&a.creds, "/v1/operator/accounts")
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        None,
    )
    .await;
    assert_problem(
        app.get(&app.operator, "/v1/numbers").send().await.unwrap(),
        StatusCode::FORBIDDEN,
        None,
    )
    .await;

    // A's order, reservation and number are 404 for B.
    let order = app
        .order(&a.creds, json!({"numbers": ["+12065550100"]}))
        .await;
    let oid = order["id"].as_str().unwrap();
    app.settled_order(&a.creds, oid).await;
    let reservation: Value = app
        .post(
            &a.creds,
            "/v1/reservations",
            json!({"numbers": ["+12065550101"]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rid = reservation["id"].as_str().unwrap();
    assert_problem(
        app.get(&b.creds, &format!("/v1/orders/{oid}"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    assert_problem(
        app.get(&b.creds, &format!("/v1/reservations/{rid}"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    assert_problem(
        app.request(Method::DELETE, &b.creds, &format!("/v1/reservations/{rid}"))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    assert_problem(
        app.get(&b.creds, "/v1/numbers/+12065550100")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    let res = app
        .request(Method::PATCH, &b.creds, "/v1/numbers/+12065550100")
        .json(&json!({"label": "mine"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::NOT_FOUND, None).await;
    assert_problem(
        app.post(&b.creds, "/v1/numbers/+12065550100/release", json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    assert_problem(
        app.get(&b.creds, "/v1/numbers/+12065550100/history")
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    assert_problem(
        app.post(&b.creds, &format!("/v1/orders/{oid}/close"), json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        None,
    )
    .await;
    let b_numbers: Value = app
        .get(&b.creds, "/v1/numbers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b_numbers["data"], json!([]));
    let b_events: Value = app
        .get(&b.creds, "/v1/events")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        b_events["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["account_id"] == b.id.as_str())
    );

    // A revoked key stops working.
    let key: Value = app
        .post(
            &app.operator,
            &format!("/v1/operator/accounts/{}/keys", a.id),
            json!({}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fresh = Creds {
        key_id: key["key_id"].as_str().unwrap().into(),
        secret: key["secret"].as_str().unwrap().into(),
    };
    assert_eq!(
        app.get(&fresh, "/v1/numbers")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let res = app
        .request(
            Method::DELETE,
            &app.operator,
            &format!("/v1/operator/keys/{}", fresh.key_id),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get(&fresh, "/v1/numbers").send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
        None,
    )
    .await;
}

#[tokio::test]
async fn operator_import_reports_rejected_rows_and_imports_the_rest() {
    let app = spawn_app().await;
    let res = app
        .request(Method::POST, &app.operator, "/v1/operator/inventory")
        .header("content-type", "text/csv")
        .body("e164,type\n+12065550100,LOCAL\n12065550101,LOCAL\n+12065550102,PAGER\n+12065550100,LOCAL\n")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["inserted"], 1);
    let lines: Vec<i64> = body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 5]);
    let res = app
        .request(Method::POST, &app.operator, "/v1/operator/inventory")
        .body("number\n+12065550100\n")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, Some("body")).await;
    let stats: Value = app
        .get(&app.operator, "/v1/operator/inventory/stats")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total"], 1);
    assert_eq!(stats["available"], 1);
}

#[tokio::test]
async fn openapi_document_and_reference_page_are_served() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/available-numbers",
        "/v1/orders",
        "/v1/orders/{id}",
        "/v1/reservations",
        "/v1/numbers/{e164}",
        "/v1/numbers/{e164}/history",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    let page = app
        .client
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/openapi.json"));
    let ready: Value = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
}
