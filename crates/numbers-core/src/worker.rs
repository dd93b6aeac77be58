//! The background loops of a server process: order fulfilment (woken at once when an order
//! arrives, polling as a fallback so orders submitted by other processes are found too), and the
//! periodic maintenance pass (reservation expiry, aging, backorder retry), and provisioning
//! (configuration changes through the operator's hook). They stop when
//! `shutdown` flips to true.

use std::time::Duration;

use tokio::sync::watch;

use crate::service::Service;

#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    pub order_poll: Duration,
    pub maintenance_every: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            order_poll: Duration::from_millis(250),
            maintenance_every: Duration::from_secs(1),
        }
    }
}

pub async fn run_order_worker(
    service: Service,
    settings: WorkerSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    let waiting = service.orders_waiting().clone();
    while !*shutdown.borrow() {
        loop {
            match service.process_next_order().await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "order worker step failed");
                    break;
                }
            }
        }
        // Disconnect orders share the wake-up: both are "a client is waiting on a RECEIVED job".
        loop {
            match service.process_next_disconnect().await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "disconnect worker step failed");
                    break;
                }
            }
        }
        tokio::select! {
            _ = waiting.notified() => {}
            _ = tokio::time::sleep(settings.order_poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}

pub async fn run_maintenance_worker(
    service: Service,
    settings: WorkerSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    let inventory_changed = service.inventory_changed().clone();
    while !*shutdown.borrow() {
        if let Err(e) = service.run_maintenance().await {
            tracing::warn!(error = %e, "maintenance pass failed");
        }
        tokio::select! {
            _ = inventory_changed.notified() => {}
            _ = tokio::time::sleep(settings.maintenance_every) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Runs provisioning tasks as they are scheduled (polling as a fallback, for tasks scheduled by
/// other processes and for leases that ran out).
pub async fn run_provisioning_worker(
    service: Service,
    settings: WorkerSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    let waiting = service.provisioning_waiting().clone();
    while !*shutdown.borrow() {
        loop {
            match service.process_next_provisioning().await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "provisioning worker step failed");
                    break;
                }
            }
        }
        tokio::select! {
            _ = waiting.notified() => {}
            _ = tokio::time::sleep(settings.order_poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}
