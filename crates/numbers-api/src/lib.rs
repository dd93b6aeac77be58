//! numbers-api is the HTTP surface of numbersd: one axum router with a module per door (the
//! native JSON API today; the vendor dialects beside it). Modules translate wire requests into
//! `numbers_core::service` calls and results back into their wire format; they never touch a store
//! and hold no business rule.
#![forbid(unsafe_code)]

pub mod bandwidth;
pub mod edge;
mod health;
mod http_metrics;
mod messagemedia;
pub mod native;
mod payload_floor;
pub mod sinch;
mod wire;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use numbers_core::service::Service;

pub use edge::{Edge, EdgeLimits, Rate};

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub service: Service,
    /// The edge's limits and throttles (shared by every route).
    pub edge: Arc<Edge>,
    /// The benchmark's payload floor, when `serve --bench-payload-floor` mounted it.
    pub payload_floor: Option<Arc<payload_floor::PayloadFloor>>,
}

impl ApiState {
    /// With the default limits (docs/SECURITY.md).
    pub fn new(service: Service) -> Self {
        ApiState::with_limits(service, EdgeLimits::default())
    }

    pub fn with_limits(service: Service, limits: EdgeLimits) -> Self {
        ApiState {
            service,
            edge: Arc::new(Edge::new(limits)),
            payload_floor: None,
        }
    }

    /// Mounts the benchmark's payload floor (`payload_floor.rs`).
    pub fn with_payload_floor(mut self) -> Self {
        self.payload_floor = Some(Arc::default());
        self
    }
}

/// The whole HTTP application. Every route, the fallback included, is wrapped by the edge guard
/// (limits, throttles, catch-panic) and, outside it, the request metrics, so refusals are counted
/// under their route too. Bodies are read and limited by the guard; axum's own extractor limit
/// is set to the same value so no extractor refuses earlier.
pub fn app(state: ApiState) -> Router {
    let edge = state.edge.clone();
    let limit = edge.limits().body_limit_bytes;
    let mut router = Router::new();
    if let Some(floor) = state.payload_floor.clone() {
        router = router.merge(payload_floor::routes(floor));
    }
    router
        .merge(health::routes())
        .merge(native::routes())
        .merge(messagemedia::routes())
        .merge(bandwidth::routes())
        .merge(sinch::routes())
        .fallback(native::problem::not_found_fallback)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(edge, edge::guard))
        .layer(axum::middleware::from_fn(http_metrics::record))
        .with_state(state)
}
