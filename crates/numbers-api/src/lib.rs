//! numbers-api is the HTTP surface of numbersd: one axum router with a module per door (the
//! native JSON API today; the vendor dialects beside it). Modules translate wire requests into
//! `numbers_core::service` calls and results back into their wire format; they never touch a store
//! and hold no business rule.
#![forbid(unsafe_code)]

pub mod bandwidth;
mod health;
mod http_metrics;
mod messagemedia;
pub mod native;
pub mod sinch;
mod wire;

use std::sync::Arc;

use axum::Router;
use numbers_core::service::Service;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub service: Service,
    /// Operator-only maintenance routes run the sweeps on demand (tests, emulator use).
    pub settings: Arc<ApiSettings>,
}

#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            body_limit_bytes: 4 * 1024 * 1024,
        }
    }
}

impl ApiState {
    pub fn new(service: Service) -> Self {
        ApiState {
            service,
            settings: Arc::new(ApiSettings::default()),
        }
    }
}

/// The whole HTTP application.
pub fn app(state: ApiState) -> Router {
    let limit = state.settings.body_limit_bytes;
    Router::new()
        .merge(health::routes())
        .merge(native::routes())
        .merge(messagemedia::routes())
        .merge(bandwidth::routes())
        .merge(sinch::routes())
        .fallback(native::problem::not_found_fallback)
        .layer(axum::middleware::from_fn(http_metrics::record))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limit))
        .with_state(state)
}
