//! The Bandwidth dialect over real HTTP: every response document compared with a committed
//! snapshot (ids and timestamps normalised; `UPDATE_SNAPSHOTS=1` rewrites them), the whole search → order →
//! reserve → disconnect → aging flow on SQLite and PostgreSQL, and a malformed-XML corpus that
//! must be refused in the dialect's envelope with nothing written.

use chrono::Duration;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Backend, INVENTORY_CSV, Tenant, TestApp, spawn_app, spawn_app_on};
use crate::snapshots;

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

pub async fn call(
    app: &TestApp,
    t: &Tenant,
    method: Method,
    path: &str,
    body: Option<&str>,
) -> Answer {
    let path = path.replace("{acct}", &t.id);
    let mut req = app.request(method, &t.creds, &format!("/api{path}"));
    if let Some(body) = body {
        req = req
            .header("content-type", "application/xml; charset=utf-8")
            .body(body.to_string());
    }
    let res = req.send().await.unwrap();
    Answer {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.text().await.unwrap(),
    }
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Replaces UUIDs with `{uuid}` and `2024-01-02T03:04:05.678Z` timestamps with `{time}`.
pub fn normalise(body: &str) -> String {
    let chars: Vec<char> = body.chars().collect();
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    while i < chars.len() {
        if i + 36 <= chars.len() {
            let s: String = chars[i..i + 36].iter().collect();
            let parts: Vec<&str> = s.split('-').collect();
            if parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
                && parts.iter().all(|p| is_hex(p))
            {
                out.push_str("{uuid}");
                i += 36;
                continue;
            }
        }
        if i + 24 <= chars.len() {
            let s: String = chars[i..i + 24].iter().collect();
            let b = s.as_bytes();
            let shape = b.iter().enumerate().all(|(k, c)| match k {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                19 => *c == b'.',
                23 => *c == b'Z',
                _ => c.is_ascii_digit(),
            });
            if shape {
                out.push_str("{time}");
                i += 24;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Compares the normalised body with `snapshots/bandwidth/<name>.xml` byte for byte
/// (`crate::snapshots`).
#[track_caller]
pub fn snapshot(name: &str, body: &str) {
    snapshots::assert_matches(&format!("bandwidth/{name}.xml"), &normalise(body));
}

pub fn xml_answer(a: &Answer, status: StatusCode) {
    assert_eq!(a.status, status, "body: {}", a.body);
    assert_eq!(
        a.headers.get("content-type").unwrap(),
        "application/xml; charset=utf-8",
        "{}",
        a.body
    );
    assert!(
        a.body
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n")
    );
}

/// The text of the first `<tag>` in a document.
pub fn text_of(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].to_string())
}

pub fn last_segment(a: &Answer) -> String {
    let location = a
        .headers
        .get("location")
        .expect("Location header")
        .to_str()
        .unwrap();
    assert!(
        location.starts_with("http://"),
        "absolute Location: {location}"
    );
    location.rsplit('/').next().unwrap().to_string()
}

/// A tenant with the demo inventory, a site and its (default) SIP peer.
pub async fn setup(app: &TestApp) -> (Tenant, String, String) {
    app.import_csv(INVENTORY_CSV).await;
    let t = app.tenant("bw").await;
    let site = call(
        app,
        &t,
        Method::POST,
        "/accounts/{acct}/sites",
        Some("<Site><Name>Raleigh</Name><Description>HQ</Description><Address><City>Raleigh</City><StateCode>NC</StateCode><Zip>27601</Zip><Country>US</Country></Address></Site>"),
    )
    .await;
    xml_answer(&site, StatusCode::CREATED);
    let site_id = last_segment(&site);
    let peer = call(
        app,
        &t,
        Method::POST,
        &format!("/accounts/{{acct}}/sites/{site_id}/sippeers"),
        Some("<SipPeer><PeerName>pbx</PeerName><IsDefaultPeer>false</IsDefaultPeer><SiteId>ignored</SiteId></SipPeer>"),
    )
    .await;
    xml_answer(&peer, StatusCode::CREATED);
    let peer_id = last_segment(&peer);
    (t, site_id, peer_id)
}

pub async fn settle(app: &TestApp, t: &Tenant, kind: &str, id: &str) -> Answer {
    for _ in 0..500 {
        let a = call(
            app,
            t,
            Method::GET,
            &format!("/accounts/{{acct}}/{kind}/{id}"),
            None,
        )
        .await;
        let status = text_of(&a.body, "OrderStatus").unwrap_or_default();
        if !["RECEIVED", "PROCESSING"].contains(&status.as_str()) {
            return a;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{kind} {id} never settled");
}

pub fn order_xml(site: &str, order_type: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n<Order><Name>bw order</Name><CustomerOrderId>c-1</CustomerOrderId><SiteId>{site}</SiteId>{order_type}</Order>"
    )
}

pub fn existing(tns: &[&str]) -> String {
    let list: String = tns
        .iter()
        .map(|t| format!("<TelephoneNumber>{t}</TelephoneNumber>"))
        .collect();
    format!(
        "<ExistingTelephoneNumberOrderType><TelephoneNumberList>{list}</TelephoneNumberList></ExistingTelephoneNumberOrderType>"
    )
}

async fn flow(app: TestApp, snapshots: bool) {
    let snap = |name: &str, body: &str| {
        if snapshots {
            snapshot(name, body)
        }
    };
    let (t, site, peer) = setup(&app).await;

    // Sites and peers.
    let a = call(&app, &t, Method::GET, "/accounts/{acct}/sites", None).await;
    xml_answer(&a, StatusCode::OK);
    snap("sites_list", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        &format!("/accounts/{{acct}}/sites/{site}"),
        None,
    )
    .await;
    xml_answer(&a, StatusCode::OK);
    snap("site_get", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        &format!("/accounts/{{acct}}/sites/{site}/sippeers/{peer}"),
        None,
    )
    .await;
    xml_answer(&a, StatusCode::OK);
    assert_eq!(
        text_of(&a.body, "IsDefaultPeer").as_deref(),
        Some("true"),
        "the first peer is the default"
    );
    snap("sippeer_get", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        &format!("/accounts/{{acct}}/sites/{site}/sippeers"),
        None,
    )
    .await;
    snap("sippeers_list", &a.body);
    let a = call(
        &app,
        &t,
        Method::DELETE,
        &format!("/accounts/{{acct}}/sites/{site}"),
        None,
    )
    .await;
    xml_answer(&a, StatusCode::BAD_REQUEST);
    snap("site_delete_with_peers", &a.body);
    let a = call(&app, &t, Method::GET, "/accounts/{acct}/sites/999", None).await;
    xml_answer(&a, StatusCode::NOT_FOUND);
    snap("site_not_found", &a.body);

    // Search.
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/availableNumbers?areaCode=206&quantity=3",
        None,
    )
    .await;
    xml_answer(&a, StatusCode::OK);
    snap("search_plain", &a.body);
    let a = call(&app, &t, Method::GET, "/accounts/{acct}/availableNumbers?npaNxx=206555&enableTNDetail=true&quantity=2&orderBy=fullNumber", None).await;
    xml_answer(&a, StatusCode::OK);
    snap("search_detail", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/availableNumbers?tollFreeWildCardPattern=87*",
        None,
    )
    .await;
    assert!(
        a.body
            .contains("<TelephoneNumber>8775552233</TelephoneNumber>"),
        "{}",
        a.body
    );
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/availableNumbers?areaCode=919&protected=ONLY",
        None,
    )
    .await;
    snap("search_empty", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/availableNumbers?quantity=5",
        None,
    )
    .await;
    xml_answer(&a, StatusCode::BAD_REQUEST);
    snap("search_error_4010", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/availableNumbers?areaCode=919&orderBy=fullNumber",
        None,
    )
    .await;
    assert_eq!(text_of(&a.body, "Code").as_deref(), Some("4021"));

    // Order explicit numbers: RECEIVED, then COMPLETE, visible in the core as ASSIGNED.
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/orders",
        Some(&order_xml(&site, &existing(&["2065550100", "2065550101"]))),
    )
    .await;
    xml_answer(&a, StatusCode::CREATED);
    snap("order_create", &a.body);
    let order1 = last_segment(&a);
    assert_eq!(
        text_of(&a.body, "id").as_deref(),
        Some(order1.as_str()),
        "the id is in <Order><id>"
    );
    let a = settle(&app, &t, "orders", &order1).await;
    xml_answer(&a, StatusCode::OK);
    snap("order_complete", &a.body);
    let native: Value = app
        .number(&t.creds, "+12065550100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(native["state"], "ASSIGNED");
    assert_eq!(native["account_id"], t.id.as_str());

    // PARTIAL: one number is already ours.
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/orders",
        Some(&order_xml(&site, &existing(&["2065550100", "2065550123"]))),
    )
    .await;
    let partial = last_segment(&a);
    let a = settle(&app, &t, "orders", &partial).await;
    assert_eq!(text_of(&a.body, "OrderStatus").as_deref(), Some("PARTIAL"));
    snap("order_partial", &a.body);

    // By area code, with a named peer and TnAttributes.
    let body = format!(
        "<Order><SiteId>{site}</SiteId><PeerId>{peer}</PeerId><AreaCodeSearchAndOrderType><AreaCode>919</AreaCode><Quantity>1</Quantity></AreaCodeSearchAndOrderType><TnAttributes><TnAttribute>Protected</TnAttribute></TnAttributes></Order>"
    );
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/orders",
        Some(&body),
    )
    .await;
    let by_area = last_segment(&a);
    let a = settle(&app, &t, "orders", &by_area).await;
    assert_eq!(text_of(&a.body, "OrderStatus").as_deref(), Some("COMPLETE"));
    snap("order_area_code", &a.body);
    let a = call(&app, &t, Method::GET, "/tns/9195550142/tndetails", None).await;
    xml_answer(&a, StatusCode::OK);
    snap("tn_details", &a.body);

    // Backorder, then close it.
    let body = format!(
        "<Order><SiteId>{site}</SiteId><BackOrderRequested>true</BackOrderRequested><StateSearchAndOrderType><State>NY</State><Quantity>1</Quantity></StateSearchAndOrderType></Order>"
    );
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/orders",
        Some(&body),
    )
    .await;
    let backorder = last_segment(&a);
    let a = settle(&app, &t, "orders", &backorder).await;
    assert_eq!(
        text_of(&a.body, "OrderStatus").as_deref(),
        Some("BACKORDERED")
    );
    let a = call(
        &app,
        &t,
        Method::PUT,
        &format!("/accounts/{{acct}}/orders/{backorder}"),
        Some("<Order><CloseOrder>true</CloseOrder></Order>"),
    )
    .await;
    xml_answer(&a, StatusCode::OK);
    snap("order_closed", &a.body);
    let a = call(
        &app,
        &t,
        Method::PUT,
        &format!("/accounts/{{acct}}/orders/{backorder}"),
        Some("<Order><CloseOrder>true</CloseOrder></Order>"),
    )
    .await;
    xml_answer(&a, StatusCode::BAD_REQUEST);
    assert_eq!(text_of(&a.body, "Code").as_deref(), Some("5060"));

    // Invalid orders: 400 with the ErrorList before the echo.
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/orders",
        Some(&order_xml("999", &existing(&["2065557777"]))),
    )
    .await;
    xml_answer(&a, StatusCode::BAD_REQUEST);
    snap("order_error_site", &a.body);
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/orders",
        Some(&format!("<Order>{}</Order>", existing(&["2065557777"]))),
    )
    .await;
    assert_eq!(text_of(&a.body, "Code").as_deref(), Some("5022"));

    // Order list, history, tns, notes.
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/orders?page=1&size=2",
        None,
    )
    .await;
    xml_answer(&a, StatusCode::OK);
    snap("orders_list", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        &format!("/accounts/{{acct}}/orders/{order1}/history"),
        None,
    )
    .await;
    xml_answer(&a, StatusCode::OK);
    snap("order_history", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        &format!("/accounts/{{acct}}/orders/{order1}/tns"),
        None,
    )
    .await;
    snap("order_tns", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        &format!("/accounts/{{acct}}/orders/{order1}/notes"),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let a = call(
        &app,
        &t,
        Method::POST,
        &format!("/accounts/{{acct}}/orders/{order1}/notes"),
        Some("<Note><UserId>jbm</UserId><Description>Please hurry</Description></Note>"),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(last_segment(&a), "1");
    let a = call(
        &app,
        &t,
        Method::GET,
        &format!("/accounts/{{acct}}/orders/{order1}/notes"),
        None,
    )
    .await;
    xml_answer(&a, StatusCode::OK);
    snap("order_notes", &a.body);
    let a = call(
        &app,
        &t,
        Method::POST,
        &format!("/accounts/{{acct}}/orders/{order1}/notes"),
        Some("<Note><Description>x</Description></Note>"),
    )
    .await;
    xml_answer(&a, StatusCode::BAD_REQUEST);
    snap("note_error", &a.body);

    // Reservations.
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/tnreservation",
        Some("<Reservation><ReservedTn>2065617890</ReservedTn></Reservation>"),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert!(a.body.is_empty());
    let reservation = last_segment(&a);
    let a = call(
        &app,
        &t,
        Method::GET,
        &format!("/accounts/{{acct}}/tnreservation/{reservation}"),
        None,
    )
    .await;
    xml_answer(&a, StatusCode::OK);
    snap("reservation_get", &a.body);
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/tnreservation",
        Some("<Reservation><ReservedTn>2065617890</ReservedTn></Reservation>"),
    )
    .await;
    xml_answer(&a, StatusCode::BAD_REQUEST);
    snap("reservation_error_5041", &a.body);
    let a = call(&app, &t, Method::GET, "/tns/2065617890", None).await;
    assert_eq!(text_of(&a.body, "Status").as_deref(), Some("Reserved"));
    let with_reservation = format!(
        "<ExistingTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>2065617890</TelephoneNumber></TelephoneNumberList><ReservationIdList><ReservationId>{reservation}</ReservationId></ReservationIdList></ExistingTelephoneNumberOrderType>"
    );
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/orders",
        Some(&order_xml(&site, &with_reservation)),
    )
    .await;
    let reserved_order = last_segment(&a);
    let a = settle(&app, &t, "orders", &reserved_order).await;
    assert_eq!(
        text_of(&a.body, "OrderStatus").as_deref(),
        Some("COMPLETE"),
        "{}",
        a.body
    );
    let a = call(
        &app,
        &t,
        Method::POST,
        "/accounts/{acct}/tnreservation",
        Some("<Reservation><ReservedTn>2065999999</ReservedTn></Reservation>"),
    )
    .await;
    let second = last_segment(&a);
    let a = call(
        &app,
        &t,
        Method::DELETE,
        &format!("/accounts/{{acct}}/tnreservation/{second}"),
        None,
    )
    .await;
    xml_answer(&a, StatusCode::OK);
    snap("reservation_delete", &a.body);
    let a = call(
        &app,
        &t,
        Method::DELETE,
        &format!("/accounts/{{acct}}/tnreservation/{second}"),
        None,
    )
    .await;
    assert_eq!(text_of(&a.body, "ErrorCode").as_deref(), Some("5047"));

    // In service.
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/inserviceNumbers?page=1&size=500",
        None,
    )
    .await;
    xml_answer(&a, StatusCode::OK);
    snap("in_service", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/inserviceNumbers/totals",
        None,
    )
    .await;
    snap("in_service_totals", &a.body);
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/inserviceNumbers/2065550100",
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.is_empty());
    let a = call(
        &app,
        &t,
        Method::GET,
        "/accounts/{acct}/inserviceNumbers/2065557777",
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = call(&app, &t, Method::GET, "/tns?page=1&size=2", None).await;
    xml_answer(&a, StatusCode::OK);
    snap("tns_list", &a.body);

    // Disconnect (Node SDK spelling: lower-case <name>), then the number is Aging.
    let a = call(&app, &t, Method::POST, "/accounts/{acct}/disconnects", Some("<DisconnectTelephoneNumberOrder><name>training run</name><DisconnectTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>2065550100</TelephoneNumber></TelephoneNumberList></DisconnectTelephoneNumberOrderType></DisconnectTelephoneNumberOrder>")).await;
    xml_answer(&a, StatusCode::CREATED);
    snap("disconnect_create", &a.body);
    let disconnect = last_segment(&a);
    let a = settle(&app, &t, "disconnects", &disconnect).await;
    xml_answer(&a, StatusCode::OK);
    snap("disconnect_complete", &a.body);
    let a = call(&app, &t, Method::POST, "/accounts/{acct}/disconnects", Some("<DisconnectTelephoneNumberOrder><Name>mixed</Name><DisconnectTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>2065550101</TelephoneNumber><TelephoneNumber>2065557777</TelephoneNumber></TelephoneNumberList><DisconnectMode>purge</DisconnectMode></DisconnectTelephoneNumberOrderType></DisconnectTelephoneNumberOrder>")).await;
    let purge = last_segment(&a);
    let a = settle(&app, &t, "disconnects", &purge).await;
    snap("disconnect_partial", &a.body);
    let a = call(&app, &t, Method::GET, "/accounts/{acct}/disconnects", None).await;
    xml_answer(&a, StatusCode::OK);
    snap("disconnects_list", &a.body);
    let a = call(&app, &t, Method::GET, "/accounts/{acct}/discnumbers", None).await;
    snap("disc_numbers", &a.body);
    let a = call(&app, &t, Method::GET, "/tns/2065550100", None).await;
    xml_answer(&a, StatusCode::OK);
    snap("tn_aging", &a.body);
    let a = call(&app, &t, Method::GET, "/tns/2065550101", None).await;
    assert_eq!(
        text_of(&a.body, "Status").as_deref(),
        Some("Available"),
        "purge skips aging"
    );
    app.clock.advance(Duration::days(46));
    app.maintenance().await;
    let a = call(&app, &t, Method::GET, "/tns/2065550100", None).await;
    assert_eq!(
        text_of(&a.body, "Status").as_deref(),
        Some("Available"),
        "aging ends by itself"
    );

    // Credentials: none → 401, another account's path → 403.
    let other = app.tenant("other").await;
    let a = call(
        &app,
        &other,
        Method::GET,
        &format!("/accounts/{}/orders/{order1}", t.id),
        None,
    )
    .await;
    xml_answer(&a, StatusCode::FORBIDDEN);
    let res = app
        .client
        .get(format!("{}/api/accounts/{}/orders", app.base, t.id))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let a = call(
        &app,
        &other,
        Method::GET,
        &format!("/accounts/{{acct}}/orders/{order1}"),
        None,
    )
    .await;
    xml_answer(&a, StatusCode::NOT_FOUND);
    snap("order_not_found", &a.body);
}

#[tokio::test]
async fn bandwidth_documents_match_their_snapshots_on_sqlite() {
    flow(spawn_app().await, true).await;
}

#[tokio::test]
async fn bandwidth_flow_on_postgres() {
    let Some(app) = spawn_app_on(Backend::Postgres).await else {
        eprintln!("NUMBERSD_TEST_POSTGRES_URL not set: skipping the PostgreSQL run");
        return;
    };
    flow(app, true).await;
}

/// (endpoint, body, the envelope root the answer must use).
const CORPUS: &[(&str, &str, &str)] = &[
    (
        "/accounts/{acct}/orders",
        "<Order><SiteId>1</SiteId><ExistingTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>2065550100",
        "OrderResponse",
    ),
    (
        "/accounts/{acct}/orders",
        "<Disconnect><SiteId>1</SiteId></Disconnect>",
        "OrderResponse",
    ),
    (
        "/accounts/{acct}/orders",
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">]><Order><Name>&lol2;</Name></Order>",
        "OrderResponse",
    ),
    (
        "/accounts/{acct}/orders",
        "<Order><Name>&xxe;</Name></Order>",
        "OrderResponse",
    ),
    ("/accounts/{acct}/orders", "not xml at all", "OrderResponse"),
    (
        "/accounts/{acct}/disconnects",
        "<DisconnectTelephoneNumberOrder><name>x</name>",
        "DisconnectTelephoneNumberOrderResponse",
    ),
    (
        "/accounts/{acct}/disconnects",
        "<Order/>",
        "DisconnectTelephoneNumberOrderResponse",
    ),
    (
        "/accounts/{acct}/tnreservation",
        "<Reservation><ReservedTn>2065550100</Reserved>",
        "ReservationResponse",
    ),
    (
        "/accounts/{acct}/tnreservation",
        "<!DOCTYPE r [<!ENTITY a SYSTEM \"file:///etc/passwd\">]><Reservation><ReservedTn>&a;</ReservedTn></Reservation>",
        "ReservationResponse",
    ),
    (
        "/accounts/{acct}/sites",
        "<Site><Name>x</Name></Sitex>",
        "SiteResponse",
    ),
];

#[tokio::test]
async fn malformed_xml_is_refused_in_the_envelope_and_writes_nothing() {
    let app = spawn_app().await;
    app.import_csv(INVENTORY_CSV).await;
    let t = app.tenant("bw").await;
    let events = |app: &TestApp| {
        let req = app.get(&app.operator, "/v1/events?limit=1000");
        async move {
            req.send().await.unwrap().json::<Value>().await.unwrap()["data"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    let before = events(&app).await;
    let oversized = format!(
        "<Order><Name>{}</Name></Order>",
        "x".repeat(1024 * 1024 + 10)
    );
    let mut corpus: Vec<(&str, String, &str)> = CORPUS
        .iter()
        .map(|(p, b, r)| (*p, b.to_string(), *r))
        .collect();
    corpus.push(("/accounts/{acct}/orders", oversized, "OrderResponse"));
    for (i, (path, body, root)) in corpus.iter().enumerate() {
        let a = call(&app, &t, Method::POST, path, Some(body)).await;
        assert!(
            a.status.is_client_error(),
            "case {i}: {} {}",
            a.status,
            a.body
        );
        xml_answer(&a, a.status);
        assert!(
            a.body.contains(&format!("<{root}>")),
            "case {i}: envelope {root} in {}",
            a.body
        );
        assert!(
            !a.body.contains("lollol"),
            "case {i}: no entity was expanded"
        );
        if i == 0 {
            snapshot("malformed_order", &a.body);
        }
    }
    assert_eq!(events(&app).await, before, "nothing was written");
    let a = call(&app, &t, Method::GET, "/accounts/{acct}/orders", None).await;
    assert_eq!(text_of(&a.body, "TotalCount").as_deref(), Some("0"));
    let a = call(&app, &t, Method::GET, "/accounts/{acct}/sites", None).await;
    assert!(!a.body.contains("<Site>"));
}
