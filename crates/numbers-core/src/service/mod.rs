//! The services: every business operation numbersd offers, whichever door it came in by. A
//! dialect parses its wire request into the arguments here and renders the result; the lifecycle
//! rules live here (and in the pure functions of the domain modules), never in a dialect.

mod accounts;
mod assignments;
mod callbacks;
mod catalog;
mod config;
mod counts;
mod credential_cache;
mod disconnects;
mod display_order;
mod emergency_addresses;
mod maintenance;
mod notes;
mod number_orders;
mod numbers;
mod orders;
mod provisioning;
mod reservations;
mod search;
mod search_lanes;
mod secrets;
mod sites;
mod tokens;

use std::sync::Arc;

use tokio::sync::{Notify, Semaphore};

use crate::clock::{Clock, Timestamp};
use crate::provisioning::{ImmediateSuccess, Provisioner};
use crate::store::Store;
use crate::webhook::{Registry, WebhookRuntime};

pub use config::{AgingPolicy, AgingRule, ServiceConfig};
pub use disconnects::DisconnectSubmission;
pub use display_order::DISPLAY_NAME_ORDER_LIMIT;
pub use emergency_addresses::AddressMatch;
pub use maintenance::MaintenanceReport;
pub use number_orders::{
    NumberOrderRequest, SelectionRequest, Upload, parse_quantity, parse_quantity_at_most,
};
pub use numbers::ReleaseMode;
pub use orders::OrderSubmission;
pub use search::MAX_IMPORT_BATCH;
pub use secrets::ResealReport;

/// At most this many orders are fulfilled concurrently right after their submission; beyond it
/// they wait for the order worker. (On SQLite they queue for the one writer anyway; the bound
/// keeps a burst of submissions from becoming a burst of tasks.)
const IMMEDIATE_FULFILMENTS: usize = 64;

/// The one entry point to the domain. Cheap to clone (everything behind `Arc`).
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: Arc<ServiceConfig>,
    /// Wakes the order worker when an order arrives.
    orders_waiting: Arc<Notify>,
    /// Orders being fulfilled right after submission (`submit_order`), bounded.
    immediate_fulfilments: Arc<Semaphore>,
    /// Wakes the backorder retry when inventory may have grown.
    inventory_changed: Arc<Notify>,
    /// The operator's provisioning hook (built-in: immediate success).
    provisioner: Arc<dyn Provisioner>,
    /// Wakes the provisioning worker when a task is scheduled.
    provisioning_waiting: Arc<Notify>,
    /// Webhook formats and resolvers registered at start-up (`with_webhook_registry`).
    webhooks: Arc<WebhookRuntime>,
    /// Keys verified a moment ago (`credential_cache`).
    credentials: Arc<credential_cache::CredentialCache>,
    /// The thorough lane for expensive searches (`search_lanes`).
    search_lanes: Arc<search_lanes::SearchLanes>,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: ServiceConfig) -> Self {
        Service {
            store,
            clock,
            config: Arc::new(config),
            orders_waiting: Arc::new(Notify::new()),
            immediate_fulfilments: Arc::new(Semaphore::new(IMMEDIATE_FULFILMENTS)),
            inventory_changed: Arc::new(Notify::new()),
            provisioner: Arc::new(ImmediateSuccess),
            provisioning_waiting: Arc::new(Notify::new()),
            webhooks: Arc::new(WebhookRuntime::default()),
            credentials: Arc::default(),
            search_lanes: Arc::default(),
        }
    }

    /// Replaces the built-in provisioning hook (immediate success) with the operator's.
    pub fn with_provisioner(mut self, provisioner: Arc<dyn Provisioner>) -> Self {
        self.provisioner = provisioner;
        self
    }

    /// The webhook formats and target resolvers this process serves.
    pub fn with_webhook_registry(mut self, registry: Registry) -> Self {
        self.webhooks = Arc::new(WebhookRuntime::new(registry));
        self
    }

    pub fn webhooks(&self) -> &Arc<WebhookRuntime> {
        &self.webhooks
    }

    pub fn now(&self) -> Timestamp {
        crate::clock::truncate_to_millis(self.clock.now())
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn orders_waiting(&self) -> &Arc<Notify> {
        &self.orders_waiting
    }

    pub fn inventory_changed(&self) -> &Arc<Notify> {
        &self.inventory_changed
    }

    pub fn provisioning_waiting(&self) -> &Arc<Notify> {
        &self.provisioning_waiting
    }

    pub async fn ready(&self) -> crate::Result<()> {
        self.store.ping().await
    }
}
