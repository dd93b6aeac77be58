//! Extractors of the native API whose rejections are problem documents too: the caller's
//! principal from HTTP Basic, the raw query, and a JSON body parsed to a `serde_json::Value`
//! (handlers then read it as their request type with `request::body`).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use numbers_core::account::Principal;
use numbers_core::error::Error;
use serde_json::Value;

use super::problem::ApiError;
use crate::ApiState;
use crate::wire::{QueryPairs, basic_credentials};

/// The authenticated caller.
pub struct Caller(pub Principal);

impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let (id, secret) =
            basic_credentials(&parts.headers).ok_or(ApiError(Error::Unauthorized))?;
        let outcome = state.service.authenticate(&id, &secret).await;
        Ok(Caller(crate::edge::admit(outcome)?))
    }
}

/// The raw query string as ordered pairs.
pub struct Query(pub QueryPairs);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Query(QueryPairs::parse(parts.uri.query())))
    }
}

/// A JSON body. An empty body reads as `{}` (several SDKs send nothing on empty POSTs).
pub struct JsonBody(pub Value);

impl FromRequest<ApiState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let content_type_ok = json_content_type(req.headers());
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError(Error::invalid("body", format!("could not be read: {e}"))))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Value::Object(Default::default())));
        }
        if !content_type_ok {
            return Err(ApiError(Error::invalid(
                "Content-Type",
                "must be application/json",
            )));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError(Error::invalid("body", format!("is not valid JSON: {e}"))))
    }
}

fn json_content_type(headers: &HeaderMap) -> bool {
    match headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(ct) => {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("application/json")
                || (ct.starts_with("application/") && ct.contains("+json"))
        }
    }
}
