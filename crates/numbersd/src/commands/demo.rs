//! `numbersd demo`: one command from nothing to a running server with inventory, an account and
//! three requests to paste.

use anyhow::Context;
use numbers_core::account::Principal;
use numbers_core::search::SearchQuery;
use numbers_core::worker::WorkerSettings;
use tokio::net::TcpListener;

use crate::commands::inventory::generate;
use crate::commands::serve::service_for;
use crate::config::Config;
use crate::startup::{launch_with, shutdown_signal, spawn_metrics};

pub const DEMO_ACCOUNT_NAME: &str = "demo";

pub async fn demo(config: &Config, count: u64, seed: u64) -> anyhow::Result<()> {
    // The demo runs on one machine: let webhooks reach receivers on it (e.g. localhost:9000).
    let mut config = config.clone();
    config.service.webhooks.allow_private = true;
    let config = &config;
    let service = service_for(config).await?;
    let core = |e: numbers_core::Error| anyhow::anyhow!("{e}");

    let stats = service
        .inventory_stats(Principal::Operator)
        .await
        .map_err(core)?;
    if stats.total == 0 {
        println!("generating {count} numbers (seed {seed})…");
        let summary = generate(&service, count, seed, 5000, true).await?;
        println!(
            "generated {} numbers in {:.1}s",
            summary.inserted, summary.seconds
        );
    } else {
        println!(
            "inventory already holds {} numbers ({} available)",
            stats.total, stats.available
        );
    }

    // A fresh key each run: secrets are stored hashed, so an old one cannot be shown again.
    let accounts = service
        .list_accounts(Principal::Operator)
        .await
        .map_err(core)?;
    let (account_id, key) = match accounts.iter().find(|a| a.name == DEMO_ACCOUNT_NAME) {
        Some(account) => (
            account.id,
            service
                .create_key(Principal::Operator, account.id)
                .await
                .map_err(core)?,
        ),
        None => {
            let (account, key) = service
                .create_account(Principal::Operator, DEMO_ACCOUNT_NAME)
                .await
                .map_err(core)?;
            service
                .create_default_site(account.id)
                .await
                .map_err(core)?;
            (account.id, key)
        }
    };
    // The demo account's first site is the default one it was created with.
    let sites = service.list_sites(account_id).await.map_err(core)?;
    let default_site = match sites.first() {
        Some(site) => {
            let peers = service
                .list_peers(account_id, site.id)
                .await
                .map_err(core)?;
            Some((
                site.id,
                peers.iter().find(|p| p.fields.is_default).map(|p| p.id),
            ))
        }
        None => None,
    };

    // Print commands that find something: take the area code of a number actually on offer.
    let probe = SearchQuery::builder()
        .country(Some("US"), "country")
        .type_values(["LOCAL"], "type")
        .page_size(Some("1"), "page_size", 1, 1)
        .build()
        .map_err(core)?;
    let sample = service
        .search(Principal::Operator, &probe)
        .await
        .map_err(core)?;
    let npa = sample
        .items
        .first()
        .and_then(|n| n.nanp())
        .map(|f| f.npa)
        .unwrap_or_else(|| "206".into());

    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let base = format!("http://{}", listener.local_addr()?);
    let auth = format!("{}:{}", key.key_id, key.secret);
    println!();
    println!(
        "numbersd demo is serving on {base} (database {})",
        config.database_url
    );
    println!("  account_id: {account_id}");
    println!("  key_id:     {}", key.key_id);
    println!("  secret:     {}", key.secret);
    if let Some((site, peer)) = default_site {
        println!("  bandwidth_site_id: {site}");
        if let Some(peer) = peer {
            println!("  bandwidth_peer_id: {peer}");
        }
    }
    println!();
    println!("Try:");
    println!(
        "  curl -u '{auth}' '{base}/v1/available-numbers?country=US&npa={npa}&capabilities=SMS&page_size=3'"
    );
    println!(
        "  curl -u '{auth}' -X POST '{base}/v1/orders' -H 'Content-Type: application/json' -d '{{\"search\": {{\"country\": \"US\", \"npa\": \"{npa}\"}}, \"quantity\": 2, \"label\": \"demo\"}}'"
    );
    println!("  curl -u '{auth}' '{base}/v1/numbers'");
    println!();
    println!("API reference: {base}/docs   OpenAPI: {base}/openapi.json   Stop with Ctrl-C.");
    // The demo must start on any machine: a busy metrics port (a local Prometheus holds 9090) only
    // costs the metrics, unlike `serve`, where a configured listener that cannot bind is an error.
    let metrics = match spawn_metrics(&service, config.metrics_listen.as_deref()).await {
        Ok(task) => task,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "metrics listener not started; use --metrics-listen to pick another address");
            None
        }
    };
    let served = launch_with(
        service,
        listener,
        WorkerSettings::default(),
        config.serve.clone(),
        shutdown_signal(),
    )
    .await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    served
}
