//! MessageMedia's error envelopes, in one place: `{"message": …}` for 401/403/404/409 (and the
//! 5xx answers), `{"message": …, "details": [...]}` for 400. Wrong credentials answer 403
//! "Invalid authentication credentials" as the vendor does; missing or unusable credentials 401
//! with the reason.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use numbers_core::error::Error;
use numbers_core::signature::SignatureRefusal;
use serde_json::json;

#[derive(Debug)]
pub enum MmError {
    Core(Error),
    /// No credentials, or credentials in no scheme this dialect knows.
    Unauthenticated(String),
    Signature(SignatureRefusal),
    /// The body is not JSON (or not an object).
    Unparseable(String),
}

impl From<Error> for MmError {
    fn from(e: Error) -> Self {
        MmError::Core(e)
    }
}

pub type MmResult<T> = Result<T, MmError>;

const BAD_CREDENTIALS: &str = "Invalid authentication credentials";

impl IntoResponse for MmError {
    fn into_response(self) -> Response {
        let message = |status: StatusCode, text: String| (status, Json(json!({ "message": text })));
        let mut retry_after = None;
        let (status, body) = match self {
            MmError::Core(Error::Validation(errors)) => (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "message": "Request failed validation",
                    "details": errors.iter().map(|e| format!("{}: {}", e.field, e.reason)).collect::<Vec<_>>(),
                })),
            ),
            MmError::Unparseable(detail) => (
                StatusCode::BAD_REQUEST,
                Json(json!({
                    "message": "Request failed to parse correctly",
                    "details": ["Failed to parse message body.", detail],
                })),
            ),
            MmError::Core(e @ Error::NotFound { .. }) => {
                message(StatusCode::NOT_FOUND, e.to_string())
            }
            MmError::Core(Error::Conflict { message: text, .. }) => {
                message(StatusCode::CONFLICT, text)
            }
            MmError::Core(Error::Unauthorized)
            | MmError::Signature(SignatureRefusal::BadCredentials) => {
                message(StatusCode::FORBIDDEN, BAD_CREDENTIALS.into())
            }
            MmError::Core(Error::Forbidden(reason)) => message(StatusCode::FORBIDDEN, reason),
            MmError::Signature(refusal) => message(StatusCode::UNAUTHORIZED, refusal.message()),
            MmError::Unauthenticated(reason) => message(StatusCode::UNAUTHORIZED, reason),
            MmError::Core(Error::OverLimit(limit)) => {
                retry_after = limit.retry_after_seconds();
                message(crate::edge::status_of(limit), limit.to_string())
            }
            MmError::Core(Error::Unavailable(reason)) => {
                tracing::warn!(%reason, "service unavailable");
                message(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service unavailable; try again shortly".into(),
                )
            }
            MmError::Core(Error::Internal(detail)) => {
                tracing::error!(%detail, "internal error");
                message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "An internal error occurred; it was logged".into(),
                )
            }
        };
        let mut response = (status, body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"numbersd\", hmac"),
            );
        }
        crate::edge::set_retry_after(retry_after, &mut response);
        response
    }
}
