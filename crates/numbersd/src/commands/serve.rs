//! `numbersd serve` and `numbersd migrate`.

use std::sync::Arc;

use anyhow::Context;
use numbers_core::clock::SystemClock;
use numbers_core::service::Service;
use numbers_core::worker::WorkerSettings;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::startup::{build_service, launch_with, open_store_with, shutdown_signal, spawn_metrics};

/// Opens the database and builds the service with its server secret (configured, or the SQLite
/// database's own, see `secret`), accepting the configured operator key.
pub async fn service_for(config: &Config) -> anyhow::Result<Service> {
    let store = open_store_with(&config.database_url, config.search_limits).await?;
    let mut settings = config.service.clone();
    settings.secret_key = crate::secret::resolve(config, store.backend() == "postgres")?;
    let mut service = build_service(store, Arc::new(SystemClock), settings);
    if let Some(url) = &config.provisioning_url {
        let hook = crate::provisioning::HttpProvisioner::new(url, config.provisioning_timeout)?;
        service = service.with_provisioner(Arc::new(hook));
    }
    if let Some(key) = &config.operator_key {
        service
            .ensure_operator_key(key)
            .await
            .map_err(|e| anyhow::anyhow!("operator key: {e}"))?;
    }
    Ok(service)
}

pub async fn serve(config: &Config) -> anyhow::Result<()> {
    let service = service_for(config).await?;
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, database = service.store().backend(), "numbersd listening");
    let metrics = spawn_metrics(&service, config.metrics_listen.as_deref()).await?;
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

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = open_store_with(&config.database_url, config.search_limits).await?;
    println!(
        "database {} is at the current schema ({})",
        config.database_url,
        store.backend()
    );
    Ok(())
}
