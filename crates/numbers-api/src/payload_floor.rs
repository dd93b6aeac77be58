//! The benchmark's payload floor: a route that answers, from memory, bytes the benchmark stored
//! in it. `numbersd bench` compares each search class with the same response bytes served by the
//! same process under the same load, so "ratio to the floor" measures what the search costs
//! beyond rendering and sending its answer (docs/PERFORMANCE.md).
//!
//! Mounted only when `numbersd serve` is started with the hidden `--bench-payload-floor` flag
//! (the benchmark passes it): absent from the API, its OpenAPI document and its docs. The route
//! sits behind the same edge guard as every other route, but needs no credentials: it holds
//! nothing but what the benchmark put there.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;

/// Stored answers by slot name: their content type and bytes.
#[derive(Debug, Default)]
pub struct PayloadFloor {
    slots: RwLock<HashMap<String, (HeaderValue, Bytes)>>,
}

pub(crate) fn routes<S>(floor: Arc<PayloadFloor>) -> Router<S> {
    Router::new()
        .route("/__bench/payload/{slot}", put(store).get(answer))
        .with_state(floor)
}

async fn store(
    State(floor): State<Arc<PayloadFloor>>,
    Path(slot): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    // A poisoned lock only means another request panicked mid-insert; the map is still whole.
    let mut slots = floor.slots.write().unwrap_or_else(|e| e.into_inner());
    slots.insert(slot, (content_type, body));
    StatusCode::NO_CONTENT
}

async fn answer(State(floor): State<Arc<PayloadFloor>>, Path(slot): Path<String>) -> Response {
    let slots = floor.slots.read().unwrap_or_else(|e| e.into_inner());
    match slots.get(&slot) {
        Some((content_type, body)) => {
            ([(header::CONTENT_TYPE, content_type.clone())], body.clone()).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
