//! Search while orders run (issue 7): results never contain a number that was sold before the
//! search was sent, whichever path answers it (plain SQL facets, or the digit index for contains
//! / ends-with), on both databases. No timing: the searchers snapshot the set of numbers whose
//! orders they have *seen* COMPLETE before each request, and no answer may contain one of them;
//! every returned number must also say AVAILABLE.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use numbers_core::account::Principal;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::RwLock;

use crate::helpers::{Backend, Creds, TestApp, spawn_app_on};

/// The 4-digit group and the 4-digit ending most common among `numbers` (so the contains and
/// ends-with searches have many candidates to verify).
fn busiest_groups(numbers: &[String]) -> (String, String) {
    let mut inside: BTreeMap<String, usize> = BTreeMap::new();
    let mut ending: BTreeMap<String, usize> = BTreeMap::new();
    for n in numbers {
        let digits = &n[1..];
        let mut seen = HashSet::new();
        for i in 0..=digits.len() - 4 {
            if seen.insert(&digits[i..i + 4]) {
                *inside.entry(digits[i..i + 4].to_string()).or_default() += 1;
            }
        }
        *ending
            .entry(digits[digits.len() - 4..].to_string())
            .or_default() += 1;
    }
    let top = |m: BTreeMap<String, usize>| m.into_iter().max_by_key(|(_, c)| *c).unwrap().0;
    (top(inside), top(ending))
}

async fn search(app: &TestApp, creds: &Creds, query: &str) -> Vec<Value> {
    let res = app
        .get(creds, &format!("/v1/available-numbers?{query}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    let body: Value = res.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

async fn run(app: TestApp) {
    // 3,000 generated numbers, imported in one batch (setup, not under test).
    let generated: Vec<_> = numbers_inventory::generate(3000, 7).collect();
    let all: Vec<String> = generated
        .iter()
        .map(|n| n.e164.as_str().to_string())
        .collect();
    app.service
        .import_numbers(Principal::Operator, &generated)
        .await
        .unwrap();
    let (group, ending) = busiest_groups(&all);
    let buyer = app.tenant("buyer").await;
    let watcher = app.tenant("watcher").await;

    // What the buyer sells, first the numbers the digit searches would return.
    let mut to_sell: Vec<String> = all
        .iter()
        .filter(|n| n.contains(&group) || n.ends_with(&ending))
        .cloned()
        .collect();
    to_sell.sort();
    let more: Vec<String> = all
        .iter()
        .filter(|n| n.starts_with("+1") && !to_sell.contains(n))
        .take(300)
        .cloned()
        .collect();
    to_sell.extend(more);

    let sold: Arc<RwLock<HashSet<String>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let queries = [
        format!("contains={group}&page_size=20"),
        format!("ends_with={ending}&page_size=20"),
        "country=US&page_size=100".to_string(),
        format!("contains={group}&country=US&type=LOCAL"),
    ];

    let seller = async {
        for chunk in to_sell.chunks(7) {
            let order = app
                .order(
                    &buyer.creds,
                    json!({ "numbers": chunk, "partial_allowed": true }),
                )
                .await;
            let order = app
                .settled_order(&buyer.creds, order["id"].as_str().unwrap())
                .await;
            let completed: Vec<String> = order["completed_numbers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_string())
                .collect();
            assert_eq!(completed.len(), chunk.len(), "nobody else buys: {order}");
            sold.write().await.extend(completed);
        }
        // And a criteria order, which takes whatever is on offer.
        let order = app
            .order(
                &buyer.creds,
                json!({"search": {"country": "US"}, "quantity": 100}),
            )
            .await;
        let order = app
            .settled_order(&buyer.creds, order["id"].as_str().unwrap())
            .await;
        assert_eq!(order["status"], "COMPLETE", "{order}");
        sold.write().await.extend(
            order["completed_numbers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_string()),
        );
        done.store(true, Ordering::Release);
    };

    let searcher = |offset: usize| {
        let (app, sold, done, queries, watcher) = (&app, &sold, &done, &queries, &watcher);
        async move {
            let mut rounds = 0usize;
            let mut returned = 0usize;
            // Always at least a few rounds after the seller finished, so the last sales count.
            let mut after_done = 0;
            while after_done < 2 {
                if done.load(Ordering::Acquire) {
                    after_done += 1;
                }
                for q in queries.iter().cycle().skip(offset).take(queries.len()) {
                    let before: HashSet<String> = sold.read().await.clone();
                    for n in search(app, &watcher.creds, q).await {
                        let e164 = n["e164"].as_str().unwrap();
                        assert!(
                            !before.contains(e164),
                            "{q} returned {e164}, sold before the search was sent"
                        );
                        assert_eq!(n["state"], "AVAILABLE", "{q}: {n}");
                        returned += 1;
                    }
                    rounds += 1;
                }
            }
            (rounds, returned)
        }
    };

    let ((), (rounds_a, returned_a), (rounds_b, _)) =
        tokio::join!(seller, searcher(0), searcher(2));
    assert!(rounds_a > 0 && rounds_b > 0 && returned_a > 0);

    // Once every sale is known, the digit searches find none of the sold numbers, and what they
    // find is exactly what the reference semantics say is left.
    let sold = sold.read().await.clone();
    let mut left: Vec<&String> = all
        .iter()
        .filter(|n| n.contains(&group) && !sold.contains(*n))
        .collect();
    left.sort();
    let found = search(
        &app,
        &watcher.creds,
        &format!("contains={group}&page_size=1000"),
    )
    .await;
    let found: Vec<&str> = found.iter().map(|n| n["e164"].as_str().unwrap()).collect();
    assert_eq!(found, left.iter().map(|s| s.as_str()).collect::<Vec<_>>());
}

#[tokio::test]
async fn searches_never_return_a_sold_number_sqlite() {
    run(spawn_app_on(Backend::Sqlite).await.unwrap()).await;
}

#[tokio::test]
async fn searches_never_return_a_sold_number_postgres() {
    let Some(app) = spawn_app_on(Backend::Postgres).await else {
        eprintln!("NUMBERSD_TEST_POSTGRES_URL not set: skipped");
        return;
    };
    run(app).await;
}
