//! The MessageMedia dialect: dedicated numbers under `/v1/messaging/numbers/dedicated` — search
//! of available numbers, numbers by their stable id, the account's assignment of a number (create,
//! read, update label and metadata, delete into aging) and the list of assigned numbers — in
//! MessageMedia's JSON shapes and `{"message": …}` error envelopes, authenticated by HTTP Basic or
//! MessageMedia's HMAC signature. Every route exists with and without a trailing slash (the
//! vendor's SDKs use both). The module only translates; `docs/MESSAGEMEDIA.md` lists every
//! parameter and every difference from the vendor.

mod assignments;
mod auth;
mod error;
mod numbers;
mod params;
mod views;

use axum::Router;
use axum::routing::{MethodRouter, get};

use crate::ApiState;

pub(crate) use error::MmError;

const BASE: &str = "/v1/messaging/numbers/dedicated";

pub fn routes() -> Router<ApiState> {
    let routes: [(String, MethodRouter<ApiState>); 4] = [
        (BASE.to_string(), get(numbers::search)),
        (format!("{BASE}/assignments"), get(assignments::list)),
        (format!("{BASE}/{{id}}"), get(numbers::get)),
        (
            format!("{BASE}/{{id}}/assignment"),
            get(assignments::get)
                .post(assignments::create)
                .patch(assignments::update)
                .delete(assignments::delete),
        ),
    ];
    routes
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router
                .route(&format!("{path}/"), handler.clone())
                .route(&path, handler)
        })
}
