//! The order phase: single-number orders by many clients, each polled to its final status (on
//! one server, then on every server the bench started, so `--servers 2` shows whether a second
//! process over the same database adds throughput); one 5,000-number criteria order; and a race
//! of 1,000 orders from 20 accounts over 50 numbers, spread over every server, counting numbers
//! sold more than once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::load::{Creds, Http};

/// Waits until the order is no longer RECEIVED/PROCESSING; answers its final document.
async fn settle(
    http: &Http,
    server: usize,
    creds: &Creds,
    id: &str,
    poll: Duration,
) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let path = format!("/v1/orders/{id}");
        let res = http.get_on(server, creds, &path).send().await?;
        let answered = res.status();
        let order: Value = res.json().await?;
        if answered != StatusCode::OK {
            bail!("GET {path} answered {answered}: {order}");
        }
        let status = order["status"].as_str().unwrap_or_default();
        if !matches!(status, "RECEIVED" | "PROCESSING") {
            return Ok(order);
        }
        if Instant::now() > deadline {
            bail!("order {id} still {status} after 120 s");
        }
        tokio::time::sleep(poll).await;
    }
}

async fn submit(http: &Http, server: usize, creds: &Creds, body: &Value) -> anyhow::Result<String> {
    let res = http
        .post_on(server, creds, "/v1/orders", body)
        .send()
        .await?;
    let status = res.status();
    let doc: Value = res.json().await?;
    if status != StatusCode::ACCEPTED {
        bail!("POST /v1/orders answered {status}: {doc}");
    }
    doc["id"]
        .as_str()
        .map(str::to_string)
        .context("order without id")
}

/// Available numbers matching `query`, up to `want`, following page tokens.
async fn collect_numbers(
    http: &Http,
    creds: &Creds,
    query: &str,
    want: usize,
) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut path = format!("/v1/available-numbers?{query}&page_size=1000");
    while out.len() < want {
        let page = http.get_json(creds, &path).await?;
        if let Some(items) = page["data"].as_array() {
            out.extend(
                items
                    .iter()
                    .filter_map(|n| n["e164"].as_str().map(str::to_string)),
            );
        }
        match page["next_page_token"].as_str() {
            Some(token) => {
                path = format!("/v1/available-numbers?{query}&page_size=1000&page_token={token}")
            }
            None => break,
        }
    }
    out.truncate(want);
    Ok(out)
}

pub struct OrderPhase {
    /// Orders/s with one server, then with every server (equal when only one was started).
    pub orders_per_s_one_server: f64,
    pub orders_per_s: f64,
    pub single_orders: usize,
    pub single_failed: usize,
    pub bulk_5000_ms: f64,
    pub bulk_completed: u64,
    pub race_double_sales: u64,
    pub race_sold: u64,
}

/// Single orders: what `single_orders` measured on some servers.
struct Singles {
    complete: usize,
    failed: usize,
    per_s: f64,
}

/// `connections` clients order one number each, back to back, for `duration`, each order polled
/// to its final status on the server that took it; client `c` talks to server `c % servers`.
async fn single_orders(
    http: &Arc<Http>,
    buyer: &Creds,
    pool: &Arc<Vec<String>>,
    next: &Arc<AtomicUsize>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Singles> {
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..connections {
        let (http, creds, pool, next, failed) = (
            http.clone(),
            buyer.clone(),
            pool.clone(),
            next.clone(),
            failed.clone(),
        );
        tasks.spawn(async move {
            let mut done = 0usize;
            while Instant::now() < until {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(number) = pool.get(i) else { break };
                let body = json!({ "numbers": [number] });
                let id = submit(&http, client, &creds, &body).await?;
                let order = settle(&http, client, &creds, &id, Duration::from_millis(2)).await?;
                if order["status"] == "COMPLETE" {
                    done += 1;
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(done)
        });
    }
    let mut complete = 0;
    while let Some(joined) = tasks.join_next().await {
        complete += joined.context("order task")??;
    }
    Ok(Singles {
        complete,
        failed: failed.load(Ordering::Relaxed),
        per_s: complete as f64 / started.elapsed().as_secs_f64().max(1e-9),
    })
}

/// Single-number orders on one server, then on all of them; one 5,000-number criteria order;
/// 1,000 orders from 20 accounts racing for 50 numbers over every server, counting numbers sold
/// more than once.
pub async fn order_phase(
    http: &Arc<Http>,
    tenants: &[Creds],
    connections: usize,
    duration: Duration,
) -> anyhow::Result<OrderPhase> {
    let buyer = tenants.first().context("no tenant")?.clone();
    // Enough distinct numbers for 4,000 orders/s in each pass; GB numbers are left for the race.
    let want = (8000.0 * duration.as_secs_f64()) as usize;
    let pool = Arc::new(collect_numbers(http, &buyer, "country=US&type=LOCAL", want).await?);
    let next = Arc::new(AtomicUsize::new(0));
    let one = Arc::new(http.first(1));
    let on_one = single_orders(&one, &buyer, &pool, &next, connections, duration).await?;
    let on_all = if http.bases.len() > 1 {
        single_orders(http, &buyer, &pool, &next, connections, duration).await?
    } else {
        // One server: the same figure, and no orders of its own.
        Singles {
            complete: 0,
            failed: 0,
            per_s: on_one.per_s,
        }
    };

    // One criteria order for 5,000 numbers, timed from submission to COMPLETE.
    let bulk_started = Instant::now();
    let id = submit(
        http,
        0,
        &buyer,
        &json!({"search": {"country": "US"}, "quantity": 5000}),
    )
    .await?;
    let bulk = settle(http, 0, &buyer, &id, Duration::from_millis(5)).await?;
    let bulk_5000_ms = bulk_started.elapsed().as_secs_f64() * 1000.0;
    if bulk["status"] != "COMPLETE" {
        bail!("the 5,000-number order ended {}", bulk["status"]);
    }

    // The race: 50 numbers, 20 accounts each ordering every one of them, all at once, each
    // account's orders spread over the servers.
    let targets = collect_numbers(http, &buyer, "country=GB", 50).await?;
    let mut racers = tokio::task::JoinSet::new();
    for (slot, creds) in tenants.iter().skip(1).take(20).enumerate() {
        for (i, number) in targets.iter().enumerate() {
            let (http, creds, number) = (http.clone(), creds.clone(), number.clone());
            racers.spawn(async move {
                // Spread the submissions so every number is contended by several accounts at once.
                tokio::time::sleep(Duration::from_micros(((slot + i) % 7) as u64 * 100)).await;
                let server = slot + i;
                let body = json!({ "numbers": [number] });
                let id = submit(&http, server, &creds, &body).await?;
                // 1,000 clients polling every few ms would be a load of their own (on
                // PostgreSQL it starved fulfilment to ~2 orders/s); a client polls at 50 ms.
                let order = settle(&http, server, &creds, &id, Duration::from_millis(50)).await?;
                anyhow::Ok((number, order["status"] == "COMPLETE"))
            });
        }
    }
    let mut sold: HashMap<String, u64> = HashMap::new();
    while let Some(joined) = racers.join_next().await {
        let (number, complete) = joined.context("race task")??;
        if complete {
            *sold.entry(number).or_default() += 1;
        }
    }
    let race_double_sales = sold.values().map(|n| n.saturating_sub(1)).sum();
    Ok(OrderPhase {
        orders_per_s_one_server: on_one.per_s,
        orders_per_s: on_all.per_s,
        single_orders: on_one.complete + on_all.complete,
        single_failed: on_one.failed + on_all.failed,
        bulk_5000_ms,
        bulk_completed: bulk["completed_quantity"].as_u64().unwrap_or(0),
        race_double_sales,
        race_sold: sold.len() as u64,
    })
}
