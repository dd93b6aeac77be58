//! Searches are bounded (`SearchLimits`): one that must read more than the quick budget runs
//! again in the thorough lane and is answered; one that would read more than the thorough budget
//! is refused with 400 in the door's own format — on both databases. The server here runs with
//! small limits so a few thousand numbers show it.

use numbers_core::store::SearchLimits;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{AppOptions, Backend, assert_problem, e164s, fresh_database, spawn_app_with};

/// 2,000 Seattle numbers, voice only but the last five, which also take SMS.
fn inventory() -> String {
    let mut csv = String::from("e164,type,capabilities,rate_center,state,city,lata,zip\n");
    for i in 0..2_000 {
        let caps = if i >= 1_995 { "SMS|VOICE" } else { "VOICE" };
        csv.push_str(&format!(
            "+1206555{i:04},LOCAL,{caps},SEATTLE,WA,SEATTLE,674,98101\n"
        ));
    }
    csv
}

async fn budgets_on(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let app = spawn_app_with(
        &url,
        AppOptions {
            search_limits: SearchLimits {
                quick_rows: 50,
                thorough_rows: 500,
            },
            ..AppOptions::default()
        },
    )
    .await;
    app.import_csv(&inventory()).await;
    let t = app.tenant("budget").await;
    let last_five: Vec<String> = (1_995..2_000).map(|i| format!("+1206555{i:04}")).collect();

    // 200 entries to read: more than quick, within thorough — answered.
    let res = app
        .get(
            &t.creds,
            "/v1/available-numbers?npa_nxx_x=2065551&capabilities=SMS&page_token=KzEyMDY1NTUxNzk5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{backend:?}");
    assert_eq!(e164s(&res.json::<Value>().await.unwrap()), last_five);

    // 1,995 entries before the first match: refused, saying how to narrow it.
    let res = app
        .get(&t.creds, "/v1/available-numbers?npa=206&capabilities=SMS")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, StatusCode::BAD_REQUEST, None).await;
    assert!(
        problem["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("search-too-broad")),
        "{problem}"
    );
    assert!(problem["detail"].as_str().unwrap().contains("narrow"));

    // The same search in Sinch's and MessageMedia's words, answered in their formats.
    let res = app
        .get(
            &t.creds,
            &format!(
                "/v1/projects/{}/availableNumbers?regionCode=US&type=LOCAL&capabilities=SMS&numberPattern.pattern=206&numberPattern.searchPattern=START",
                t.id
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT", "{body}");
    let res = app
        .get(
            &t.creds,
            "/v1/messaging/numbers/dedicated?country=US&service_types=SMS&exact_service_types=true",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("narrow")),
        "{body}"
    );

    // Ordinary searches are untouched.
    let res = app
        .get(&t.creds, "/v1/available-numbers?npa=206&page_size=100")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(e164s(&res.json::<Value>().await.unwrap()).len(), 100);

    // A rare contains pattern: by plain SQL it reads the whole inventory, more than the thorough
    // budget, so it is refused — but the refusal must not keep the digit index from being built:
    // once it is, the same search is answered from it. (Polled, not timed: the build runs in the
    // background.)
    let mut answered = None;
    for _ in 0..600 {
        let res = app
            .get(&t.creds, "/v1/available-numbers?contains=5551999")
            .send()
            .await
            .unwrap();
        match res.status() {
            StatusCode::OK => {
                answered = Some(res.json::<Value>().await.unwrap());
                break;
            }
            StatusCode::BAD_REQUEST => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            other => panic!("{backend:?}: contains answered {other}"),
        }
    }
    let answered = answered.expect("the digit index was never built after a refused search");
    assert_eq!(e164s(&answered), ["+12065551999"], "{backend:?}");
}

#[tokio::test]
async fn searches_are_bounded_sqlite() {
    budgets_on(Backend::Sqlite).await;
}

#[tokio::test]
async fn searches_are_bounded_postgres() {
    budgets_on(Backend::Postgres).await;
}
