//! Single-number order throughput against running `numbersd serve` processes, with a catch-up
//! reader of `/v1/events` alongside (the measurement issue 15 item 6 asks for, kept apart from
//! `numbersd bench`). Each client orders one available number at a time and polls the order
//! until it is final, like the bench's order phase; the clients are spread over the servers
//! given. Meanwhile an operator polls `/v1/events?after=SEQ` as a webhook consumer would; at the
//! end its log must equal a fresh listing of the whole log (nothing missed, nothing twice, in
//! `seq` order), and no number may have been sold twice.
//!
//! ```text
//! cargo run --release -p numbersd --example order_load -- \
//!     --servers http://127.0.0.1:18431,http://127.0.0.1:18432 \
//!     --tenant KEY_ID:SECRET --operator KEY_ID:SECRET --clients 64 --seconds 10
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

struct Args {
    servers: Vec<String>,
    tenant: (String, String),
    operator: (String, String),
    clients: usize,
    seconds: f64,
}

fn credentials(s: &str) -> anyhow::Result<(String, String)> {
    let (id, secret) = s.split_once(':').context("credentials are KEY_ID:SECRET")?;
    Ok((id.to_string(), secret.to_string()))
}

fn args() -> anyhow::Result<Args> {
    let mut it = std::env::args().skip(1);
    let (mut servers, mut tenant, mut operator) = (None, None, None);
    let (mut clients, mut seconds) = (64, 10.0);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--servers" => servers = Some(value.split(',').map(str::to_string).collect()),
            "--tenant" => tenant = Some(credentials(&value)?),
            "--operator" => operator = Some(credentials(&value)?),
            "--clients" => clients = value.parse()?,
            "--seconds" => seconds = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    Ok(Args {
        servers: servers.context("--servers")?,
        tenant: tenant.context("--tenant")?,
        operator: operator.context("--operator")?,
        clients,
        seconds,
    })
}

async fn get(
    client: &reqwest::Client,
    url: &str,
    (id, secret): &(String, String),
) -> anyhow::Result<Value> {
    let res = client.get(url).basic_auth(id, Some(secret)).send().await?;
    let status = res.status();
    let body: Value = res.json().await?;
    if !status.is_success() {
        bail!("GET {url} answered {status}: {body}");
    }
    Ok(body)
}

/// Every event after `after`, page by page; the last seq seen.
async fn drain(
    client: &reqwest::Client,
    base: &str,
    operator: &(String, String),
    mut after: i64,
    into: &mut Vec<(i64, String)>,
) -> anyhow::Result<i64> {
    loop {
        let page = get(
            client,
            &format!("{base}/v1/events?after={after}&limit=1000"),
            operator,
        )
        .await?;
        let items = page["data"].as_array().cloned().unwrap_or_default();
        for e in &items {
            let seq = e["seq"].as_i64().context("event without seq")?;
            let id = e["id"].as_str().context("event without id")?.to_string();
            into.push((seq, id));
            after = seq;
        }
        if items.len() < 1000 {
            return Ok(after);
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .build()?;
    let first = args.servers[0].clone();

    // Numbers to order: enough for 4,000 orders/s.
    let want = (4000.0 * args.seconds) as usize;
    let mut numbers = Vec::new();
    let mut path = format!("{first}/v1/available-numbers?country=US&type=LOCAL&page_size=1000");
    while numbers.len() < want {
        let page = get(&client, &path, &args.tenant).await?;
        for n in page["data"].as_array().cloned().unwrap_or_default() {
            numbers.push(n["e164"].as_str().context("e164")?.to_string());
        }
        match page["next_page_token"].as_str() {
            Some(token) => {
                path = format!(
                    "{first}/v1/available-numbers?country=US&type=LOCAL&page_size=1000&page_token={token}"
                )
            }
            None => break,
        }
    }
    let mut start_seq = Vec::new();
    let start = drain(&client, &first, &args.operator, 0, &mut start_seq).await?;

    let numbers = Arc::new(numbers);
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    // The catch-up reader, on the last server, polling as fast as it gets answers.
    let reader = {
        let (client, base, operator, stop) = (
            client.clone(),
            args.servers[args.servers.len() - 1].clone(),
            args.operator.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut after = start;
            let mut polls = 0u64;
            loop {
                let finished = stop.load(Ordering::SeqCst);
                after = drain(&client, &base, &operator, after, &mut seen).await?;
                polls += 1;
                if finished {
                    return anyhow::Ok((seen, polls));
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };

    let started = Instant::now();
    let until = started + Duration::from_secs_f64(args.seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..args.clients {
        let base = args.servers[c % args.servers.len()].clone();
        let (client, tenant, numbers, next) = (
            client.clone(),
            args.tenant.clone(),
            numbers.clone(),
            next.clone(),
        );
        tasks.spawn(async move {
            let mut sold = Vec::new();
            let mut failed = 0usize;
            while Instant::now() < until {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(number) = numbers.get(i) else { break };
                let res = client
                    .post(format!("{base}/v1/orders"))
                    .basic_auth(&tenant.0, Some(&tenant.1))
                    .json(&json!({ "numbers": [number] }))
                    .send()
                    .await?;
                let status = res.status();
                let doc: Value = res.json().await?;
                if status.as_u16() != 202 {
                    bail!("POST /v1/orders answered {status}: {doc}");
                }
                let id = doc["id"].as_str().context("order id")?.to_string();
                loop {
                    let order = get(&client, &format!("{base}/v1/orders/{id}"), &tenant).await?;
                    match order["status"].as_str().unwrap_or_default() {
                        "RECEIVED" | "PROCESSING" => {
                            tokio::time::sleep(Duration::from_millis(2)).await
                        }
                        "COMPLETE" => {
                            sold.push(number.clone());
                            break;
                        }
                        _ => {
                            failed += 1;
                            break;
                        }
                    }
                }
            }
            anyhow::Ok((sold, failed))
        });
    }
    let (mut sold, mut failed) = (HashMap::<String, u32>::new(), 0);
    while let Some(joined) = tasks.join_next().await {
        let (numbers, f) = joined??;
        failed += f;
        for n in numbers {
            *sold.entry(n).or_default() += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let completed: u32 = sold.values().sum();
    stop.store(true, Ordering::SeqCst);
    let (seen, polls) = reader.await??;

    let mut all = Vec::new();
    drain(&client, &first, &args.operator, start, &mut all).await?;
    let in_order = seen.windows(2).all(|w| w[0].0 < w[1].0);
    let double_sales = sold.values().filter(|&&n| n > 1).count();
    println!(
        "servers {}, clients {}: {completed} single-number orders COMPLETE in {seconds:.1}s = {:.0} orders/s ({failed} not complete, {double_sales} numbers sold twice)",
        args.servers.len(),
        args.clients,
        f64::from(completed) / seconds
    );
    println!(
        "catch-up reader: {} events over {polls} polls, in seq order: {in_order}; same as the final log ({} events): {}",
        seen.len(),
        all.len(),
        seen == all
    );
    if !in_order || seen != all || double_sales > 0 {
        bail!("events were missed or reordered, or a number was sold twice");
    }
    Ok(())
}
