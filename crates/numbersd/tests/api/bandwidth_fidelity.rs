//! Bandwidth fidelity, second pass (issue 14): what a client migrating from the real service
//! meets — local-vanity orders, order quantities, the default site and peer of a new account,
//! the status document's details — each on SQLite and on PostgreSQL over real HTTP.

use reqwest::{Method, StatusCode};

use crate::bandwidth::{call, order_xml, settle, setup, text_of, xml_answer};
use crate::helpers::{Backend, TestApp, spawn_app_on};

/// Runs `case` on a fresh SQLite server, then on PostgreSQL when it is configured.
async fn on_both<F, Fut>(case: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for backend in [Backend::Sqlite, Backend::Postgres] {
        match spawn_app_on(backend).await {
            Some(app) => case(app).await,
            None => eprintln!("NUMBERSD_TEST_POSTGRES_URL not set: skipping the PostgreSQL run"),
        }
    }
}

/// Every `<FullNumber>` (or `<TelephoneNumber>`) of a document.
fn all_of(body: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}>");
    body.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split(&format!("</{tag}>")).next())
        .map(str::to_string)
        .collect()
}

async fn order(app: &TestApp, t: &crate::helpers::Tenant, body: &str) -> crate::bandwidth::Answer {
    call(app, t, Method::POST, "/accounts/{acct}/orders", Some(body)).await
}

#[tokio::test]
async fn bandwidth_local_vanity_orders_fill_only_with_matching_numbers() {
    on_both(|app| async move {
        let (t, site, _) = setup(&app).await;
        // CAFE is 2233 on the keypad: 206-555-2233 ends in it; 919-555-2233 is another area code.
        let a = order(
            &app,
            &t,
            &order_xml(
                &site,
                "<CombinedSearchAndOrderType><AreaCode>206</AreaCode><LocalVanity>CAFE</LocalVanity><EndsIn>true</EndsIn><Quantity>5</Quantity></CombinedSearchAndOrderType>",
            ),
        )
        .await;
        xml_answer(&a, StatusCode::CREATED);
        let id = text_of(&a.body, "id").unwrap();
        let done = settle(&app, &t, "orders", &id).await;
        let won = all_of(&done.body, "FullNumber");
        assert!(!won.is_empty(), "{}", done.body);
        for n in &won {
            assert!(n.starts_with("206") && n.ends_with("2233"), "{n} does not match: {}", done.body);
        }
        assert_eq!(text_of(&done.body, "OrderStatus").unwrap(), "PARTIAL");

        // Without EndsIn the vanity may be anywhere, still only in the area code asked for.
        let a = order(
            &app,
            &t,
            &order_xml(
                &site,
                "<CombinedSearchAndOrderType><AreaCode>206</AreaCode><LocalVanity>5550</LocalVanity><Quantity>10</Quantity></CombinedSearchAndOrderType>",
            ),
        )
        .await;
        xml_answer(&a, StatusCode::CREATED);
        let done = settle(&app, &t, "orders", &text_of(&a.body, "id").unwrap()).await;
        let won = all_of(&done.body, "FullNumber");
        assert!(!won.is_empty(), "{}", done.body);
        for n in &won {
            assert!(n.starts_with("206") && n.contains("5550"), "{n}: {}", done.body);
        }

        // Where Bandwidth does not allow a local vanity, it is refused, not ignored.
        for (body, why) in [
            (
                "<AreaCodeSearchAndOrderType><AreaCode>206</AreaCode><LocalVanity>2052</LocalVanity><EndsIn>true</EndsIn><Quantity>1</Quantity></AreaCodeSearchAndOrderType>",
                "in AreaCodeSearchAndOrderType",
            ),
            (
                "<StateSearchAndOrderType><State>WA</State><LocalVanity>2052</LocalVanity><Quantity>1</Quantity></StateSearchAndOrderType>",
                "in StateSearchAndOrderType",
            ),
            (
                "<CombinedSearchAndOrderType><State>WA</State><LocalVanity>2052</LocalVanity><Quantity>1</Quantity></CombinedSearchAndOrderType>",
                "without AreaCode",
            ),
            (
                "<CombinedSearchAndOrderType><AreaCode>206</AreaCode><City>SEATTLE</City><State>WA</State><LocalVanity>2052</LocalVanity><Quantity>1</Quantity></CombinedSearchAndOrderType>",
                "combined with other criteria",
            ),
        ] {
            let a = order(&app, &t, &order_xml(&site, body)).await;
            xml_answer(&a, StatusCode::BAD_REQUEST);
            assert_eq!(text_of(&a.body, "Code").as_deref(), Some("4010"), "{why}: {}", a.body);
        }
        // Nothing was ordered by the refused ones: 2065552233 and the 5550 numbers are all.
        let a = call(&app, &t, Method::GET, "/accounts/{acct}/orders", None).await;
        assert_eq!(text_of(&a.body, "TotalCount").as_deref(), Some("2"), "{}", a.body);
    })
    .await;
}

/// `(CompletedQuantity, FailedQuantity, PendingQuantity)` of a status document.
fn quantities(body: &str) -> (u32, u32, u32) {
    let q = |tag| text_of(body, tag).unwrap().parse::<u32>().unwrap();
    (
        q("CompletedQuantity"),
        q("FailedQuantity"),
        q("PendingQuantity"),
    )
}

#[tokio::test]
async fn bandwidth_failed_quantity_counts_numbers() {
    on_both(|app| async move {
        let (t, site, _) = setup(&app).await;
        // WA has 7 orderable numbers in the fixture (one of them protected, still orderable).
        let cases = [
            ("<StateSearchAndOrderType><State>WA</State><Quantity>20</Quantity></StateSearchAndOrderType>", "true", 20, "PARTIAL"),
            ("<StateSearchAndOrderType><State>NC</State><Quantity>5</Quantity></StateSearchAndOrderType>", "false", 5, "FAILED"),
            (
                "<ExistingTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>9195550142</TelephoneNumber><TelephoneNumber>2065550100</TelephoneNumber><TelephoneNumber>9195552233</TelephoneNumber></TelephoneNumberList></ExistingTelephoneNumberOrderType>",
                "true",
                3,
                "PARTIAL",
            ),
        ];
        for (order_type, partial, quantity, status) in cases {
            let body = format!(
                "<Order><SiteId>{site}</SiteId><PartialAllowed>{partial}</PartialAllowed>{order_type}</Order>"
            );
            let a = order(&app, &t, &body).await;
            xml_answer(&a, StatusCode::CREATED);
            let done = settle(&app, &t, "orders", &text_of(&a.body, "id").unwrap()).await;
            assert_eq!(text_of(&done.body, "OrderStatus").unwrap(), status, "{}", done.body);
            let (completed, failed, pending) = quantities(&done.body);
            assert_eq!(completed + failed + pending, quantity, "{}", done.body);
            assert!(failed > 0, "{}", done.body);
        }

        // A backorder: what it has not won yet is pending, not failed.
        let body = format!(
            "<Order><SiteId>{site}</SiteId><BackOrderRequested>true</BackOrderRequested><CitySearchAndOrderType><City>TACOMA</City><State>WA</State><Quantity>3</Quantity></CitySearchAndOrderType></Order>"
        );
        let a = order(&app, &t, &body).await;
        xml_answer(&a, StatusCode::CREATED);
        let done = settle(&app, &t, "orders", &text_of(&a.body, "id").unwrap()).await;
        assert_eq!(text_of(&done.body, "OrderStatus").unwrap(), "BACKORDERED", "{}", done.body);
        // (The WA order above took Tacoma's only number, so nothing is won yet.)
        assert_eq!(quantities(&done.body), (0, 0, 3), "{}", done.body);
    })
    .await;
}

/// The Bandwidth guide's "Search AND Order 1 Number in Area Code" example, verbatim.
const GUIDE_ORDER: &str = "<Order>
<AreaCodeSearchAndOrderType>
<AreaCode>910</AreaCode>
<Quantity>1</Quantity>
</AreaCodeSearchAndOrderType>
<SiteId>461</SiteId>
</Order>";

/// `numbersd account create --json` on the database `url`, as an operator would run it.
fn cli_account(url: &str) -> serde_json::Value {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_numbersd"))
            .args(args)
            .args(["--database-url", url])
            .env("NUMBERSD_LOG", "warn")
            .env("NUMBERSD_SECRET_KEY", crate::helpers::TEST_SECRET_KEY)
            .output()
            .expect("run numbersd");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["migrate"]);
    serde_json::from_str(run(&["account", "create", "--name", "Guide", "--json"]).trim()).unwrap()
}

#[tokio::test]
async fn bandwidth_guide_example_order_completes_with_the_default_site() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(url) = crate::helpers::fresh_database(backend).await else {
            eprintln!("NUMBERSD_TEST_POSTGRES_URL not set: skipping the PostgreSQL run");
            continue;
        };
        let created = cli_account(&url);
        let site = created["bandwidth_site_id"]
            .as_i64()
            .expect("bandwidth_site_id");
        let peer = created["bandwidth_peer_id"]
            .as_i64()
            .expect("bandwidth_peer_id");
        let app = crate::helpers::spawn_app_with(&url, Default::default()).await;
        app.import_csv(&format!(
            "{}+19105550100,LOCAL,SMS|VOICE,,FAYETTEVILLE,NC,FAYETTEVILLE,426,28301,0,12,Carolina Tel,0.00,1.00,USD,false\n",
            crate::helpers::INVENTORY_CSV
        ))
        .await;
        let t = crate::helpers::Tenant {
            id: created["account_id"].as_str().unwrap().to_string(),
            creds: crate::helpers::Creds {
                key_id: created["key_id"].as_str().unwrap().to_string(),
                secret: created["secret"].as_str().unwrap().to_string(),
            },
        };
        let body = GUIDE_ORDER.replace("<SiteId>461</SiteId>", &format!("<SiteId>{site}</SiteId>"));
        let a = order(&app, &t, &body).await;
        xml_answer(&a, StatusCode::CREATED);
        let done = settle(&app, &t, "orders", &text_of(&a.body, "id").unwrap()).await;
        assert_eq!(
            text_of(&done.body, "OrderStatus").unwrap(),
            "COMPLETE",
            "{}",
            done.body
        );
        assert_eq!(text_of(&done.body, "FullNumber").unwrap(), "9105550100");
        assert_eq!(text_of(&done.body, "PeerId").unwrap(), peer.to_string());
        // The site and its default peer are ordinary Bandwidth resources of the account.
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
            "{}",
            a.body
        );
    }
}

/// Orders `tn`, disconnects it (normal mode) and returns its `/tns/{tn}` status after `days`.
async fn status_after_disconnect(app: &TestApp, tn: &str, days: &[i64]) -> Vec<String> {
    let (t, site, _) = setup(app).await;
    let a = order(
        app,
        &t,
        &order_xml(&site, &crate::bandwidth::existing(&[tn])),
    )
    .await;
    xml_answer(&a, StatusCode::CREATED);
    let done = settle(app, &t, "orders", &text_of(&a.body, "id").unwrap()).await;
    assert_eq!(
        text_of(&done.body, "OrderStatus").unwrap(),
        "COMPLETE",
        "{}",
        done.body
    );
    let a = call(app, &t, Method::POST, "/accounts/{acct}/disconnects", Some(&format!("<DisconnectTelephoneNumberOrder><DisconnectTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>{tn}</TelephoneNumber></TelephoneNumberList></DisconnectTelephoneNumberOrderType></DisconnectTelephoneNumberOrder>"))).await;
    xml_answer(&a, StatusCode::CREATED);
    let done = settle(app, &t, "disconnects", &crate::bandwidth::last_segment(&a)).await;
    assert_eq!(
        text_of(&done.body, "OrderStatus").unwrap(),
        "COMPLETE",
        "{}",
        done.body
    );
    let mut seen = Vec::new();
    let mut elapsed = 0;
    for &day in days {
        app.clock.advance(chrono::Duration::days(day - elapsed));
        elapsed = day;
        app.maintenance().await;
        let a = call(app, &t, Method::GET, &format!("/tns/{tn}"), None).await;
        seen.push(text_of(&a.body, "Status").unwrap_or_default());
    }
    seen
}

#[tokio::test]
async fn bandwidth_disconnect_aging_defaults_to_30_days_and_is_configurable() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_on(backend).await else {
            eprintln!("NUMBERSD_TEST_POSTGRES_URL not set: skipping the PostgreSQL run");
            continue;
        };
        assert_eq!(
            status_after_disconnect(&app, "2065550100", &[29, 31]).await,
            ["Aging", "Available"]
        );
        let mut options = crate::helpers::AppOptions::default();
        options.config.disconnect_aging = numbers_core::service::AgingPolicy {
            default_days: 90,
            rules: vec![numbers_core::service::AgingRule {
                country: Some("US".into()),
                number_type: Some(numbers_core::number::NumberType::Local),
                days: 10,
            }],
        };
        let url = crate::helpers::fresh_database(backend).await.unwrap();
        let app = crate::helpers::spawn_app_with(&url, options).await;
        assert_eq!(
            status_after_disconnect(&app, "2065550100", &[9, 11]).await,
            ["Aging", "Available"]
        );
    }
}

#[tokio::test]
async fn bandwidth_orders_without_name_are_accepted() {
    on_both(|app| async move {
        let (t, site, _) = setup(&app).await;
        for (body, echoed) in [
            (format!("<Order><SiteId>{site}</SiteId><StateSearchAndOrderType><State>NC</State><Quantity>1</Quantity></StateSearchAndOrderType></Order>"), None),
            (format!("<Order><Name>Area Code Order</Name><SiteId>{site}</SiteId><StateSearchAndOrderType><State>NC</State><Quantity>1</Quantity></StateSearchAndOrderType></Order>"), Some("Area Code Order")),
        ] {
            let a = order(&app, &t, &body).await;
            xml_answer(&a, StatusCode::CREATED);
            assert_eq!(text_of(&a.body, "Name").as_deref(), echoed, "{}", a.body);
            let done = settle(&app, &t, "orders", &text_of(&a.body, "id").unwrap()).await;
            assert_eq!(text_of(&done.body, "OrderStatus").unwrap(), "COMPLETE", "{}", done.body);
            assert_eq!(text_of(&done.body, "Name").as_deref(), echoed, "{}", done.body);
        }
    })
    .await;
}

#[tokio::test]
async fn bandwidth_duplicate_subscriptions_are_refused_with_16008() {
    on_both(|app| async move {
        let (t, _, _) = setup(&app).await;
        let body = |url: &str| {
            format!("<Subscription><OrderType>orders</OrderType><CallbackSubscription><URL>{url}</URL><Expiry>3600</Expiry></CallbackSubscription></Subscription>")
        };
        let post = |b: String| {
            let (app, t) = (&app, &t);
            async move { call(app, t, Method::POST, "/accounts/{acct}/subscriptions", Some(&b)).await }
        };
        let a = post(body("http://127.0.0.1:9/hook")).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        let a = post(body("http://127.0.0.1:9/hook")).await;
        xml_answer(&a, StatusCode::BAD_REQUEST);
        assert_eq!(text_of(&a.body, "ErrorCode").as_deref(), Some("16008"), "{}", a.body);
        // Another URL, or another order type, is another subscription.
        let a = post(body("http://127.0.0.1:9/other")).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        let a = post(body("http://127.0.0.1:9/hook").replace(">orders<", ">disconnects<")).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
        let a = call(&app, &t, Method::GET, "/accounts/{acct}/subscriptions", None).await;
        assert_eq!(all_of(&a.body, "SubscriptionId").len(), 3, "{}", a.body);
    })
    .await;
}

#[tokio::test]
async fn bandwidth_order_area_codes_npa_nxx_and_totals() {
    on_both(|app| async move {
        let (t, site, _) = setup(&app).await;
        let numbers = ["2065550100", "2065550101", "2065617890", "9195550142"];
        let a = order(
            &app,
            &t,
            &order_xml(&site, &crate::bandwidth::existing(&numbers)),
        )
        .await;
        xml_answer(&a, StatusCode::CREATED);
        let id = text_of(&a.body, "id").unwrap();
        settle(&app, &t, "orders", &id).await;
        let get = |what: &'static str| {
            let (app, t, id) = (&app, &t, id.clone());
            async move {
                let a = call(
                    app,
                    t,
                    Method::GET,
                    &format!("/accounts/{{acct}}/orders/{id}/{what}"),
                    None,
                )
                .await;
                xml_answer(&a, StatusCode::OK);
                a.body
            }
        };
        let body = get("areaCodes").await;
        assert_eq!(all_of(&body, "AreaCode"), ["206", "919"], "{body}");
        assert_eq!(all_of(&body, "Count"), ["3", "1"], "{body}");
        let body = get("npaNxx").await;
        assert_eq!(
            all_of(&body, "NPA-NXX"),
            ["206555", "206561", "919555"],
            "{body}"
        );
        assert_eq!(all_of(&body, "Count"), ["2", "1", "1"], "{body}");
        let body = get("totals").await;
        assert_eq!(all_of(&body, "Count"), ["4"], "{body}");
        assert!(body.contains("<TelephoneDetailsReports>"), "{body}");
        let a = call(
            &app,
            &t,
            Method::GET,
            "/accounts/{acct}/orders/00000000-0000-0000-0000-000000000000/totals",
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    })
    .await;
}

#[tokio::test]
async fn bandwidth_tn_sites_sippeers_ratecenter_and_lata() {
    on_both(|app| async move {
        let (t, site, peer) = setup(&app).await;
        let a = order(
            &app,
            &t,
            &order_xml(&site, &crate::bandwidth::existing(&["9195550142"])),
        )
        .await;
        xml_answer(&a, StatusCode::CREATED);
        settle(&app, &t, "orders", &text_of(&a.body, "id").unwrap()).await;
        let get = |path: String| {
            let (app, t) = (&app, &t);
            async move { call(app, t, Method::GET, &path, None).await }
        };
        let a = get("/tns/9195550142/sites".into()).await;
        xml_answer(&a, StatusCode::OK);
        assert_eq!(text_of(&a.body, "Id"), Some(site.clone()), "{}", a.body);
        assert_eq!(
            text_of(&a.body, "Name").as_deref(),
            Some("Raleigh"),
            "{}",
            a.body
        );
        let a = get("/tns/9195550142/sippeers".into()).await;
        xml_answer(&a, StatusCode::OK);
        assert_eq!(text_of(&a.body, "Id"), Some(peer.clone()), "{}", a.body);
        assert_eq!(
            text_of(&a.body, "Name").as_deref(),
            Some("pbx"),
            "{}",
            a.body
        );
        let a = get("/tns/9195550142/ratecenter".into()).await;
        xml_answer(&a, StatusCode::OK);
        assert_eq!(
            text_of(&a.body, "RateCenter").as_deref(),
            Some("RALEIGH"),
            "{}",
            a.body
        );
        assert_eq!(
            text_of(&a.body, "State").as_deref(),
            Some("NC"),
            "{}",
            a.body
        );
        let a = get("/tns/9195550142/lata".into()).await;
        xml_answer(&a, StatusCode::OK);
        assert_eq!(
            text_of(&a.body, "Lata").as_deref(),
            Some("426"),
            "{}",
            a.body
        );
        // An available TN has a rate center but no site; an unknown TN is 404 4017.
        let a = get("/tns/2065550100/ratecenter".into()).await;
        assert_eq!(
            text_of(&a.body, "RateCenter").as_deref(),
            Some("SEATTLE"),
            "{}",
            a.body
        );
        let a = get("/tns/2065550100/sites".into()).await;
        xml_answer(&a, StatusCode::NOT_FOUND);
        assert_eq!(
            text_of(&a.body, "ErrorCode").as_deref(),
            Some("4017"),
            "{}",
            a.body
        );
        let a = get("/tns/3035550100/lata".into()).await;
        xml_answer(&a, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn bandwidth_sip_peer_tns() {
    on_both(|app| async move {
        let (t, site, peer) = setup(&app).await;
        // A second peer of the site; one number ordered onto each.
        let a = call(
            &app,
            &t,
            Method::POST,
            &format!("/accounts/{{acct}}/sites/{site}/sippeers"),
            Some("<SipPeer><PeerName>other</PeerName></SipPeer>"),
        )
        .await;
        xml_answer(&a, StatusCode::CREATED);
        let other = crate::bandwidth::last_segment(&a);
        for (tn, on) in [
            ("9195550142", &peer),
            ("2065550100", &other),
            ("2065550101", &peer),
        ] {
            let body = format!(
                "<Order><SiteId>{site}</SiteId><PeerId>{on}</PeerId>{}</Order>",
                crate::bandwidth::existing(&[tn])
            );
            let a = order(&app, &t, &body).await;
            xml_answer(&a, StatusCode::CREATED);
            settle(&app, &t, "orders", &text_of(&a.body, "id").unwrap()).await;
        }
        let tns = |p: String| {
            let (app, t, site) = (&app, &t, site.clone());
            async move {
                let a = call(
                    app,
                    t,
                    Method::GET,
                    &format!("/accounts/{{acct}}/sites/{site}/sippeers/{p}/tns?page=1&size=5000"),
                    None,
                )
                .await;
                xml_answer(&a, StatusCode::OK);
                all_of(&a.body, "FullNumber")
            }
        };
        assert_eq!(tns(peer.clone()).await, ["2065550101", "9195550142"]);
        assert_eq!(tns(other.clone()).await, ["2065550100"]);
        let a = call(
            &app,
            &t,
            Method::GET,
            &format!("/accounts/{{acct}}/sites/{site}/sippeers/999999/tns"),
            None,
        )
        .await;
        xml_answer(&a, StatusCode::NOT_FOUND);
        assert_eq!(
            text_of(&a.body, "ErrorCode").as_deref(),
            Some("13500"),
            "{}",
            a.body
        );
    })
    .await;
}

#[tokio::test]
async fn bandwidth_sip_peer_movetns() {
    on_both(|app| async move {
        let (t, site, peer) = setup(&app).await;
        let a = call(&app, &t, Method::POST, &format!("/accounts/{{acct}}/sites/{site}/sippeers"), Some("<SipPeer><PeerName>other</PeerName></SipPeer>")).await;
        let other = crate::bandwidth::last_segment(&a);
        let a = order(&app, &t, &order_xml(&site, &crate::bandwidth::existing(&["9195550142", "2065550100"]))).await;
        settle(&app, &t, "orders", &text_of(&a.body, "id").unwrap()).await;
        let path = format!("/accounts/{{acct}}/sites/{site}/sippeers/{other}/movetns");
        let a = call(&app, &t, Method::POST, &path, Some("<SipPeerTelephoneNumbers><FullNumber>9195550142</FullNumber></SipPeerTelephoneNumbers>")).await;
        xml_answer(&a, StatusCode::OK);
        assert_eq!(all_of(&a.body, "FullNumber"), ["9195550142"], "{}", a.body);
        let a = call(&app, &t, Method::GET, "/tns/9195550142/sippeers", None).await;
        assert_eq!(text_of(&a.body, "Id"), Some(other.clone()), "{}", a.body);
        let a = call(&app, &t, Method::GET, "/tns/2065550100/sippeers", None).await;
        assert_eq!(text_of(&a.body, "Id"), Some(peer.clone()), "not moved: {}", a.body);
        // A TN not in service with the account moves nothing.
        let a = call(&app, &t, Method::POST, &path, Some("<SipPeerTelephoneNumbers><FullNumber>2065550100</FullNumber><FullNumber>2532001234</FullNumber></SipPeerTelephoneNumbers>")).await;
        xml_answer(&a, StatusCode::BAD_REQUEST);
        assert_eq!(text_of(&a.body, "ErrorCode").as_deref(), Some("5076"), "{}", a.body);
        let a = call(&app, &t, Method::GET, "/tns/2065550100/sippeers", None).await;
        assert_eq!(text_of(&a.body, "Id"), Some(peer.clone()), "{}", a.body);
    })
    .await;
}

#[tokio::test]
async fn bandwidth_available_npa_nxx() {
    on_both(|app| async move {
        let (t, _, _) = setup(&app).await;
        let a = call(
            &app,
            &t,
            Method::GET,
            "/accounts/{acct}/availableNpaNxx?areaCode=206",
            None,
        )
        .await;
        xml_answer(&a, StatusCode::OK);
        // 206-555: 0100, 0101, 0123, 2233, 7777; 206-561: 7890; 206-599: 9999.
        assert_eq!(all_of(&a.body, "Nxx"), ["555", "561", "599"], "{}", a.body);
        assert_eq!(all_of(&a.body, "Quantity"), ["5", "1", "1"], "{}", a.body);
        assert_eq!(all_of(&a.body, "City"), ["SEATTLE"; 3], "{}", a.body);
        let a = call(
            &app,
            &t,
            Method::GET,
            "/accounts/{acct}/availableNpaNxx?state=WA&quantity=2",
            None,
        )
        .await;
        xml_answer(&a, StatusCode::OK);
        assert_eq!(all_of(&a.body, "Npa"), ["206", "206"], "{}", a.body);
        let a = call(
            &app,
            &t,
            Method::GET,
            "/accounts/{acct}/availableNpaNxx",
            None,
        )
        .await;
        xml_answer(&a, StatusCode::BAD_REQUEST);
        assert_eq!(
            text_of(&a.body, "Code").as_deref(),
            Some("4010"),
            "{}",
            a.body
        );
        let a = call(
            &app,
            &t,
            Method::GET,
            "/accounts/{acct}/availableNpaNxx?areaCode=20",
            None,
        )
        .await;
        xml_answer(&a, StatusCode::BAD_REQUEST);
        assert_eq!(
            text_of(&a.body, "Code").as_deref(),
            Some("4000"),
            "{}",
            a.body
        );
    })
    .await;
}
