//! `numbersd serve` and `numbersd migrate`.

use std::sync::Arc;

use anyhow::Context;
use numbers_core::clock::SystemClock;
use numbers_core::sealing::SecretBox;
use numbers_core::service::Service;
use numbers_core::worker::WorkerSettings;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::secret::Keys;
use crate::startup::{
    ServeSettings, build_service, launch_with, open_store_with, shutdown_signal, spawn_metrics,
};

/// Opens the database and builds the service with its server secret (configured, or the SQLite
/// database's own, see `secret`), accepting the configured operator key. Secrets stored in clear
/// or under a previous key are sealed with the current key on the way (once per key).
pub async fn service_for(config: &Config) -> anyhow::Result<Service> {
    let service = service_with_keys(config, &crate::secret::resolve(config)?).await?;
    seal_stored_secrets(&service).await?;
    Ok(service)
}

/// Seals what is stored in clear or under a previous key with the current key, once per key.
async fn seal_stored_secrets(service: &Service) -> anyhow::Result<()> {
    let resealed = service
        .reseal_secrets(false)
        .await
        .map_err(|e| anyhow::anyhow!("sealing the stored secrets: {e}"))?;
    if resealed.sealed + resealed.resealed > 0 {
        tracing::info!(
            sealed = resealed.sealed,
            resealed = resealed.resealed,
            key = resealed.key_id.as_deref().unwrap_or(""),
            "sealed the stored secrets with the current key"
        );
    }
    Ok(())
}

/// The service over the database with these server secrets (no re-seal pass: `service_for`).
pub async fn service_with_keys(config: &Config, keys: &Keys) -> anyhow::Result<Service> {
    let store = open_store_with(
        &config.database_url,
        keys.secret_box(),
        config.search_limits,
    )
    .await?;
    let mut settings = config.service.clone();
    settings.secret_key = keys.current.clone();
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

pub async fn serve(config: &Config, args: &crate::cli::ServeArgs) -> anyhow::Result<()> {
    let keys = crate::secret::resolve(config)?;
    if keys.current.is_none() {
        anyhow::bail!(
            "PostgreSQL needs a server secret (secret_key in the configuration file, or \
             NUMBERSD_SECRET_KEY; at least 32 characters, the same for every process): webhook \
             secrets, callback passwords and HMAC secrets are stored encrypted with a key derived \
             from it (docs/SECURITY.md)"
        );
    }
    let service = service_with_keys(config, &keys).await?;
    seal_stored_secrets(&service).await?;
    let listener = TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, database = service.store().backend(), "numbersd listening");
    let metrics = spawn_metrics(&service, config.metrics_listen.as_deref()).await?;
    let served = launch_with(
        service,
        listener,
        WorkerSettings::default(),
        ServeSettings {
            payload_floor: args.bench_payload_floor,
            ..config.serve.clone()
        },
        shutdown_signal(),
    )
    .await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    served
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = open_store_with(
        &config.database_url,
        SecretBox::default(),
        config.search_limits,
    )
    .await?;
    println!(
        "database {} is at the current schema ({})",
        config.database_url,
        store.backend()
    );
    Ok(())
}
