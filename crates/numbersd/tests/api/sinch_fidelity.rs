//! Sinch behaviours a migrating client relies on that the first pass left out (issue 14, items 9
//! and 10), over real HTTP on SQLite and PostgreSQL: a number order takes one number only.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, INVENTORY_CSV, on_both_databases, spawn_app_on};

/// The field violations of a Sinch 400 `INVALID_ARGUMENT`, as (field, description) pairs.
fn violations(body: &Value) -> Vec<(String, String)> {
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT", "{body}");
    assert_eq!(body["error"]["code"], 400, "{body}");
    body["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["type"] == "BadRequest")
        .flat_map(|d| d["fieldViolations"].as_array().cloned().unwrap_or_default())
        .map(|v| {
            (
                v["field"].as_str().unwrap_or_default().to_string(),
                v["description"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Sinch's guide: "max 1 number per order supported now". A quantity order for more is refused
/// naming `quantityOrderOption.requestedQuantity`, reserves nothing, and one number still works.
async fn a_number_order_takes_one_number(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let acme = app.tenant("Acme").await;
    let order = |quantity: u64| {
        json!({
            "regionCode": "AU",
            "numberType": "MOBILE",
            "quantityOrderOption": {"requestedQuantity": quantity},
        })
    };
    for quantity in [2, 3, 100, 101, 0] {
        let (status, body) = app
            .sinch(
                &acme,
                Method::POST,
                "numberOrders:createNumberOrder",
                order(quantity),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{quantity}: {body}");
        let found = violations(&body);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "quantityOrderOption.requestedQuantity");
        assert!(found[0].1.contains("one number per order"), "{found:?}");
    }
    // Nothing was reserved by the refusals: all three AU mobiles are still on offer.
    let (status, offer) = app
        .sinch(
            &acme,
            Method::GET,
            "availableNumbers?regionCode=AU&type=MOBILE",
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(offer["availableNumbers"].as_array().unwrap().len(), 3);

    let (status, created) = app
        .sinch(
            &acme,
            Method::POST,
            "numberOrders:createNumberOrder",
            order(1),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["state"], "CREATED");
    assert_eq!(created["orderNumbers"].as_array().unwrap().len(), 1);
    app.shutdown().await;
}

on_both_databases!(a_number_order_takes_one_number);
