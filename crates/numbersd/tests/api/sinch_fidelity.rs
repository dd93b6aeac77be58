//! Sinch behaviours a migrating client relies on that the first pass left out (issue 14, items 9
//! and 10), over real HTTP on SQLite and PostgreSQL: a number order takes one number only;
//! active numbers list in display-name order; emergency addresses of active voice numbers.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, INVENTORY_CSV, Tenant, TestApp, on_both_databases, spawn_app_on};

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

/// Rents `number` for the tenant's project (`:rent`, Basic auth).
async fn rent(app: &TestApp, tenant: &Tenant, number: &str) {
    let (status, body) = app
        .sinch(
            tenant,
            Method::POST,
            &format!("availableNumbers/{number}:rent"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
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

/// `orderBy=displayName`: ascending by display name (unset first, as the empty name it is shown
/// as), ties by phone number, across pages with `pageToken`; `totalSize` unchanged; an unknown
/// order and a foreign token are refused naming their parameter.
async fn active_numbers_in_display_name_order(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let acme = app.tenant("Acme").await;
    let names = [
        ("+12065550100", Some("Bravo")),
        ("+12065550101", Some("Alpha")),
        ("+12065550123", None),
        ("+12065617890", Some("Alpha")),
        ("+12532001234", Some("Charlie")),
    ];
    for (number, name) in names {
        rent(&app, &acme, number).await;
        if let Some(name) = name {
            let (status, body) = app
                .sinch(
                    &acme,
                    Method::PATCH,
                    &format!("activeNumbers/{number}"),
                    json!({"displayName": name}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    for _ in 0..5 {
        let (status, page) = app
            .sinch(
                &acme,
                Method::GET,
                &format!(
                    "activeNumbers?regionCode=US&type=LOCAL&orderBy=displayName&pageSize=2&pageToken={token}"
                ),
                Value::Null,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["totalSize"], 5);
        for n in page["activeNumbers"].as_array().unwrap() {
            seen.push((
                n["displayName"].as_str().unwrap().to_string(),
                n["phoneNumber"].as_str().unwrap().to_string(),
            ));
        }
        token = page["nextPageToken"].as_str().unwrap().to_string();
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "URL-safe: {token}"
        );
        if token.is_empty() {
            break;
        }
    }
    let expected: Vec<(String, String)> = [
        ("", "+12065550123"),
        ("Alpha", "+12065550101"),
        ("Alpha", "+12065617890"),
        ("Bravo", "+12065550100"),
        ("Charlie", "+12532001234"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(seen, expected);

    // phoneNumber (the default) is still E.164 order.
    let (_, by_number) = app
        .sinch(
            &acme,
            Method::GET,
            "activeNumbers?orderBy=phoneNumber",
            Value::Null,
        )
        .await;
    let numbers: Vec<&str> = by_number["activeNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["phoneNumber"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, names.iter().map(|(n, _)| *n).collect::<Vec<_>>());

    // An unknown order, and a phone-number token given to a display-name listing.
    let (status, body) = app
        .sinch(
            &acme,
            Method::GET,
            "activeNumbers?orderBy=createTime",
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(violations(&body)[0].0, "orderBy");
    let (_, first) = app
        .sinch(&acme, Method::GET, "activeNumbers?pageSize=1", Value::Null)
        .await;
    let number_token = first["nextPageToken"].as_str().unwrap();
    let (status, body) = app
        .sinch(
            &acme,
            Method::GET,
            &format!("activeNumbers?orderBy=displayName&pageToken={number_token}"),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(violations(&body)[0].0, "pageToken");
    app.shutdown().await;
}

fn e911(street: &str, state: &str) -> Value {
    json!({
        "displayName": "Acme HQ",
        "address": {"streetNumber": "1201", "streetInfo": street, "location": "Floor 4",
                    "city": "Seattle", "state": state, "postalCode": "98101"},
    })
}

/// The emergency-address endpoints the Node SDK calls: get, `:provision`, `:validate`,
/// `:deprovision`, for the project's US voice numbers only, the address gone with the number.
async fn emergency_addresses_of_active_voice_numbers(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let acme = app.tenant("Acme").await;
    let globex = app.tenant("Globex").await;
    for number in ["+12065550100", "+19195552233"] {
        rent(&app, &acme, number).await;
    }
    let path = |verb: &str| format!("activeNumbers/+12065550100/emergencyAddress{verb}");

    let (status, body) = app.sinch(&acme, Method::GET, &path(""), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        body["error"]["details"][0]["resourceType"],
        "EmergencyAddress"
    );

    // Validate: as given, then normalised (spacing, the state's case).
    let (status, exact) = app
        .sinch(
            &acme,
            Method::POST,
            &path(":validate"),
            e911("3rd Ave", "WA"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{exact}");
    assert_eq!(exact["validationResult"], "EXACT_MATCH");
    assert_eq!(exact["phoneNumber"], "+12065550100");
    assert_eq!(exact["validatedAddress"]["streetInfo"], "3rd Ave");
    assert!(exact.get("correctedAddress").is_none());
    let (_, near) = app
        .sinch(
            &acme,
            Method::POST,
            &path(":validate"),
            e911(" 3rd   Ave", "wa"),
        )
        .await;
    assert_eq!(near["validationResult"], "NEAR_MATCH");
    assert_eq!(near["correctedAddress"]["state"], "WA");
    assert_eq!(near["correctedAddress"]["streetInfo"], "3rd Ave");
    assert_eq!(near["candidateAddresses"], json!([]));
    // Nothing was stored by validating.
    let (status, _) = app.sinch(&acme, Method::GET, &path(""), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A malformed address names every bad part.
    let mut bad = e911("3rd Ave", "XX");
    bad["address"]["postalCode"] = json!("9810");
    bad["address"]["city"] = json!(null);
    let (status, body) = app
        .sinch(&acme, Method::POST, &path(":provision"), bad)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let fields: Vec<String> = violations(&body).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        ["address.city", "address.state", "address.postalCode"]
    );

    let (status, provisioned) = app
        .sinch(
            &acme,
            Method::POST,
            &path(":provision"),
            e911("3rd  Ave", "wa"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{provisioned}");
    let stored = json!({"streetNumber": "1201", "streetInfo": "3rd Ave", "location": "Floor 4",
                        "city": "Seattle", "state": "WA", "postalCode": "98101"});
    assert_eq!(provisioned, stored);
    let (status, got) = app.sinch(&acme, Method::GET, &path(""), Value::Null).await;
    assert_eq!((status, &got), (StatusCode::OK, &stored));

    // Only the project's own US voice numbers.
    let (status, body) = app
        .sinch(&globex, Method::GET, &path(""), Value::Null)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"]["details"][0]["resourceType"], "ActiveNumber");
    let (status, body) = app
        .sinch(
            &acme,
            Method::POST,
            "activeNumbers/+19195552233/emergencyAddress:provision",
            e911("3rd Ave", "WA"),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an SMS-only number: {body}"
    );
    assert_eq!(violations(&body)[0].0, "phoneNumber");
    let (status, _) = app
        .sinch(&acme, Method::POST, &path(":relocate"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Deprovision (twice: done either way), then the address is gone.
    for _ in 0..2 {
        let (status, body) = app
            .sinch(&acme, Method::POST, &path(":deprovision"), json!({}))
            .await;
        assert_eq!((status, &body), (StatusCode::OK, &json!({})));
    }
    let (status, _) = app.sinch(&acme, Method::GET, &path(""), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Released with its number.
    app.sinch(
        &acme,
        Method::POST,
        &path(":provision"),
        e911("3rd Ave", "WA"),
    )
    .await;
    let (status, _) = app
        .sinch(
            &acme,
            Method::POST,
            "activeNumbers/+12065550100:release",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.sinch(&acme, Method::GET, &path(""), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["details"][0]["resourceType"], "ActiveNumber");
    app.shutdown().await;
}

/// The same calls through Sinch's official Node SDK (neither Python 2.3.0 nor any other SDK has
/// the emergency-address calls): `list({orderBy: 'displayName'})` across pages with the SDK's own
/// iterator, and validate, provision, get, deprovision.
async fn node_sdk_orders_by_display_name_and_keeps_emergency_addresses(backend: Backend) {
    let modules = tokio::task::spawn_blocking(|| {
        crate::sdk_install::node_sdk("sinch", "tests/sdk/sinch/node")
    })
    .await
    .unwrap();
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    app.import_csv(INVENTORY_CSV).await;
    let tenant = app.tenant("SDK user").await;
    let mut cmd = std::process::Command::new("node");
    cmd.arg(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/sdk/sinch/node/fidelity_flow.js"),
    )
    .env("NODE_PATH", &modules)
    .env("NUMBERSD_BASE_URL", &app.base)
    .env("SINCH_PROJECT_ID", &tenant.id)
    .env("SINCH_KEY_ID", &tenant.creds.key_id)
    .env("SINCH_KEY_SECRET", &tenant.creds.secret);
    let stdout = tokio::task::spawn_blocking(move || {
        String::from_utf8_lossy(&crate::sdk_install::run(&mut cmd, "node fidelity_flow.js").stdout)
            .into_owned()
    })
    .await
    .unwrap();
    let out: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("fidelity_flow.js printed no JSON ({e}): {stdout}"));
    let address = json!({"streetNumber": "1201", "streetInfo": "3rd Ave", "city": "Seattle",
                         "state": "WA", "postalCode": "98101"});
    assert_eq!(
        out,
        json!({
            "byDisplayName": [["Front desk", "+12065550101"], ["Zed desk", "+12065550100"]],
            "validated": {"validationResult": "NEAR_MATCH", "correctedState": "WA", "candidates": 0},
            "provisioned": address,
            "fetched": address,
            "afterDeprovision": 404,
        })
    );
    app.shutdown().await;
}

on_both_databases!(
    node_sdk_orders_by_display_name_and_keeps_emergency_addresses,
    a_number_order_takes_one_number,
    active_numbers_in_display_name_order,
    emergency_addresses_of_active_voice_numbers
);
