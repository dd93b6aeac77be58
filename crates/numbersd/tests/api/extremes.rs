//! Every client-supplied number at its extremes, on every door: far beyond `u32`, `i64` and
//! `u64`, negative, fractional, in exponent form and not a number at all. Each must be refused
//! with a 400 naming the field in the door's own error format — never a 500 from the catch-panic
//! guard (a huge `ttl_seconds` once panicked in `Duration::seconds`).

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::edge::Door;
use crate::helpers::{Backend, on_both_databases, spawn_app_on};

/// Where the number goes: a query parameter (added to the path's own), or `{v}` in a body sent
/// with this content type.
enum Carrier {
    Query,
    Body(&'static str, String),
}

struct Case {
    door: Door,
    method: Method,
    path: String,
    field: &'static str,
    carrier: Carrier,
    /// The name the door's error uses for the field (a JSON path for nested fields).
    named: &'static str,
}

/// Beyond every field's range, in a query string and in a JSON or XML body alike (raw text there).
const EXTREMES: &[&str] = &[
    "9223372036854776",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999999",
    "-1",
    "1e308",
    "1.5",
];

/// Only in query strings: beyond `u32` (Bandwidth's `Expiry`, a body field, goes up to 10^10
/// seconds), the most negative `i64`, and things that are not numbers.
const QUERY_EXTREMES: &[&str] = &["4294967296", "-9223372036854775808", "NaN", "0x10", "١٢"];

/// Only in bodies: below `i64`, beyond `f64`, negative zero.
const BODY_EXTREMES: &[&str] = &["-9223372036854775809", "1e400", "-0.0"];

fn cases(account: &str) -> Vec<Case> {
    use Door::*;
    let q = |door, path: String, field, named| Case {
        door,
        method: Method::GET,
        path,
        field,
        carrier: Carrier::Query,
        named,
    };
    let json = |door, method, path: String, body: &str, field, named| Case {
        door,
        method,
        path,
        field,
        carrier: Carrier::Body("application/json", body.to_string()),
        named,
    };
    let xml = |path: String, body: &str, field, named| Case {
        door: Bandwidth,
        method: Method::POST,
        path,
        field,
        carrier: Carrier::Body("application/xml", body.to_string()),
        named,
    };
    let bw = format!("/api/accounts/{account}");
    let sinch = format!("/v1/projects/{account}");
    let mm = "/v1/messaging/numbers/dedicated";
    vec![
        // Native query parameters.
        q(
            Native,
            "/v1/available-numbers?country=US".into(),
            "page_size",
            "page_size",
        ),
        q(Native, "/v1/numbers".into(), "page_size", "page_size"),
        q(Native, "/v1/orders".into(), "page_size", "page_size"),
        q(Native, "/v1/webhooks".into(), "page_size", "page_size"),
        q(Native, "/v1/events".into(), "limit", "limit"),
        q(
            Native,
            "/v1/numbers/+12065550100/history".into(),
            "limit",
            "limit",
        ),
        // Native bodies.
        json(
            Native,
            Method::POST,
            "/v1/reservations".into(),
            r#"{"numbers": ["+12065550100"], "ttl_seconds": {v}}"#,
            "ttl_seconds",
            "ttl_seconds",
        ),
        json(
            Native,
            Method::POST,
            "/v1/orders".into(),
            r#"{"search": {"country": "US"}, "quantity": {v}}"#,
            "quantity",
            "quantity",
        ),
        json(
            Native,
            Method::POST,
            "/v1/number-orders".into(),
            r#"{"search": {"country": "US"}, "quantity": {v}}"#,
            "quantity",
            "quantity",
        ),
        // Bandwidth query parameters and bodies.
        q(
            Bandwidth,
            format!("{bw}/availableNumbers?areaCode=206"),
            "quantity",
            "quantity",
        ),
        q(Bandwidth, format!("{bw}/orders"), "size", "size"),
        q(Bandwidth, format!("{bw}/disconnects"), "size", "size"),
        q(Bandwidth, format!("{bw}/inserviceNumbers"), "size", "size"),
        q(Bandwidth, format!("{bw}/discnumbers"), "size", "size"),
        q(Bandwidth, "/api/tns".into(), "size", "size"),
        xml(
            format!("{bw}/orders"),
            "<Order><AreaCodeSearchAndOrderType><AreaCode>206</AreaCode>\
             <Quantity>{v}</Quantity></AreaCodeSearchAndOrderType><SiteId>1</SiteId></Order>",
            "Quantity",
            "Quantity",
        ),
        xml(
            format!("{bw}/orders"),
            "<Order><AreaCodeSearchAndOrderType><AreaCode>206</AreaCode>\
             <Quantity>1</Quantity></AreaCodeSearchAndOrderType><SiteId>{v}</SiteId></Order>",
            "SiteId",
            "SiteId",
        ),
        xml(
            format!("{bw}/subscriptions"),
            "<Subscription><OrderType>orders</OrderType><CallbackSubscription>\
             <URL>https://example.com/cb</URL><Expiry>{v}</Expiry></CallbackSubscription>\
             </Subscription>",
            "Expiry",
            "Expiry",
        ),
        // Sinch.
        q(
            Sinch,
            format!("{sinch}/availableNumbers?regionCode=US&type=LOCAL"),
            "size",
            "size",
        ),
        q(
            Sinch,
            format!("{sinch}/activeNumbers?regionCode=US&type=LOCAL"),
            "pageSize",
            "pageSize",
        ),
        json(
            Sinch,
            Method::POST,
            format!("{sinch}/numberOrders:createNumberOrder"),
            r#"{"regionCode": "US", "numberType": "LOCAL",
                "quantityOrderOption": {"requestedQuantity": {v}}}"#,
            "requestedQuantity",
            "quantityOrderOption.requestedQuantity",
        ),
        // MessageMedia.
        q(MessageMedia, mm.into(), "page_size", "page_size"),
        q(
            MessageMedia,
            format!("{mm}/assignments"),
            "page_size",
            "page_size",
        ),
    ]
}

async fn extreme_numbers_are_refused_naming_the_field(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    let t = app.tenant("extremes").await;
    let mut tried = 0;
    for case in cases(&t.id) {
        let more = match case.carrier {
            Carrier::Query => QUERY_EXTREMES,
            Carrier::Body(..) => BODY_EXTREMES,
        };
        for v in EXTREMES.iter().chain(more) {
            let request = match &case.carrier {
                Carrier::Query => app
                    .request(case.method.clone(), &t.creds, &case.path)
                    .query(&[(case.field, v)]),
                Carrier::Body(content_type, template) => app
                    .request(case.method.clone(), &t.creds, &case.path)
                    .header("content-type", *content_type)
                    .body(template.replace("{v}", v)),
            };
            let res = request.send().await.unwrap();
            let status = res.status();
            let content_type = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let body = res.text().await.unwrap();
            let what = format!(
                "{:?} {} {} {}={v}: {status} {body}",
                case.door, case.method, case.path, case.field
            );
            assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
            // A JSON number beyond f64 (1e400) makes the document itself unreadable to the
            // JSON parser: refused the same way, naming the body.
            let named = match &case.carrier {
                Carrier::Body("application/json", _) if *v == "1e400" => "body",
                _ => case.named,
            };
            assert_names_field(case.door, &content_type, &body, named, &what);
            tried += 1;
        }
    }
    assert!(tried > 200, "the sweep ran ({tried} requests)");
    app.shutdown().await;
}

/// The door's own error format, naming `field`.
fn assert_names_field(door: Door, content_type: &str, body: &str, field: &str, what: &str) {
    match door {
        Door::Native => {
            assert_eq!(content_type, "application/problem+json", "{what}");
            let v: Value = serde_json::from_str(body).unwrap();
            let named = v["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|x| x["field"] == field));
            assert!(named, "{what}");
        }
        Door::Bandwidth => {
            assert!(content_type.contains("xml"), "{what}");
            assert!(
                body.contains("<Error>") || body.contains("<ErrorCode>"),
                "{what}"
            );
            assert!(body.contains(field), "{what}");
        }
        Door::Sinch => {
            assert!(content_type.starts_with("application/json"), "{what}");
            let v: Value = serde_json::from_str(body).unwrap();
            assert_eq!(v["error"]["status"], "INVALID_ARGUMENT", "{what}");
            let named = v["error"]["details"].as_array().is_some_and(|d| {
                d.iter().any(|d| {
                    d["fieldViolations"]
                        .as_array()
                        .is_some_and(|f| f.iter().any(|f| f["field"] == field))
                })
            });
            assert!(named, "{what}");
        }
        Door::MessageMedia => {
            assert!(content_type.starts_with("application/json"), "{what}");
            let v: Value = serde_json::from_str(body).unwrap();
            assert!(v["message"].is_string(), "{what}");
            let named = v["details"].as_array().is_some_and(|d| {
                d.iter().any(|d| {
                    d.as_str()
                        .is_some_and(|s| s.starts_with(&format!("{field}:")))
                })
            });
            assert!(named, "{what}");
        }
    }
}

/// CSV imports answer per row: each row with a number at an extreme (`tier`, `setup_price`,
/// `monthly_price`) is rejected naming its column, and the rest of the file is imported.
async fn extreme_numbers_in_csv_rows_are_rejected_naming_the_column(backend: Backend) {
    let Some(app) = spawn_app_on(backend).await else {
        return;
    };
    let columns = ["tier", "setup_price", "monthly_price"];
    let mut csv = String::from("e164,type,tier,setup_price,monthly_price,currency\n");
    let mut expected = Vec::new();
    let mut line = 1;
    for (i, v) in EXTREMES.iter().chain(QUERY_EXTREMES).enumerate() {
        for (c, column) in columns.iter().enumerate() {
            let mut cells = ["1", "0.00", "1.00"];
            cells[c] = v;
            line += 1;
            // +1206555xxxx: distinct, valid numbers.
            csv.push_str(&format!(
                "+1206555{:04},LOCAL,{},USD\n",
                i * columns.len() + c,
                cells.join(",")
            ));
            expected.push((line, *column, *v));
        }
    }
    csv.push_str("+12065559999,LOCAL,1,0.00,1.00,USD\n");
    let body = app.import_csv_answer(csv).await;
    let rejected = body["rejected"].as_array().unwrap();
    for (line, column, v) in &expected {
        let row = rejected.iter().find(|r| r["line"] == *line);
        let Some(row) = row else {
            // The only extremes a column may accept: prices are micro-units in an i64, so 1.5
            // and 4294967296 are prices (up to 9223372036854.775807); the larger ones are not.
            assert!(
                column.ends_with("price") && ["1.5", "4294967296"].contains(v),
                "line {line} {column}={v} imported"
            );
            continue;
        };
        let named = row["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().starts_with(&format!("{column}:")));
        assert!(named, "line {line} {column}={v}: {row}");
    }
    assert!(body["inserted"].as_u64().unwrap() >= 1, "{body}");
    app.shutdown().await;
}

on_both_databases!(
    extreme_numbers_are_refused_naming_the_field,
    extreme_numbers_in_csv_rows_are_rejected_naming_the_column,
);
