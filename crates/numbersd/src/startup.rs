//! Opening the database, building the service (with the webhook formats this binary serves) and
//! running the server with its workers, plus the Prometheus `/metrics` listener. `launch` takes an
//! already bound listener and a shutdown future, so tests start the real server on port 0 and stop
//! it when they are done.

use std::future::Future;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use numbers_api::bandwidth::notification::BandwidthRenderer;
use numbers_api::native::webhook_format::NativeRenderer;
use numbers_api::sinch::{SinchCallbackTargets, SinchRenderer};
use numbers_api::{ApiState, EdgeLimits, app};
use numbers_core::clock::Clock;
use numbers_core::sealing::SecretBox;
use numbers_core::service::{Service, ServiceConfig};
use numbers_core::store::{SearchLimits, Store};
use numbers_core::webhook::Registry;
use numbers_core::webhook::worker::run_webhook_worker;
use numbers_core::worker::{
    WorkerSettings, run_maintenance_worker, run_order_worker, run_provisioning_worker,
};
use numbers_store_postgres::PostgresStore;
use numbers_store_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::connections::{self, ConnectionLimits};
use crate::webhook_http::ReqwestTransport;

/// Opens (creating and migrating if needed) the database named by the URL: `postgres://…` or
/// `postgresql://…` for PostgreSQL, anything else is a SQLite file. The store seals the secrets it
/// writes and opens the ones it reads with `secrets` (`crate::secret::Keys::secret_box`).
pub async fn open_store(database_url: &str, secrets: SecretBox) -> anyhow::Result<Arc<dyn Store>> {
    open_store_with(database_url, secrets, SearchLimits::default()).await
}

/// `open_store` with the search budgets of the configuration (`[search]`).
pub async fn open_store_with(
    database_url: &str,
    secrets: SecretBox,
    limits: SearchLimits,
) -> anyhow::Result<Arc<dyn Store>> {
    if crate::secret::is_postgres_url(database_url) {
        let store = PostgresStore::connect_with(database_url, limits)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("opening PostgreSQL")?;
        Ok(Arc::new(store.with_secrets(secrets)))
    } else {
        let store = SqliteStore::open_with(database_url, limits)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("opening SQLite")?;
        Ok(Arc::new(store.with_secrets(secrets)))
    }
}

/// The webhook formats and target resolvers this binary serves. Each dialect registers its
/// own here (one line each).
pub fn webhook_registry() -> Registry {
    Registry::new()
        .with_renderer(Arc::new(NativeRenderer))
        .with_renderer(Arc::new(BandwidthRenderer))
        .with_renderer(Arc::new(SinchRenderer))
        .with_resolver(Arc::new(SinchCallbackTargets))
}

pub fn build_service(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
) -> Service {
    build_service_with(store, clock, config, webhook_registry())
}

/// `build_service` with another webhook registry (tests add their own resolvers).
pub fn build_service_with(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
    webhooks: Registry,
) -> Service {
    Service::new(store, clock, config).with_webhook_registry(webhooks)
}

/// How the HTTP server is run: the edge's limits and throttles, and the connection limits.
/// `Default` is the documented defaults (docs/SECURITY.md).
#[derive(Debug, Clone, Default)]
pub struct ServeSettings {
    pub limits: EdgeLimits,
    pub connections: ConnectionLimits,
    /// Mount the benchmark's payload floor (`serve --bench-payload-floor`, hidden).
    pub payload_floor: bool,
}

/// Serves the API on `listener` and runs the workers until `shutdown` completes; then stops
/// accepting, lets in-flight requests finish and stops the workers. Default limits.
pub async fn launch(
    service: Service,
    listener: TcpListener,
    workers: WorkerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    launch_with(
        service,
        listener,
        workers,
        ServeSettings::default(),
        shutdown,
    )
    .await
}

/// `launch` with the given limits.
pub async fn launch_with(
    service: Service,
    listener: TcpListener,
    workers: WorkerSettings,
    settings: ServeSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Webhooks must never be aimed back at this server.
    service
        .webhooks()
        .note_listen_address(listener.local_addr().context("listener address")?);
    let transport = Arc::new(ReqwestTransport::new(
        service.webhook_policy(),
        service.webhooks().name_lookup(),
    )?);
    let order_worker = tokio::spawn(run_order_worker(service.clone(), workers, stop_rx.clone()));
    let provisioning_worker = tokio::spawn(run_provisioning_worker(
        service.clone(),
        workers,
        stop_rx.clone(),
    ));
    let maintenance_worker = tokio::spawn(run_maintenance_worker(
        service.clone(),
        workers,
        stop_rx.clone(),
    ));
    let webhook_worker = tokio::spawn(run_webhook_worker(service.clone(), transport, stop_rx));
    let mut state = ApiState::with_limits(service, settings.limits);
    if settings.payload_floor {
        state = state.with_payload_floor();
    }
    let router = app(state);
    let served = connections::serve(listener, router, settings.connections, shutdown).await;
    let _ = stop_tx.send(true);
    let _ = order_worker.await;
    let _ = maintenance_worker.await;
    let _ = provisioning_worker.await;
    let _ = webhook_worker.await;
    served.context("serving HTTP")
}

/// Replaces the default panic output (a message, and with `RUST_BACKTRACE` a backtrace, on
/// stderr) by one log line with the place and the message. Request handlers' panics are also
/// answered 500 by the edge (`numbers_api::edge`); this keeps the log to one line each.
pub fn log_panics_in_one_line() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(%location, message, "panic");
    }));
}

/// The process's metrics recorder, installed on first use (one per process: the `metrics`
/// facade has one global recorder).
pub fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
    let mut slot = HANDLE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(handle) = slot.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .context("installing the metrics recorder")?;
    *slot = Some(handle.clone());
    Ok(handle)
}

/// Binds the metrics listener of `config` (if any) and serves it in the background; the
/// returned task is aborted when the server stops.
pub async fn spawn_metrics(
    service: &Service,
    address: Option<&str>,
) -> anyhow::Result<Option<tokio::task::JoinHandle<anyhow::Result<()>>>> {
    let Some(address) = address else {
        return Ok(None);
    };
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("binding the metrics listener {address}"))?;
    let local = listener.local_addr()?;
    service.webhooks().note_listen_address(local);
    tracing::info!(address = %local, "metrics at /metrics");
    Ok(Some(tokio::spawn(serve_metrics(
        listener,
        std::future::pending(),
    ))))
}

/// Serves the Prometheus text format at `/metrics` on its own listener (kept off the API port so
/// it can stay private), until `shutdown` completes.
pub async fn serve_metrics(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let handle = metrics_handle()?;
    let drained = handle.clone();
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4",
                    )],
                    handle.render(),
                )
            }
        }),
    );
    // Histogram samples pile up in the recorder until they are drained, which a scrape does —
    // or this, so a server nobody scrapes does not grow by every request it answers.
    let upkeep = async {
        let mut every = tokio::time::interval(METRICS_UPKEEP_EVERY);
        loop {
            every.tick().await;
            drained.run_upkeep();
        }
    };
    tokio::select! {
        served = axum::serve(listener, router).with_graceful_shutdown(shutdown) => {
            served.context("serving metrics")
        }
        () = upkeep => Ok(()),
    }
}

/// How often the metrics recorder drains its histogram samples when nobody scrapes it.
const METRICS_UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}
