//! Orders over HTTP: by numbers and by criteria, partial, all-or-nothing, backorder completed by
//! an import, idempotent retry, and 200 orders racing for 20 numbers (on both databases).

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, INVENTORY_CSV, TestApp, assert_problem, e164s, spawn_app, spawn_app_on,
};

#[tokio::test]
async fn order_by_numbers_applies_the_template_and_completes() {
    let app = spawn_app().await;
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    let order = app
        .order(&a.creds, json!({"numbers": ["+12065550100", "+61491570156"], "label": "Support", "metadata": {"team": "emea"}, "name": "first"}))
        .await;
    assert_eq!(order["status"], "RECEIVED");
    let order = app
        .settled_order(&a.creds, order["id"].as_str().unwrap())
        .await;
    assert_eq!(order["status"], "COMPLETE");
    assert_eq!(
        order["completed_numbers"],
        json!(["+12065550100", "+61491570156"])
    );
    assert_eq!(order["failed_numbers"], json!([]));
    let number: Value = app
        .number(&a.creds, "+61491570156")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(number["state"], "ASSIGNED");
    assert_eq!(number["label"], "Support");
    assert_eq!(number["metadata"]["team"], "emea");
    assert_eq!(number["account_id"], a.id.as_str());
    let mine = e164s(
        &app.get(&a.creds, "/v1/numbers")
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap(),
    );
    assert_eq!(mine, ["+12065550100", "+61491570156"]);
    let by_label = e164s(
        &app.get(&a.creds, "/v1/numbers?label=Support&country=AU")
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap(),
    );
    assert_eq!(by_label, ["+61491570156"]);
    let by_meta = e164s(
        &app.get(
            &a.creds,
            "/v1/numbers?metadata_key=team&metadata_value=emea",
        )
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap(),
    );
    assert_eq!(by_meta.len(), 2);
}

#[tokio::test]
async fn partial_and_all_or_nothing_orders_report_per_number_errors() {
    let app = spawn_app().await;
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    let b = app.tenant("b").await;
    let taken = app
        .order(&a.creds, json!({"numbers": ["+12065550100"]}))
        .await;
    app.settled_order(&a.creds, taken["id"].as_str().unwrap())
        .await;

    let partial = app.order(&b.creds, json!({"numbers": ["+12065550100", "+12065550101", "+12069999999"], "partial_allowed": true})).await;
    let partial = app
        .settled_order(&b.creds, partial["id"].as_str().unwrap())
        .await;
    assert_eq!(partial["status"], "PARTIAL");
    assert_eq!(partial["completed_numbers"], json!(["+12065550101"]));
    let codes: HashMap<String, String> = partial["failed_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["e164"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(codes["+12065550100"], "NUMBER_ASSIGNED");
    assert_eq!(codes["+12069999999"], "NUMBER_NOT_FOUND");
    assert_eq!(partial["completed_quantity"], 1);
    assert_eq!(partial["failed_quantity"], 2);

    let strict = app
        .order(
            &b.creds,
            json!({"numbers": ["+12065550100", "+12065550123"]}),
        )
        .await;
    let strict = app
        .settled_order(&b.creds, strict["id"].as_str().unwrap())
        .await;
    assert_eq!(strict["status"], "FAILED");
    assert_eq!(strict["completed_numbers"], json!([]));
    let codes: Vec<&str> = strict["failed_numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"NUMBER_ASSIGNED") && codes.contains(&"PARTIAL_NOT_ALLOWED"));
    let still: Value = app
        .get(&b.creds, "/v1/available-numbers?starts_with=2065550123")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        e164s(&still),
        ["+12065550123"],
        "an all-or-nothing failure claims nothing"
    );
}

#[tokio::test]
async fn criteria_orders_partial_fill_and_backorder_completed_by_an_import() {
    let app = spawn_app().await;
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;

    let order = app
        .order(
            &a.creds,
            json!({"search": {"country": "US", "state": "NC"}, "quantity": 2}),
        )
        .await;
    let order = app
        .settled_order(&a.creds, order["id"].as_str().unwrap())
        .await;
    assert_eq!(order["status"], "COMPLETE");
    assert_eq!(
        order["completed_numbers"],
        json!(["+19195550142", "+19195552233"])
    );
    assert_eq!(order["search"], json!({"country": "US", "state": "NC"}));

    let order = app
        .order(
            &a.creds,
            json!({"search": {"npa": "206"}, "quantity": 10, "partial_allowed": true}),
        )
        .await;
    let order = app
        .settled_order(&a.creds, order["id"].as_str().unwrap())
        .await;
    assert_eq!(order["status"], "PARTIAL");
    assert_eq!(order["completed_quantity"], 7);
    assert_eq!(order["failed_numbers"][0]["code"], "INSUFFICIENT_INVENTORY");

    let order = app
        .order(&a.creds, json!({"search": {"npa": "415"}, "quantity": 2}))
        .await;
    assert_eq!(
        app.settled_order(&a.creds, order["id"].as_str().unwrap())
            .await["status"],
        "FAILED"
    );

    let back = app.order(&a.creds, json!({"search": {"npa": "512", "capabilities": ["SMS"]}, "quantity": 2, "backorder_requested": true})).await;
    let id = back["id"].as_str().unwrap().to_string();
    let back = app.settled_order(&a.creds, &id).await;
    assert_eq!(back["status"], "BACKORDERED");
    assert_eq!(back["pending_quantity"], 2);
    app.import_csv("e164,capabilities,rate_center,state,city\n+15125550142,SMS|VOICE,AUSTIN,TX,AUSTIN\n+15125550143,SMS,AUSTIN,TX,AUSTIN\n").await;
    let mut status = String::new();
    for _ in 0..200 {
        let now: Value = app
            .get(&a.creds, &format!("/v1/orders/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        status = now["status"].as_str().unwrap().to_string();
        if status == "COMPLETE" {
            assert_eq!(
                now["completed_numbers"],
                json!(["+15125550142", "+15125550143"])
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        status, "COMPLETE",
        "the backorder completes once inventory arrives"
    );

    // Closing: only backorders can be closed.
    let res = app
        .post(&a.creds, &format!("/v1/orders/{id}/close"), json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_problem(res, StatusCode::CONFLICT, None).await["code"],
        "ORDER_NOT_BACKORDERED"
    );
    let waiting = app
        .order(
            &a.creds,
            json!({"search": {"npa": "303"}, "quantity": 1, "backorder_requested": true}),
        )
        .await;
    let wid = waiting["id"].as_str().unwrap();
    app.settled_order(&a.creds, wid).await;
    let closed: Value = app
        .post(&a.creds, &format!("/v1/orders/{wid}/close"), json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(closed["status"], "FAILED");

    let listed: Value = app
        .get(&a.creds, "/v1/orders?status=COMPLETE&page_size=1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let token = listed["next_page_token"].as_str().unwrap();
    let next: Value = app
        .get(
            &a.creds,
            &format!("/v1/orders?status=COMPLETE&page_size=1&page_token={token}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["data"].as_array().unwrap().len(), 1);
    assert_ne!(next["data"][0]["id"], listed["data"][0]["id"]);
    assert_eq!(next["next_page_token"], Value::Null);
}

#[tokio::test]
async fn idempotency_key_makes_order_creation_safe_to_retry() {
    let app = spawn_app().await;
    app.import_csv(INVENTORY_CSV).await;
    let a = app.tenant("a").await;
    let body = json!({"numbers": ["+12532001234"]});
    let first = app
        .post(&a.creds, "/v1/orders", body.clone())
        .header("Idempotency-Key", "retry-1")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.unwrap();
    let again = app
        .post(&a.creds, "/v1/orders", body)
        .header("Idempotency-Key", "retry-1")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    let other = app
        .post(&a.creds, "/v1/orders", json!({"numbers": ["+19195550142"]}))
        .header("Idempotency-Key", "retry-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_problem(other, StatusCode::CONFLICT, None).await["code"],
        "IDEMPOTENCY_KEY_REUSED"
    );
    let listed: Value = app
        .get(&a.creds, "/v1/orders")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        1,
        "one order, not two"
    );
}

async fn race(app: TestApp) {
    let csv: String = std::iter::once("e164".to_string())
        .chain((0..20).map(|i| format!("+1206555{:04}", 1000 + i)))
        .collect::<Vec<_>>()
        .join("\n");
    app.import_csv(&csv).await;
    let mut tenants = Vec::new();
    for i in 0..10 {
        tenants.push(app.tenant(&format!("racer {i}")).await);
    }
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let app = app.clone();
        let tenant = tenants[i % 10].clone();
        tasks.push(tokio::spawn(async move {
            let number = format!("+1206555{:04}", 1000 + (i % 20));
            let order = app.order(&tenant.creds, json!({"numbers": [number]})).await;
            let settled = app
                .settled_order(&tenant.creds, order["id"].as_str().unwrap())
                .await;
            (tenant, settled)
        }));
    }
    let mut complete = 0;
    let mut owners: HashMap<String, String> = HashMap::new();
    for task in tasks {
        let (tenant, order) = task.await.unwrap();
        match order["status"].as_str().unwrap() {
            "COMPLETE" => {
                complete += 1;
                let n = order["completed_numbers"][0].as_str().unwrap().to_string();
                assert!(
                    owners.insert(n, tenant.id.clone()).is_none(),
                    "a number was sold twice"
                );
            }
            // Another tenant won it, or this tenant already did with an earlier order.
            "FAILED" => assert!(matches!(
                order["failed_numbers"][0]["code"].as_str(),
                Some("NUMBER_ASSIGNED" | "NUMBER_ALREADY_YOURS")
            )),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(complete, 20);
    assert_eq!(owners.len(), 20);
    for (number, owner) in owners {
        let tenant = tenants.iter().find(|t| t.id == owner).unwrap();
        let n: Value = app
            .number(&tenant.creds, &number)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(n["account_id"], owner.as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_orders_race_for_twenty_numbers_on_sqlite() {
    race(spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_orders_race_for_twenty_numbers_on_postgres() {
    let Some(app) = spawn_app_on(Backend::Postgres).await else {
        eprintln!("skipped: NUMBERSD_TEST_POSTGRES_URL not set");
        return;
    };
    race(app).await;
}
