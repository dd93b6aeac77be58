//! The native JSON API under `/v1`, documented by the OpenAPI document at `/openapi.json` and the
//! reference page at `/docs`. Authentication is HTTP Basic with an API key id and secret.

mod available;
mod extract;
mod number_orders;
mod numbers;
mod openapi;
mod operator;
mod orders;
pub mod problem;
mod request;
mod reservations;
mod search_params;
pub mod views;
pub mod webhook_format;
mod webhooks;

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::ApiState;

pub use openapi::ApiDoc;

pub fn routes() -> Router<ApiState> {
    Router::new()
        .route("/v1/available-numbers", get(available::search))
        .route("/v1/reservations", post(reservations::create))
        .route(
            "/v1/reservations/{id}",
            get(reservations::get).delete(reservations::release),
        )
        .route("/v1/orders", post(orders::create).get(orders::list))
        .route("/v1/orders/{id}", get(orders::get))
        .route("/v1/orders/{id}/close", post(orders::close))
        .route("/v1/numbers", get(numbers::list))
        .route(
            "/v1/numbers/{e164}",
            get(numbers::get).patch(numbers::update),
        )
        .route("/v1/numbers/{e164}/release", post(numbers::release))
        .route("/v1/numbers/{e164}/history", get(numbers::history))
        .route("/v1/events", get(numbers::events))
        .route("/v1/webhooks", post(webhooks::create).get(webhooks::list))
        .route(
            "/v1/webhooks/{id}",
            get(webhooks::get)
                .patch(webhooks::update)
                .delete(webhooks::delete),
        )
        .route(
            "/v1/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route("/v1/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/v1/webhooks/{id}/redeliver", post(webhooks::redeliver))
        .route("/v1/webhooks/{id}/replay", post(webhooks::replay))
        .route(
            "/v1/operator/accounts",
            post(operator::create_account).get(operator::list_accounts),
        )
        .route("/v1/operator/accounts/{id}", get(operator::get_account))
        .route(
            "/v1/operator/accounts/{id}/keys",
            post(operator::create_key).get(operator::list_keys),
        )
        .route("/v1/operator/keys/{key_id}", delete(operator::revoke_key))
        .route("/v1/operator/inventory", post(operator::import))
        .route("/v1/operator/inventory/stats", get(operator::stats))
        .route("/v1/operator/maintenance", post(operator::maintenance))
        .merge(number_order_routes())
        .route("/openapi.json", get(openapi::document))
        .route("/docs", get(openapi::reference_page))
}

fn number_order_routes() -> Router<ApiState> {
    Router::new()
        .route(
            "/v1/number-requirements/{region}/{type}",
            get(number_orders::requirements),
        )
        .route("/v1/number-orders", post(number_orders::create))
        .route("/v1/number-orders/{id}", get(number_orders::get))
        .route(
            "/v1/number-orders/{id}/registration",
            put(number_orders::update_registration),
        )
        .route(
            "/v1/number-orders/{id}/attachments/{attachment_id}",
            post(number_orders::upload),
        )
        .route("/v1/number-orders/{id}/submit", post(number_orders::submit))
        .route(
            "/v1/operator/number-requirements/{region}/{type}",
            get(number_orders::get_requirements).put(number_orders::put_requirements),
        )
        .route("/v1/operator/number-orders", get(number_orders::list))
        .route(
            "/v1/operator/number-orders/{id}",
            get(number_orders::operator_get),
        )
        .route(
            "/v1/operator/number-orders/{id}/attachments/{attachment_id}",
            get(number_orders::download),
        )
        .route(
            "/v1/operator/number-orders/{id}/approve",
            post(number_orders::approve),
        )
        .route(
            "/v1/operator/number-orders/{id}/reject",
            post(number_orders::reject),
        )
        .route(
            "/v1/operator/number-orders/{id}/block",
            post(number_orders::block),
        )
}
