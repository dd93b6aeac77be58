//! Sinch's error document, the one place `numbers_core::Error` becomes a Sinch wire error:
//! `{"error":{"code":<int>,"message":…,"status":"INVALID_ARGUMENT|…","details":[…]}}` with the
//! Google API status names and detail types (`BadRequest.fieldViolations`, `ResourceInfo`,
//! `PreconditionFailure`). `code` is a JSON integer (Sinch's Python SDK fails on a string).
//! Internal details are logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use numbers_core::error::{Error, Limit};
use serde_json::{Value, json};

/// A Sinch-dialect error: the domain error plus how to name a missing resource on this route.
#[derive(Debug)]
pub struct SinchError {
    pub error: Error,
    /// `ResourceInfo.resourceType` for a `NotFound` (`ActiveNumber`, `AvailableNumber`…).
    pub resource_type: Option<&'static str>,
    /// The `WWW-Authenticate` challenge of a 401.
    pub challenge: Option<&'static str>,
    /// Sinch's 413 `CONTENT_TOO_LARGE` for an upload: the resource name and the message (boxed:
    /// rare, and it keeps every `SinchResult` small).
    pub too_large: Option<Box<(String, String)>>,
}

pub type SinchResult<T> = Result<T, SinchError>;

/// A missing or unknown bearer token (or no credentials at all).
pub const CHALLENGE_INVALID: &str =
    r#"Bearer error="invalid_token", error_description="missing or unknown credentials""#;
/// The challenge that makes Sinch's SDKs fetch a new token: it must contain "expired".
pub const CHALLENGE_EXPIRED: &str =
    r#"Bearer error="invalid_token", error_description="token expired""#;

impl From<Error> for SinchError {
    fn from(error: Error) -> Self {
        SinchError {
            error,
            resource_type: None,
            challenge: None,
            too_large: None,
        }
    }
}

impl SinchError {
    pub fn expired() -> Self {
        SinchError {
            error: Error::Unauthorized,
            resource_type: None,
            challenge: Some(CHALLENGE_EXPIRED),
            too_large: None,
        }
    }

    /// An uploaded document over its size limit (Sinch answers 413 `CONTENT_TOO_LARGE`).
    pub fn too_large(resource_name: String, message: String) -> Self {
        SinchError {
            error: Error::invalid("file", message.clone()),
            resource_type: None,
            challenge: None,
            too_large: Some(Box::new((resource_name, message))),
        }
    }
}

/// Names the resource of a `NotFound` on this route.
pub trait OnResource<T> {
    fn on(self, resource_type: &'static str) -> SinchResult<T>;
}

impl<T> OnResource<T> for Result<T, Error> {
    fn on(self, resource_type: &'static str) -> SinchResult<T> {
        self.map_err(|error| SinchError {
            error,
            resource_type: Some(resource_type),
            challenge: None,
            too_large: None,
        })
    }
}

impl IntoResponse for SinchError {
    fn into_response(self) -> Response {
        let (status, name, message, details) = match (self.too_large.as_deref(), &self.error) {
            (Some((resource, message)), _) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "CONTENT_TOO_LARGE",
                message.clone(),
                vec![json!({
                    "type": "ResourceInfo",
                    "resourceName": resource,
                    "description": message,
                })],
            ),
            (None, error) => Self::parts(error, self.resource_type, self.challenge),
        };
        let body: Value = json!({"error": {
            "code": status.as_u16(),
            "message": message,
            "status": name,
            "details": details,
        }});
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(self.challenge.unwrap_or(CHALLENGE_INVALID)),
            );
        }
        crate::edge::add_retry_after(&self.error, &mut response);
        response
    }
}

impl SinchError {
    /// Status, status name, message and details of a domain error.
    fn parts(
        error: &Error,
        resource_type: Option<&'static str>,
        challenge: Option<&'static str>,
    ) -> (StatusCode, &'static str, String, Vec<Value>) {
        match error {
            Error::Validation(fields) => (
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                error.to_string(),
                vec![json!({
                    "type": "BadRequest",
                    "fieldViolations": fields
                        .iter()
                        .map(|f| json!({"field": f.field, "description": f.reason}))
                        .collect::<Vec<_>>(),
                })],
            ),
            Error::NotFound { resource, id } => (
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                error.to_string(),
                vec![json!({
                    "type": "ResourceInfo",
                    "resourceType": resource_type.unwrap_or(resource.as_str()),
                    "resourceName": id,
                    "owner": "",
                    "description": "",
                })],
            ),
            Error::Conflict { kind, message } => (
                StatusCode::BAD_REQUEST,
                "FAILED_PRECONDITION",
                message.clone(),
                vec![json!({
                    "type": "PreconditionFailure",
                    "violations": [{"type": kind.code(), "subject": "", "description": message}],
                })],
            ),
            Error::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                if challenge == Some(CHALLENGE_EXPIRED) {
                    "The access token has expired; request a new one at /oauth2/token".to_string()
                } else {
                    "Send a bearer token from /oauth2/token, or HTTP Basic with your key id and secret"
                        .to_string()
                },
                vec![],
            ),
            Error::Forbidden(why) => (
                StatusCode::FORBIDDEN,
                "PERMISSION_DENIED",
                why.clone(),
                vec![],
            ),
            // Google API status names: RESOURCE_EXHAUSTED is Sinch's own 429.
            Error::OverLimit(limit) => (
                crate::edge::status_of(*limit),
                match limit {
                    Limit::TooManyRequests { .. } => "RESOURCE_EXHAUSTED",
                    Limit::Overloaded { .. } => "UNAVAILABLE",
                    Limit::BodyTooLarge { .. } => "CONTENT_TOO_LARGE",
                    Limit::BodyTimeout => "DEADLINE_EXCEEDED",
                    Limit::SearchTooBroad => "INVALID_ARGUMENT",
                },
                limit.to_string(),
                vec![],
            ),
            Error::Unavailable(why) => {
                tracing::warn!(reason = %why, "service unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "UNAVAILABLE",
                    "The service is temporarily unavailable; retry later".to_string(),
                    vec![],
                )
            }
            Error::Internal(detail) => {
                tracing::error!(detail = %detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    "Internal error".to_string(),
                    vec![],
                )
            }
        }
    }
}
