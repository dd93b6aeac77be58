//! The load generator: N concurrent HTTP connections sending GETs back to back for a fixed time,
//! cycling through a list of paths (one per value of a class, so p50/p99 are over all of them),
//! spread over one or more servers. Latencies of 200 answers are recorded; other answers are
//! counted by status, so a phase that expects refusals (contention) can report them.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::StatusCode;
use serde_json::Value;

/// Credentials of a tenant, for HTTP Basic.
#[derive(Debug, Clone)]
pub struct Creds {
    /// The vendor dialects address the account in the path (Bandwidth accountId, Sinch projectId).
    pub account_id: String,
    pub key_id: String,
    pub secret: String,
}

/// A client of one or more servers over the same database; request `i` goes to server
/// `i % servers`.
pub struct Http {
    pub client: reqwest::Client,
    pub bases: Vec<String>,
}

impl Http {
    fn base(&self, i: usize) -> &str {
        &self.bases[i % self.bases.len()]
    }

    /// The same servers, only the first `n`.
    pub fn first(&self, n: usize) -> Http {
        Http {
            client: self.client.clone(),
            bases: self.bases[..n.clamp(1, self.bases.len())].to_vec(),
        }
    }

    pub fn get_on(&self, i: usize, creds: &Creds, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base(i)))
            .basic_auth(&creds.key_id, Some(&creds.secret))
    }

    pub fn post_on(
        &self,
        i: usize,
        creds: &Creds,
        path: &str,
        body: &Value,
    ) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base(i)))
            .basic_auth(&creds.key_id, Some(&creds.secret))
            .json(body)
    }

    pub async fn get_json(&self, creds: &Creds, path: &str) -> anyhow::Result<Value> {
        let res = self.get_on(0, creds, path).send().await?;
        let status = res.status();
        let body: Value = res.json().await?;
        if status != StatusCode::OK {
            bail!("GET {path} answered {status}: {body}");
        }
        Ok(body)
    }

    /// Whatever the body's format (JSON or a dialect's XML): a 200 answer's content type and
    /// bytes, or an error naming the status.
    pub async fn fetch(&self, creds: &Creds, path: &str) -> anyhow::Result<(String, Vec<u8>)> {
        let res = self.get_on(0, creds, path).send().await?;
        let status = res.status();
        let content_type = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let body = res.bytes().await?.to_vec();
        if status != StatusCode::OK {
            bail!(
                "GET {path} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok((content_type, body))
    }

    /// Stores `body` in the payload floor's slot (`serve --bench-payload-floor`).
    pub async fn put_payload(
        &self,
        slot: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<()> {
        for base in &self.bases {
            let res = self
                .client
                .put(format!("{base}/__bench/payload/{slot}"))
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body.clone())
                .send()
                .await?;
            if res.status() != StatusCode::NO_CONTENT {
                bail!("storing payload {slot} answered {}", res.status());
            }
        }
        Ok(())
    }
}

/// One phase's raw measurement.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// Latencies of the 200 answers, sorted.
    pub latencies_us: Vec<u32>,
    pub seconds: f64,
    /// Answers other than 200 (0 = no answer at all), by status.
    pub refused: BTreeMap<u16, usize>,
}

impl LoadResult {
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * (self.latencies_us.len() - 1) as f64).round() as usize;
        f64::from(self.latencies_us[rank.min(self.latencies_us.len() - 1)]) / 1000.0
    }

    pub fn rps(&self) -> f64 {
        self.latencies_us.len() as f64 / self.seconds.max(1e-9)
    }

    pub fn refused_total(&self) -> usize {
        self.refused.values().sum()
    }
}

/// `connections` clients send GETs back to back for `duration` (after a short warm-up that is
/// not recorded), each request taking the next of `paths` in turn.
pub async fn load(
    http: &Arc<Http>,
    creds: &Creds,
    paths: &Arc<Vec<String>>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<LoadResult> {
    if paths.is_empty() {
        bail!("nothing to load: no paths");
    }
    let warmup = duration.mul_f64(0.2).min(Duration::from_secs(1));
    let start = Instant::now();
    let record_from = start + warmup;
    let until = record_from + duration;
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (http, creds, paths, next) = (http.clone(), creds.clone(), paths.clone(), next.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(4096);
            let mut refused: BTreeMap<u16, usize> = BTreeMap::new();
            loop {
                let sent = Instant::now();
                if sent >= until {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let path = &paths[i % paths.len()];
                let status = match http.get_on(i, &creds, path).send().await {
                    Ok(res) => {
                        let status = res.status().as_u16();
                        if res.bytes().await.is_ok() { status } else { 0 }
                    }
                    Err(_) => 0,
                };
                let done = Instant::now();
                // A request sent in the window counts however late it is answered: dropping the
                // ones answered after the end would hide exactly the starved requests.
                if sent >= record_from {
                    if status == 200 {
                        let us = done.duration_since(sent).as_micros();
                        latencies.push(u32::try_from(us).unwrap_or(u32::MAX));
                    } else {
                        *refused.entry(status).or_default() += 1;
                    }
                }
            }
            (latencies, refused)
        });
    }
    let mut result = LoadResult {
        seconds: duration.as_secs_f64(),
        ..LoadResult::default()
    };
    while let Some(joined) = tasks.join_next().await {
        let (latencies, refused) = joined.context("load task")?;
        result.latencies_us.extend(latencies);
        for (status, n) in refused {
            *result.refused.entry(status).or_default() += n;
        }
    }
    result.latencies_us.sort_unstable();
    Ok(result)
}

/// Percent-encodes a query value (city names have spaces).
pub fn encode(s: &str) -> String {
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
