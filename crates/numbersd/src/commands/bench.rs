//! `numbersd bench`: the benchmark that ships with the project. It owns the whole measurement:
//! a database with `--count` generated numbers (fresh, or reused with `--reuse`), the real server
//! started as a child process (`numbersd serve`, so the memory and CPU measured are the
//! server's own), an in-process HTTP load generator (N concurrent connections, a fixed duration
//! per query class), the HTTP floor (`/healthz` of the same process under the same load) every
//! class is compared with, the order phase (single-number orders, one 5,000-number order, a race
//! of 1,000 orders over 50 numbers), and the report (a table, and `--json FILE` in the shape
//! issue 7 fixes).
//!
//! Why ratios: the load generator and the server share the machine, so absolute requests/s
//! depend on the cores and on whatever else runs; the ratio to the floor measured in the same run
//! says how much of the HTTP stack's capacity a query class keeps, and is comparable across runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use numbers_core::account::Principal;
use reqwest::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::config::Config;

/// Extension point for the vendor dialects' own search routes: (class name, path and query).
/// Each is measured like the native classes, with the same tenant key over HTTP Basic. Paths may
/// use the placeholders of `Samples::fill` (`{account}`, `{npa}`, `{npa_nxx}`, `{state}`…).
pub const DIALECT_SEARCH_CLASSES: &[(&str, &str)] = &[
    (
        "messagemedia: country+service types",
        "/v1/messaging/numbers/dedicated?country=US&service_types=SMS&page_size=50",
    ),
    (
        "messagemedia: matching CAFE",
        "/v1/messaging/numbers/dedicated?matching=CAFE&page_size=50",
    ),
    (
        "bandwidth: areaCode",
        "/api/accounts/{account}/availableNumbers?areaCode={npa}&quantity=50",
    ),
    (
        "bandwidth: rateCenter+state, TN detail",
        "/api/accounts/{account}/availableNumbers?rateCenter={rate_center}&state={state}&quantity=50&enableTNDetail=true",
    ),
    (
        "sinch: region+type+pattern START",
        "/v1/projects/{account}/availableNumbers?regionCode=US&type=LOCAL&numberPattern.pattern={npa}&numberPattern.searchPattern=START&size=50",
    ),
];

/// The native search classes, in the order of issue 7's list.
const NATIVE_CLASSES: &[(&str, &str)] = &[
    (
        "country+type+capability",
        "/v1/available-numbers?country=US&type=LOCAL&capabilities=SMS,VOICE",
    ),
    ("area code (NPA)", "/v1/available-numbers?npa={npa}"),
    ("NPA-NXX", "/v1/available-numbers?npa_nxx={npa_nxx}"),
    ("NPA-NXX-X", "/v1/available-numbers?npa_nxx_x={npa_nxx_x}"),
    (
        "rate center+state",
        "/v1/available-numbers?rate_center={rate_center}&state={state}",
    ),
    (
        "city+state",
        "/v1/available-numbers?city={city}&state={state}",
    ),
    ("ZIP", "/v1/available-numbers?zip={zip}"),
    ("LATA", "/v1/available-numbers?lata={lata}"),
    (
        "starts-with",
        "/v1/available-numbers?starts_with={starts_with}",
    ),
    ("contains digits", "/v1/available-numbers?contains=5309"),
    (
        "contains vanity CAFE",
        "/v1/available-numbers?contains=CAFE",
    ),
    (
        "contains vanity FLOWERS",
        "/v1/available-numbers?contains=FLOWERS",
    ),
    ("ends-with", "/v1/available-numbers?ends_with=4321"),
    (
        "toll-free 8**",
        "/v1/available-numbers?toll_free_pattern=8**",
    ),
    (
        "toll-free 87*",
        "/v1/available-numbers?toll_free_pattern=87*",
    ),
    (
        "classification GOLD",
        "/v1/available-numbers?classification=GOLD",
    ),
    ("deep page (page 50)", "{deep_page}"),
];

#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub count: u64,
    /// As given on the command line (or `NUMBERSD_DATABASE_URL`); None = SQLite under target/bench.
    pub database_url: Option<String>,
    pub duration_per_class: f64,
    pub json: Option<PathBuf>,
    pub reuse: bool,
    pub connections: usize,
    /// Concurrent clients of the order phase: an order waits on the worker, not on the CPU, so
    /// throughput needs more clients in flight than the search classes do.
    pub order_clients: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassResult {
    pub name: String,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub rps: f64,
    pub ratio_to_floor: f64,
}

/// The JSON document of `--json FILE` (issue 7's shape).
#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub count: u64,
    pub backend: String,
    pub floor_rps: f64,
    pub classes: Vec<ClassResult>,
    pub orders_per_s: f64,
    pub bulk_5000_ms: f64,
    pub race_double_sales: u64,
    /// Null when the database was reused (nothing was imported in this run).
    pub import_numbers_per_s: Option<f64>,
    pub rss_mb: f64,
    pub db_bytes: u64,
}

/// The database the bench works on and how to reach it.
enum Target {
    Sqlite { path: PathBuf, url: String },
    Postgres { server: String, name: String },
}

impl Target {
    fn from_options(o: &BenchOptions) -> anyhow::Result<Target> {
        match &o.database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Target::Postgres {
                    server: url.clone(),
                    name: format!("numbersd_bench_{}", o.count),
                })
            }
            Some(url) => Ok(Target::Sqlite {
                path: numbers_store_sqlite::path_from_url(url)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                url: url.clone(),
            }),
            None => {
                let path = PathBuf::from(format!("target/bench/numbersd-{}.db", o.count));
                Ok(Target::Sqlite {
                    url: format!("sqlite://{}", path.display()),
                    path,
                })
            }
        }
    }

    fn backend(&self) -> &'static str {
        match self {
            Target::Sqlite { .. } => "sqlite",
            Target::Postgres { .. } => "postgres",
        }
    }

    /// Removes the database unless it is to be reused; answers the URL to open.
    async fn prepare(&self, reuse: bool) -> anyhow::Result<String> {
        match self {
            Target::Sqlite { path, url } => {
                if !reuse {
                    for suffix in ["", "-wal", "-shm", ".secret"] {
                        let file = sidecar(path, suffix);
                        match std::fs::remove_file(&file) {
                            Ok(()) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                            Err(e) => {
                                return Err(e)
                                    .with_context(|| format!("removing {}", file.display()));
                            }
                        }
                    }
                }
                Ok(url.clone())
            }
            Target::Postgres { server, name } => {
                if !reuse {
                    numbers_store_postgres::drop_database(server, name)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
                match numbers_store_postgres::create_database(server, name).await {
                    Ok(url) => Ok(url),
                    // Reusing: it is already there. The URL is the server's with our name.
                    Err(_) if reuse => Ok(database_url_named(server, name)),
                    Err(e) => Err(anyhow::anyhow!("{e}")),
                }
            }
        }
    }

    async fn size_bytes(&self, url: &str) -> anyhow::Result<u64> {
        match self {
            Target::Sqlite { path, .. } => Ok(["", "-wal", "-shm"]
                .iter()
                .filter_map(|s| std::fs::metadata(sidecar(path, s)).ok())
                .map(|m| m.len())
                .sum()),
            Target::Postgres { .. } => {
                let store = numbers_store_postgres::PostgresStore::connect(url)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let size = store
                    .database_size_bytes()
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(u64::try_from(size).unwrap_or(0))
            }
        }
    }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `postgres://u@h:p/anything?x` → `postgres://u@h:p/name?x`.
fn database_url_named(server: &str, name: &str) -> String {
    let (base, query) = server.split_once('?').map_or((server, ""), |(b, q)| (b, q));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{}/{name}{query}", &base[..authority_end])
}

/// Credentials of a tenant, for HTTP Basic.
#[derive(Debug, Clone)]
struct Creds {
    /// The vendor dialects address the account in the path (Bandwidth accountId, Sinch projectId).
    account_id: String,
    key_id: String,
    secret: String,
}

struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    fn get(&self, creds: &Creds, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .basic_auth(&creds.key_id, Some(&creds.secret))
    }

    fn post(&self, creds: &Creds, path: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .basic_auth(&creds.key_id, Some(&creds.secret))
            .json(body)
    }

    async fn get_json(&self, creds: &Creds, path: &str) -> anyhow::Result<Value> {
        let res = self.get(creds, path).send().await?;
        let status = res.status();
        let body: Value = res.json().await?;
        if status != StatusCode::OK {
            bail!("GET {path} answered {status}: {body}");
        }
        Ok(body)
    }

    /// Whatever the body's format (JSON or a dialect's XML): was the answer 200?
    async fn probe(&self, creds: &Creds, path: &str) -> anyhow::Result<()> {
        let res = self.get(creds, path).send().await?;
        let status = res.status();
        if status != StatusCode::OK {
            let body = res.text().await.unwrap_or_default();
            bail!("GET {path} answered {status}: {body}");
        }
        Ok(())
    }
}

/// Values taken from the inventory itself, so every class asks for something that exists.
#[derive(Debug, Default)]
struct Samples(HashMap<&'static str, String>);

impl Samples {
    async fn discover(http: &Http, creds: &Creds) -> anyhow::Result<Samples> {
        let page = http
            .get_json(
                creds,
                "/v1/available-numbers?country=US&type=LOCAL&page_size=1",
            )
            .await?;
        let n = page["data"]
            .get(0)
            .context("the inventory has no available US LOCAL number to derive queries from")?;
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let mut s = HashMap::new();
        s.insert("account", creds.account_id.clone());
        s.insert("npa", text(&n["nanp"]["npa"]));
        s.insert("npa_nxx", text(&n["nanp"]["npa_nxx"]));
        s.insert("npa_nxx_x", text(&n["nanp"]["npa_nxx_x"]));
        let loc = &n["location"];
        for (key, field) in [
            ("rate_center", "rate_center"),
            ("state", "state"),
            ("city", "city"),
            ("zip", "zip"),
            ("lata", "lata"),
        ] {
            s.insert(key, encode(&text(&loc[field])));
        }
        let npa_nxx = text(&n["nanp"]["npa_nxx"]);
        s.insert("starts_with", npa_nxx.chars().take(4).collect());
        // Page 50 of a broad search: follow 49 page tokens to get there.
        let mut path = "/v1/available-numbers?country=US".to_string();
        for _ in 0..49 {
            let page = http.get_json(creds, &path).await?;
            let Some(token) = page["next_page_token"].as_str() else {
                break;
            };
            path = format!("/v1/available-numbers?country=US&page_token={token}");
        }
        s.insert("deep_page", path);
        Ok(Samples(s))
    }

    fn fill(&self, template: &str) -> String {
        let mut out = template.to_string();
        for (key, value) in &self.0 {
            out = out.replace(&format!("{{{key}}}"), value);
        }
        out
    }
}

/// Percent-encodes a query value (city names have spaces).
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One class's raw measurement.
struct LoadResult {
    latencies_us: Vec<u32>,
    seconds: f64,
    errors: usize,
}

impl LoadResult {
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * (self.latencies_us.len() - 1) as f64).round() as usize;
        f64::from(self.latencies_us[rank.min(self.latencies_us.len() - 1)]) / 1000.0
    }

    fn rps(&self) -> f64 {
        self.latencies_us.len() as f64 / self.seconds.max(1e-9)
    }
}

/// `connections` clients send GET `path` back to back for `duration` (after a short warm-up
/// that is not recorded); every answer must be 200.
async fn load(
    http: &Arc<Http>,
    creds: &Creds,
    path: &str,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<LoadResult> {
    let warmup = duration.mul_f64(0.2).min(Duration::from_secs(1));
    let start = Instant::now();
    let record_from = start + warmup;
    let until = record_from + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let http = http.clone();
        let creds = creds.clone();
        let path = path.to_string();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(4096);
            let mut errors = 0usize;
            loop {
                let sent = Instant::now();
                if sent >= until {
                    break;
                }
                let ok = match http.get(&creds, &path).send().await {
                    Ok(res) => {
                        let status = res.status();
                        res.bytes().await.is_ok() && status == StatusCode::OK
                    }
                    Err(_) => false,
                };
                let done = Instant::now();
                if sent >= record_from && done <= until {
                    if ok {
                        let us = done.duration_since(sent).as_micros();
                        latencies.push(u32::try_from(us).unwrap_or(u32::MAX));
                    } else {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        });
    }
    let mut result = LoadResult {
        latencies_us: Vec::new(),
        seconds: duration.as_secs_f64(),
        errors: 0,
    };
    while let Some(joined) = tasks.join_next().await {
        let (latencies, errors) = joined.context("load task")?;
        result.latencies_us.extend(latencies);
        result.errors += errors;
    }
    result.latencies_us.sort_unstable();
    Ok(result)
}

/// Waits until the order is no longer RECEIVED/PROCESSING; answers its final document.
async fn settle(http: &Http, creds: &Creds, id: &str, poll: Duration) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let order = http.get_json(creds, &format!("/v1/orders/{id}")).await?;
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

async fn submit(http: &Http, creds: &Creds, body: &Value) -> anyhow::Result<String> {
    let res = http.post(creds, "/v1/orders", body).send().await?;
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

struct OrderPhase {
    orders_per_s: f64,
    single_orders: usize,
    single_failed: usize,
    bulk_5000_ms: f64,
    bulk_completed: u64,
    race_double_sales: u64,
    race_sold: u64,
}

/// Single-number orders by `connections` clients for `duration`, each fully processed (polled to
/// its final status); then one 5,000-number criteria order; then 1,000 orders racing for 50
/// numbers, from 20 accounts, counting numbers sold more than once.
async fn order_phase(
    http: &Arc<Http>,
    tenants: &[Creds],
    connections: usize,
    duration: Duration,
) -> anyhow::Result<OrderPhase> {
    let buyer = tenants.first().context("no tenant")?.clone();
    // Enough distinct numbers for 4,000 orders/s; GB numbers are left for the race.
    let want = (4000.0 * duration.as_secs_f64()) as usize;
    let pool = Arc::new(collect_numbers(http, &buyer, "country=US&type=LOCAL", want).await?);
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
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
                let id = submit(&http, &creds, &json!({ "numbers": [number] })).await?;
                let order = settle(&http, &creds, &id, Duration::from_millis(2)).await?;
                if order["status"] == "COMPLETE" {
                    done += 1;
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(done)
        });
    }
    let mut single_orders = 0;
    while let Some(joined) = tasks.join_next().await {
        single_orders += joined.context("order task")??;
    }
    let single_seconds = started.elapsed().as_secs_f64();

    // One criteria order for 5,000 numbers, timed from submission to COMPLETE.
    let bulk_started = Instant::now();
    let id = submit(
        http,
        &buyer,
        &json!({"search": {"country": "US"}, "quantity": 5000}),
    )
    .await?;
    let bulk = settle(http, &buyer, &id, Duration::from_millis(5)).await?;
    let bulk_5000_ms = bulk_started.elapsed().as_secs_f64() * 1000.0;
    if bulk["status"] != "COMPLETE" {
        bail!("the 5,000-number order ended {}", bulk["status"]);
    }

    // The race: 50 numbers, 20 accounts each ordering every one of them, all at once.
    let targets = collect_numbers(http, &buyer, "country=GB", 50).await?;
    let mut racers = tokio::task::JoinSet::new();
    for (slot, creds) in tenants.iter().skip(1).take(20).enumerate() {
        for (i, number) in targets.iter().enumerate() {
            let (http, creds, number) = (http.clone(), creds.clone(), number.clone());
            racers.spawn(async move {
                // Spread the submissions so every number is contended by several accounts at once.
                tokio::time::sleep(Duration::from_micros(((slot + i) % 7) as u64 * 100)).await;
                let id = submit(&http, &creds, &json!({ "numbers": [number] })).await?;
                let order = settle(&http, &creds, &id, Duration::from_millis(5)).await?;
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
        orders_per_s: single_orders as f64 / single_seconds.max(1e-9),
        single_orders,
        single_failed: failed.load(Ordering::Relaxed),
        bulk_5000_ms,
        bulk_completed: bulk["completed_quantity"].as_u64().unwrap_or(0),
        race_double_sales,
        race_sold: sold.len() as u64,
    })
}

/// VmHWM (peak resident set) and VmRSS of a process, in MiB.
fn memory_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The digit index (contains / ends-with) is a cache the server builds on first use, in the
/// background, answering by plain SQL meanwhile. Measure the steady state: ask until a
/// contains search for a rare 8-digit pattern (which plain SQL can only answer by reading every
/// number) is quick twice in a row, and report how long the build took.
async fn warm_digit_index(http: &Http, creds: &Creds) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut quick = 0;
    loop {
        let asked = Instant::now();
        http.get_json(creds, "/v1/available-numbers?contains=35693779")
            .await?;
        if asked.elapsed() < Duration::from_millis(20) {
            quick += 1;
        } else {
            quick = 0;
        }
        if quick == 2 {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("contains searches are still slow after 600 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "digit index ready after {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The server: this same binary, `serve`, on a free port, as a child process.
async fn start_server(url: &str) -> anyhow::Result<(Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let listen = format!("127.0.0.1:{port}");
    let exe = std::env::current_exe().context("locating the numbersd binary")?;
    let child = Command::new(exe)
        .arg("serve")
        .env("NUMBERSD_DATABASE_URL", url)
        .env("NUMBERSD_LISTEN", &listen)
        .env(
            "NUMBERSD_LOG",
            std::env::var("NUMBERSD_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting numbersd serve")?;
    let base = format!("http://{listen}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await
            && res.status() == StatusCode::OK
        {
            return Ok((child, base));
        }
        if Instant::now() > deadline {
            bail!("the server did not become ready within 600 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn bench(config: &Config, options: &BenchOptions) -> anyhow::Result<BenchReport> {
    let target = Target::from_options(options)?;
    if let Target::Sqlite { path, .. } = &target
        && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let url = target.prepare(options.reuse).await?;
    let mut config = config.clone();
    config.database_url = url.clone();

    // Load (or reuse) the inventory, and make the accounts, in this process.
    let service = crate::commands::serve::service_for(&config).await?;
    let core = |e: numbers_core::Error| anyhow::anyhow!("{e}");
    let stats = service
        .inventory_stats(Principal::Operator)
        .await
        .map_err(core)?;
    let import_numbers_per_s = if options.reuse && stats.total >= options.count {
        println!(
            "reusing {} ({} numbers, {} available)",
            url, stats.total, stats.available
        );
        None
    } else {
        println!("generating {} numbers into {url}…", options.count);
        let summary = crate::commands::inventory::generate(
            &service,
            options.count,
            options.seed,
            crate::commands::inventory::BULK_BATCH,
            true,
        )
        .await?;
        let rate = (summary.inserted + summary.existing) as f64 / summary.seconds.max(1e-9);
        println!(
            "generated {} numbers in {:.1}s ({rate:.0} numbers/s)",
            summary.inserted, summary.seconds
        );
        Some(rate)
    };
    let mut tenants = Vec::new();
    for i in 0..21 {
        let (account, key) = service
            .create_account(Principal::Operator, &format!("bench-{i}"))
            .await
            .map_err(core)?;
        tenants.push(Creds {
            account_id: account.id.to_string(),
            key_id: key.key_id,
            secret: key.secret,
        });
    }
    drop(service);

    let (mut child, base) = start_server(&url).await?;
    let pid = child.id().context("server pid")?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.connections * 2)
        .build()?;
    let http = Arc::new(Http { client, base });
    let creds = tenants.first().context("no tenant")?.clone();
    let samples = Samples::discover(&http, &creds).await?;
    let duration = Duration::from_secs_f64(options.duration_per_class.max(0.5));
    warm_digit_index(&http, &creds).await?;

    let floor = load(&http, &creds, "/healthz", options.connections, duration).await?;
    let floor_rps = floor.rps();
    println!(
        "HTTP floor (/healthz): {floor_rps:.0} requests/s, p50 {:.3} ms, p99 {:.3} ms",
        floor.percentile_ms(50.0),
        floor.percentile_ms(99.0)
    );
    let mut classes = Vec::new();
    let all = NATIVE_CLASSES.iter().chain(DIALECT_SEARCH_CLASSES.iter());
    let mut errors_seen = Vec::new();
    for (name, template) in all {
        let path = samples.fill(template);
        // A class that cannot answer 200 at all is reported, not measured.
        if let Err(e) = http.probe(&creds, &path).await {
            errors_seen.push(format!("{name}: {e}"));
            continue;
        }
        let r = load(&http, &creds, &path, options.connections, duration).await?;
        if r.errors > 0 {
            errors_seen.push(format!("{name}: {} failed requests", r.errors));
        }
        let result = ClassResult {
            name: (*name).to_string(),
            p50_ms: r.percentile_ms(50.0),
            p99_ms: r.percentile_ms(99.0),
            rps: r.rps(),
            ratio_to_floor: r.rps() / floor_rps.max(1e-9),
        };
        println!(
            "  {:<38} p50 {:>8.3} ms  p99 {:>8.3} ms  {:>8.0} req/s  {:>5.2}× floor",
            result.name, result.p50_ms, result.p99_ms, result.rps, result.ratio_to_floor
        );
        classes.push(result);
    }

    let orders = order_phase(&http, &tenants, options.order_clients, duration).await?;
    let (rss_peak_mb, rss_now_mb) = memory_mb(pid);
    let db_bytes = target.size_bytes(&url).await?;
    child.start_kill().context("stopping the server")?;
    let _ = child.wait().await;

    let report = BenchReport {
        count: options.count,
        backend: target.backend().to_string(),
        floor_rps,
        classes,
        orders_per_s: orders.orders_per_s,
        bulk_5000_ms: orders.bulk_5000_ms,
        race_double_sales: orders.race_double_sales,
        import_numbers_per_s,
        rss_mb: rss_peak_mb,
        db_bytes,
    };
    print_table(
        &report,
        &orders,
        rss_now_mb,
        options.connections,
        options.order_clients,
    );
    for e in &errors_seen {
        eprintln!("warning: {e}");
    }
    if let Some(file) = &options.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(file, text + "\n").with_context(|| format!("writing {}", file.display()))?;
    }
    if report.race_double_sales > 0 {
        bail!(
            "{} numbers were sold more than once in the race",
            report.race_double_sales
        );
    }
    Ok(report)
}

fn print_table(
    r: &BenchReport,
    orders: &OrderPhase,
    rss_now_mb: f64,
    connections: usize,
    order_clients: usize,
) {
    println!();
    println!(
        "numbersd bench: {} numbers on {}, {connections} connections, {order_clients} order clients",
        r.count, r.backend
    );
    println!(
        "| class | p50 ms | p99 ms | requests/s | ratio to floor |\n|---|---:|---:|---:|---:|"
    );
    println!("| HTTP floor (/healthz) | | | {:.0} | 1.00 |", r.floor_rps);
    for c in &r.classes {
        println!(
            "| {} | {:.3} | {:.3} | {:.0} | {:.2} |",
            c.name, c.p50_ms, c.p99_ms, c.rps, c.ratio_to_floor
        );
    }
    println!();
    println!(
        "single-number orders: {:.0} orders/s fully processed ({} complete, {} not)",
        r.orders_per_s, orders.single_orders, orders.single_failed
    );
    println!(
        "5,000-number order: COMPLETE ({} numbers) in {:.0} ms",
        orders.bulk_completed, r.bulk_5000_ms
    );
    println!(
        "race (1,000 orders over 50 numbers): {} numbers sold, {} double sales",
        orders.race_sold, r.race_double_sales
    );
    match r.import_numbers_per_s {
        Some(rate) => println!("import: {rate:.0} numbers/s"),
        None => println!("import: not measured (database reused)"),
    }
    println!(
        "server memory: peak RSS {:.0} MiB (now {:.0} MiB); database on disk: {:.1} MiB",
        r.rss_mb,
        rss_now_mb,
        r.db_bytes as f64 / (1024.0 * 1024.0)
    );
}
