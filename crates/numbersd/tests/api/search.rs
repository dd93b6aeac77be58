//! Search with every facet over HTTP.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{INVENTORY_CSV, assert_problem, e164s, spawn_app};

#[tokio::test]
async fn search_with_every_facet() {
    let app = spawn_app().await;
    app.import_csv(INVENTORY_CSV).await;
    let t = app.tenant("searcher").await;
    let search = |q: &str| {
        let req = app.get(&t.creds, &format!("/v1/available-numbers?{q}"));
        let q = q.to_string();
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{q}");
            e164s(&res.json::<Value>().await.unwrap())
        }
    };
    let all_us = search("country=US").await;
    assert_eq!(all_us.len(), 13);
    assert!(all_us.windows(2).all(|w| w[0] < w[1]), "E.164 order");
    assert_eq!(
        search("country=AU&type=MOBILE").await,
        ["+61491570156", "+61491570157", "+61491570999"]
    );
    assert_eq!(
        search("type=TOLL_FREE").await,
        ["+18005550199", "+18775552233", "+18885554321"]
    );
    assert_eq!(
        search("capabilities=SMS,MMS").await,
        ["+12065550123", "+61491570157"]
    );
    assert_eq!(
        search("capabilities=SMS&capabilities=MMS&country=AU").await,
        ["+61491570157"]
    );
    assert_eq!(
        search("starts_with=206555").await,
        [
            "+12065550100",
            "+12065550101",
            "+12065550123",
            "+12065552233",
            "+12065557777"
        ]
    );
    assert_eq!(
        search("starts_with=%2B6149157").await,
        ["+61491570156", "+61491570157", "+61491570999"]
    );
    assert_eq!(search("starts_with=+1800").await, ["+18005550199"]);
    assert_eq!(
        search("contains=2233").await,
        ["+12065552233", "+18775552233", "+19195552233"]
    );
    assert_eq!(
        search("contains=CAFE").await,
        ["+12065552233", "+18775552233", "+19195552233"],
        "vanity letters on the keypad"
    );
    assert_eq!(search("ends_with=0999").await, ["+61491570999"]);
    assert_eq!(search("toll_free_pattern=8**").await.len(), 3);
    assert_eq!(search("toll_free_pattern=87*").await, ["+18775552233"]);
    assert_eq!(search("npa=253").await, ["+12532001234"]);
    assert_eq!(search("npa_nxx=206561").await, ["+12065617890"]);
    assert_eq!(search("npa_nxx_x=2065552").await, ["+12065552233"]);
    assert_eq!(
        search("rate_center=TACOMA&state=WA").await,
        ["+12532001234"]
    );
    assert_eq!(
        search("city=raleigh&state=nc").await,
        ["+19195550142", "+19195552233"]
    );
    assert_eq!(search("zip=98104").await, ["+12065552233", "+12065557777"]);
    assert_eq!(search("lata=426").await, ["+19195550142", "+19195552233"]);
    assert_eq!(
        search("state=NC&capabilities=VOICE").await,
        ["+19195550142"]
    );
    // 999999: six of the same; 123456: six in sequence.
    assert_eq!(
        search("classification=GOLD").await,
        ["+12065999999", "+447400123456"]
    );
    assert!(
        search("classification=SILVER&country=US")
            .await
            .iter()
            .all(|n| n.starts_with("+1"))
    );

    // Keyset pages cover everything exactly once.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/v1/available-numbers?page_size=5&page_token={t}"),
            None => "/v1/available-numbers?page_size=5".into(),
        };
        let page: Value = app
            .get(&t.creds, &path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.extend(e164s(&page));
        match page["next_page_token"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 17);
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(dedup, seen);
}

#[tokio::test]
async fn search_rejects_invalid_values_and_combinations_naming_the_field() {
    let app = spawn_app().await;
    let t = app.tenant("searcher").await;
    for (query, field) in [
        ("npa=206&npa_nxx=206555", "npa_nxx"),
        ("rate_center=SEATTLE", "state"),
        ("city=SEATTLE", "state"),
        ("country=AU&npa=206", "npa"),
        ("toll_free_pattern=8**&npa=206", "toll_free_pattern"),
        ("toll_free_pattern=9**", "toll_free_pattern"),
        ("type=LANDLINE", "type"),
        ("capabilities=PIGEON", "capabilities"),
        ("classification=PLATINUM", "classification"),
        ("starts_with=12&ends_with=34", "ends_with"),
        ("contains=12*4", "contains"),
        ("page_size=0", "page_size"),
        ("page_size=1001", "page_size"),
        ("page_token=%%%", "page_token"),
        ("zip=9810", "zip"),
        ("npa=106", "npa"),
        ("colour=red", "colour"),
        ("country=USA", "country"),
    ] {
        let res = app
            .get(&t.creds, &format!("/v1/available-numbers?{query}"))
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::BAD_REQUEST, Some(field)).await;
    }
}
