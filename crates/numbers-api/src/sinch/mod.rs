//! The Sinch dialect: Sinch's Numbers API v1 under `/v1/projects/{projectId}/…` (project id =
//! account id) and its OAuth2 token endpoint, so Sinch's official SDKs work unchanged. Handlers
//! only translate Sinch's wire habits — `+` raw or `%2B` in paths, `{phoneNumber}:verb` split on
//! the last colon, list parameters repeated or comma-joined, empty POST bodies — into
//! `numbers_core::service` calls and render Sinch's documents; errors take Sinch's format in
//! `error`. See docs/SINCH.md for the endpoint table and every difference from Sinch.

mod active;
mod available;
pub mod callback_format;
mod callbacks;
mod emergency;
mod error;
mod extract;
mod number_orders;
mod oauth;
mod views;
mod wire;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::ApiState;

pub use callback_format::{SinchCallbackTargets, SinchRenderer};
pub use error::SinchError;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/oauth2/token", post(oauth::token))
        .route(
            "/v1/projects/{project}/availableRegions",
            get(available::regions),
        )
        .route(
            "/v1/projects/{project}/availableNumbers",
            get(available::search),
        )
        .route(
            "/v1/projects/{project}/availableNumbers:rentAny",
            post(available::rent_any),
        )
        // One segment holds `{phoneNumber}` or `{phoneNumber}:verb`; handlers split it.
        .route(
            "/v1/projects/{project}/availableNumbers/{number}",
            get(available::check).post(available::rent),
        )
        .route("/v1/projects/{project}/activeNumbers", get(active::list))
        .route(
            "/v1/projects/{project}/activeNumbers/{number}",
            get(active::get).patch(active::update).post(active::release),
        )
        // `emergencyAddress` or `emergencyAddress:verb`; the handlers split it.
        .route(
            "/v1/projects/{project}/activeNumbers/{number}/{sub}",
            get(emergency::get).post(emergency::post),
        )
        .route(
            "/v1/projects/{project}/callbackConfiguration",
            get(callbacks::get).patch(callbacks::update),
        )
        .route(
            "/v1/projects/{project}/numberOrders:lookupNumberRequirements",
            post(number_orders::lookup_requirements),
        )
        .route(
            "/v1/projects/{project}/numberOrders:createNumberOrder",
            post(number_orders::create),
        )
        .route(
            "/v1/projects/{project}/numberOrders/{id}",
            get(number_orders::get),
        )
        .route(
            "/v1/projects/{project}/numberOrders/{id}/registration",
            get(number_orders::get_registration).put(number_orders::update_registration),
        )
        .route(
            "/v1/projects/{project}/numberOrders/{id}/attachments/{attachment}",
            // The server-wide body limit governs uploads, not axum's smaller multipart default.
            post(number_orders::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/projects/{project}/numberOrders/{id}/submit",
            post(number_orders::submit),
        )
}
