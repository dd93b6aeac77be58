//! Property tests over every door's request parsers, through the whole application (the axum
//! router with its edge guard, over a SQLite store, driven by `oneshot` — no sockets): native
//! JSON bodies, Bandwidth XML bodies and query strings, Sinch JSON bodies and query strings,
//! MessageMedia JSON, CSV import rows, and E.164 numbers in paths. Whatever is sent, the answer
//! is 2xx or 4xx: never a 5xx, so never a panic either (the guard would answer a panic 500).
//!
//! Inputs are built from each door's own vocabulary (field and element names) filled with
//! hostile values: extreme numbers, wrong types, deep nesting, unpaired quotes, control and
//! non-ASCII characters. Case counts are modest; the machine running the suite has two cores.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use base64::Engine;
use numbers_api::edge::EdgeLimits;
use numbers_api::{ApiState, app};
use numbers_core::account::{IssuedKey, Principal, ServerSecret};
use numbers_core::clock::{Clock, ManualClock};
use numbers_core::service::{Service, ServiceConfig};
use numbers_core::store::SearchLimits;
use numbers_inventory::csv_import::COLUMNS;
use numbersd::startup::{build_service_with, open_store_with, webhook_registry};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Number, Value};
use tokio::runtime::Runtime;
use tower::ServiceExt;

use crate::helpers::{INVENTORY_CSV, TEST_SECRET_KEY, TestDatabase, fresh_database};

/// Cases per property; `PROPTEST_CASES` overrides it for a longer local run.
const CASES: u32 = 128;

/// One application over a fresh SQLite file, with inventory and a tenant.
struct Fixture {
    runtime: Runtime,
    router: Router,
    tenant: String,
    tenant_auth: String,
    operator_auth: String,
    /// Removed when the fixture is dropped.
    _database: TestDatabase,
    /// Statuses answered, to show the inputs got past authentication and into the parsers.
    seen: Mutex<BTreeMap<u16, u32>>,
}

fn basic(key_id: &str, secret: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{key_id}:{secret}"));
    format!("Basic {token}")
}

impl Fixture {
    fn new() -> Fixture {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (router, tenant, tenant_auth, operator_auth, database) = runtime.block_on(async {
            let database = fresh_database(crate::helpers::Backend::Sqlite)
                .await
                .unwrap();
            let config = ServiceConfig {
                secret_key: Some(ServerSecret::parse(TEST_SECRET_KEY, "secret_key").unwrap()),
                ..ServiceConfig::default()
            };
            let secrets = numbers_core::sealing::secret_box(config.secret_key.as_ref(), &[]);
            let store = open_store_with(&database, secrets, SearchLimits::default())
                .await
                .unwrap();
            let clock = Arc::new(ManualClock::starting_now());
            let service: Service =
                build_service_with(store, clock as Arc<dyn Clock>, config, webhook_registry());
            let operator = IssuedKey::generate(None);
            service.ensure_operator_key(&operator).await.unwrap();
            let (account, key) = service
                .create_account(Principal::Operator, "properties")
                .await
                .unwrap();
            // The edge without throttles: the properties send far more than one client would.
            let router = app(ApiState::with_limits(service, EdgeLimits::unthrottled()));
            let operator_auth = basic(&operator.key_id, &operator.secret);
            let import = Request::post("/v1/operator/inventory")
                .header(header::AUTHORIZATION, &operator_auth)
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(INVENTORY_CSV))
                .unwrap();
            let res = router.clone().oneshot(import).await.unwrap();
            assert!(res.status().is_success());
            (
                router,
                account.id.to_string(),
                basic(&key.key_id, &key.secret),
                operator_auth,
                database,
            )
        });
        Fixture {
            runtime,
            router,
            tenant,
            tenant_auth,
            operator_auth,
            _database: database,
            seen: Mutex::new(BTreeMap::new()),
        }
    }

    /// Sends one request; fails the case on anything but 2xx or 4xx.
    fn check(
        &self,
        method: Method,
        uri: &str,
        content_type: &str,
        body: Vec<u8>,
        operator: bool,
    ) -> Result<(), TestCaseError> {
        let auth = if operator {
            &self.operator_auth
        } else {
            &self.tenant_auth
        };
        let request = Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(header::AUTHORIZATION, auth)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.clone()));
        // A URI the HTTP layer cannot even form never reaches the server.
        let Ok(request) = request else {
            return Ok(());
        };
        let (status, answer) = self.runtime.block_on(async {
            let res = self.router.clone().oneshot(request).await.unwrap();
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        });
        *self
            .seen
            .lock()
            .unwrap()
            .entry(status.as_u16())
            .or_default() += 1;
        prop_assert!(
            status.is_success() || status.is_client_error(),
            "{method} {uri} {:?} -> {status} {answer}",
            String::from_utf8_lossy(&body)
        );
        Ok(())
    }

    fn run<S: Strategy>(&self, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
        let mut runner = TestRunner::new(Config {
            cases: std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(CASES),
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(e) = runner.run(&strategy, test) {
            panic!("{e}");
        }
        // The properties mean something only if the inputs reached the parsers: some were
        // refused as invalid (400) rather than all as unauthenticated or unknown routes.
        let seen = self.seen.lock().unwrap().clone();
        eprintln!("statuses answered: {seen:?}");
        assert!(
            seen.contains_key(&400),
            "no input reached a parser: {seen:?}"
        );
    }
}

/// Hostile text: control characters, quotes, markup, numbers-as-text, non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,24}",
        "[ -~]{0,24}",
        "[+]?[0-9]{0,20}",
        Just(String::new()),
        Just("+12065550100".to_string()),
        Just("+61491570156".to_string()),
        Just("http://127.0.0.1:1/".to_string()),
        Just("https://example.com/hook".to_string()),
        Just("9223372036854775808".to_string()),
        Just("-1".to_string()),
        Just("\u{0}".to_string()),
        Just("\"'<>&%".to_string()),
        Just("①②⑦".to_string()),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0u64..10_000).prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(Value::from(9_223_372_036_854_776_u64)),
    ]
}

/// Any JSON value, nested a few levels, object keys from `keys` or anything.
fn json_value(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(keys), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn key(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(keys).prop_map(str::to_string),
        1 => "[a-zA-Z_]{0,10}",
    ]
}

/// A JSON object with fields of the door's vocabulary holding any values — or now and then a
/// document that is not an object, or not JSON at all.
fn json_body(keys: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::collection::vec((key(keys), json_value(keys)), 0..8).prop_map(|pairs| {
            serde_json::to_vec(&Value::Object(pairs.into_iter().collect())).unwrap()
        }),
        1 => json_value(keys).prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => "\\PC{0,40}".prop_map(String::into_bytes),
    ]
}

/// Percent-encodes everything but the unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A query string of the door's parameter names (repeated, empty or unknown too).
fn query(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec((key(names), text()), 0..8).prop_map(|pairs| {
        pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// An XML element tree from the door's element names, text anywhere, sometimes unescaped.
fn xml_element(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    let leaf = (prop::sample::select(names), text(), any::<bool>()).prop_map(|(n, t, raw)| {
        let t = if raw { t } else { escape(&t) };
        format!("<{n}>{t}</{n}>")
    });
    leaf.prop_recursive(3, 32, 6, move |inner| {
        (
            prop::sample::select(names),
            prop::collection::vec(inner, 0..6),
        )
            .prop_map(|(n, children)| format!("<{n}>{}</{n}>", children.concat()))
    })
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn xml_body(
    roots: &'static [&'static str],
    names: &'static [&'static str],
) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => (
            prop::sample::select(roots),
            prop::collection::vec(xml_element(names), 0..6),
            any::<bool>()
        )
            .prop_map(|(root, children, declaration)| {
                let head = if declaration {
                    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
                } else {
                    ""
                };
                format!("{head}<{root}>{}</{root}>", children.concat()).into_bytes()
            }),
        1 => "\\PC{0,60}".prop_map(String::into_bytes),
        1 => Just(b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]><Order>&a;&a;</Order>".to_vec()),
    ]
}

#[test]
fn native_json_bodies_answer_2xx_or_4xx() {
    const KEYS: &[&str] = &[
        "numbers",
        "ttl_seconds",
        "search",
        "quantity",
        "label",
        "number",
        "country",
        "type",
        "npa",
        "capabilities",
        "url",
        "events",
        "description",
        "callback_url",
        "display_name",
        "metadata",
        "overlap_seconds",
        "requirements",
        "values",
    ];
    let f = Fixture::new();
    let routes: &[(Method, &str)] = &[
        (Method::POST, "/v1/reservations"),
        (Method::POST, "/v1/orders"),
        (Method::POST, "/v1/webhooks"),
        (Method::POST, "/v1/number-orders"),
        (Method::PATCH, "/v1/numbers/+12065550100"),
        (Method::POST, "/v1/numbers/+12065550100/release"),
    ];
    f.run(
        (prop::sample::select(routes), json_body(KEYS)),
        |((method, path), body)| f.check(method, path, "application/json", body, false),
    );
}

#[test]
fn query_strings_of_every_door_answer_2xx_or_4xx() {
    const NAMES: &[&str] = &[
        // native
        "country",
        "type",
        "npa",
        "nxx",
        "capabilities",
        "contains",
        "starts_with",
        "ends_with",
        "page_size",
        "page_token",
        "after",
        "limit",
        "status",
        "region",
        "city",
        "state",
        // Bandwidth
        "areaCode",
        "npaNxx",
        "npaNxxx",
        "rateCenter",
        "zip",
        "lata",
        "quantity",
        "enableTNDetail",
        "LCA",
        "endsIn",
        "localVanity",
        "tollFreeVanity",
        "tollFreeWildCardPattern",
        "orderBy",
        "size",
        "page",
        "startdate",
        "enddate",
        "protected",
        // Sinch
        "regionCode",
        "numberPattern.pattern",
        "numberPattern.searchPattern",
        "pageSize",
        "pageToken",
        "orderBy",
        "types",
        // MessageMedia
        "number_type",
        "service_types",
        "exact_service_types",
        "matching",
        "classification",
        "token",
    ];
    let f = Fixture::new();
    let t = f.tenant.clone();
    let paths: Vec<String> = vec![
        "/v1/available-numbers".into(),
        "/v1/numbers".into(),
        "/v1/orders".into(),
        "/v1/events".into(),
        "/v1/webhooks".into(),
        format!("/api/accounts/{t}/availableNumbers"),
        format!("/api/accounts/{t}/orders"),
        format!("/api/accounts/{t}/disconnects"),
        format!("/api/accounts/{t}/inserviceNumbers"),
        format!("/api/accounts/{t}/discnumbers"),
        "/api/tns".into(),
        format!("/v1/projects/{t}/availableNumbers"),
        format!("/v1/projects/{t}/activeNumbers"),
        format!("/v1/projects/{t}/availableRegions"),
        "/v1/messaging/numbers/dedicated".into(),
        "/v1/messaging/numbers/dedicated/assignments".into(),
    ];
    f.run(
        (prop::sample::select(paths), query(NAMES)),
        |(path, query)| f.check(Method::GET, &format!("{path}?{query}"), "", vec![], false),
    );
}

#[test]
fn bandwidth_xml_bodies_answer_2xx_or_4xx() {
    const ROOTS: &[&str] = &[
        "Order",
        "Subscription",
        "DisconnectTelephoneNumberOrder",
        "Reservation",
        "Site",
        "Note",
    ];
    const NAMES: &[&str] = &[
        "ExistingTelephoneNumberOrderType",
        "TelephoneNumberList",
        "TelephoneNumber",
        "AreaCodeSearchAndOrderType",
        "AreaCode",
        "Quantity",
        "NPANXXSearchAndOrderType",
        "NpaNxx",
        "TollFreeWildCharSearchAndOrderType",
        "TollFreeWildCardPattern",
        "SiteId",
        "PeerId",
        "Name",
        "CustomerOrderId",
        "PartialAllowed",
        "BackOrderRequested",
        "ReservationIdList",
        "ReservationId",
        "OrderType",
        "CallbackSubscription",
        "URL",
        "Expiry",
        "CallbackCredentials",
        "BasicAuthentication",
        "Username",
        "Password",
        "DisconnectTelephoneNumberOrderType",
        "DisconnectMode",
        "ReservedTn",
        "Address",
        "City",
        "StateCode",
        "Zip",
        "Description",
        "UserId",
    ];
    let f = Fixture::new();
    let t = f.tenant.clone();
    let paths: Vec<(Method, String)> = vec![
        (Method::POST, format!("/api/accounts/{t}/orders")),
        (Method::POST, format!("/api/accounts/{t}/subscriptions")),
        (Method::POST, format!("/api/accounts/{t}/disconnects")),
        (Method::POST, format!("/api/accounts/{t}/tnreservation")),
        (Method::POST, format!("/api/accounts/{t}/sites")),
        (Method::POST, format!("/api/accounts/{t}/orders/x/notes")),
    ];
    f.run(
        (prop::sample::select(paths), xml_body(ROOTS, NAMES)),
        |((method, path), body)| f.check(method, &path, "application/xml", body, false),
    );
}

#[test]
fn sinch_and_messagemedia_json_bodies_answer_2xx_or_4xx() {
    const KEYS: &[&str] = &[
        // Sinch
        "regionCode",
        "type",
        "numberType",
        "numberPattern",
        "pattern",
        "searchPattern",
        "capabilities",
        "smsConfiguration",
        "voiceConfiguration",
        "servicePlanId",
        "appId",
        "callbackUrl",
        "displayName",
        "hmacSecret",
        "numberOrderOption",
        "quantityOrderOption",
        "requestedQuantity",
        "phoneNumbers",
        "sequential",
        "registration",
        // MessageMedia
        "label",
        "metadata",
    ];
    let f = Fixture::new();
    let t = f.tenant.clone();
    let mm = "/v1/messaging/numbers/dedicated";
    let paths: Vec<(Method, String)> = vec![
        (
            Method::POST,
            format!("/v1/projects/{t}/availableNumbers:rentAny"),
        ),
        (
            Method::POST,
            format!("/v1/projects/{t}/availableNumbers/+12065550100:rent"),
        ),
        (
            Method::PATCH,
            format!("/v1/projects/{t}/activeNumbers/+12065550100"),
        ),
        (
            Method::PATCH,
            format!("/v1/projects/{t}/callbackConfiguration"),
        ),
        (
            Method::POST,
            format!("/v1/projects/{t}/numberOrders:createNumberOrder"),
        ),
        (
            Method::POST,
            format!("/v1/projects/{t}/numberOrders:lookupNumberRequirements"),
        ),
        (Method::POST, format!("{mm}/+61491570156/assignment")),
        (Method::PATCH, format!("{mm}/+61491570156/assignment")),
    ];
    f.run(
        (prop::sample::select(paths), json_body(KEYS)),
        |((method, path), body)| f.check(method, &path, "application/json", body, false),
    );
}

#[test]
fn csv_import_rows_answer_2xx_or_4xx() {
    let f = Fixture::new();
    let header = prop::sample::subsequence(COLUMNS.to_vec(), 1..COLUMNS.len());
    let rows = prop::collection::vec(prop::collection::vec(text(), 0..17), 0..6);
    f.run((header, rows), |(header, rows)| {
        let mut csv = header.join(",");
        for row in rows {
            csv.push('\n');
            csv.push_str(&row.join(","));
        }
        f.check(
            Method::POST,
            "/v1/operator/inventory",
            "text/csv",
            csv.into_bytes(),
            true,
        )
    });
}

#[test]
fn numbers_in_paths_answer_2xx_or_4xx() {
    let f = Fixture::new();
    let t = f.tenant.clone();
    let templates: Vec<String> = vec![
        "/v1/numbers/{n}".into(),
        "/v1/numbers/{n}/history".into(),
        "/v1/available-numbers/{n}".into(),
        "/api/tns/{n}".into(),
        "/api/tns/{n}/tndetails".into(),
        format!("/api/accounts/{t}/inserviceNumbers/{{n}}"),
        format!("/api/accounts/{t}/tnreservation/{{n}}"),
        format!("/v1/projects/{t}/availableNumbers/{{n}}"),
        format!("/v1/projects/{t}/activeNumbers/{{n}}"),
        "/v1/messaging/numbers/dedicated/{n}".into(),
        "/v1/messaging/numbers/dedicated/{n}/assignment".into(),
    ];
    f.run(
        (prop::sample::select(templates), text()),
        |(template, n)| {
            let uri = template.replace("{n}", &encode(&n));
            f.check(Method::GET, &uri, "", vec![], false)
        },
    );
}
