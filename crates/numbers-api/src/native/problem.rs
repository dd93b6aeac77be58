//! Errors of the native API as RFC 9457 problem documents (`application/problem+json`): a stable
//! `type`, a `title`, the HTTP `status`, a human `detail`, and for validation failures the list of
//! `errors` naming each field and its reason. Internal details are logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use numbers_core::error::{Error, FieldError, Resource};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:numbersd:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Machine-readable code for conflicts (e.g. `NUMBERS_UNAVAILABLE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Each invalid field and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<ProblemField>)]
    pub errors: Vec<FieldError>,
}

/// One invalid field of a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub reason: String,
}

/// A native-API error: wraps the domain error so handlers can `?` freely.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn problem(&self) -> (StatusCode, Problem) {
        let p = |status: StatusCode, kind: &str, title: &str, detail: String| {
            (
                status,
                Problem {
                    kind: format!("urn:numbersd:problem:{kind}"),
                    title: title.to_string(),
                    status: status.as_u16(),
                    detail,
                    code: None,
                    errors: Vec::new(),
                },
            )
        };
        match &self.0 {
            Error::Validation(errors) => {
                let (status, mut problem) = p(StatusCode::BAD_REQUEST, "validation", "Invalid request", self.0.to_string());
                problem.errors = errors.clone();
                (status, problem)
            }
            Error::NotFound { .. } => p(StatusCode::NOT_FOUND, "not-found", "Not found", self.0.to_string()),
            Error::Conflict { kind, message } => {
                let (status, mut problem) = p(StatusCode::CONFLICT, "conflict", "Conflict", message.clone());
                problem.code = Some(kind.code().to_string());
                (status, problem)
            }
            Error::Unauthorized => p(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
                "send HTTP Basic credentials: your key id as the user name and its secret as the password".into(),
            ),
            Error::Forbidden(reason) => p(StatusCode::FORBIDDEN, "forbidden", "Forbidden", reason.clone()),
            Error::OverLimit(limit) => p(
                crate::edge::status_of(*limit),
                crate::edge::problem_kind(*limit),
                crate::edge::title(*limit),
                limit.to_string(),
            ),
            Error::Unavailable(reason) => {
                tracing::warn!(%reason, "service unavailable");
                p(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable", "try again shortly".into())
            }
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                p(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error", "an internal error occurred; it was logged".into())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, problem) = self.problem();
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"numbersd\""),
            );
        }
        crate::edge::add_retry_after(&self.0, &mut response);
        response
    }
}

pub async fn not_found_fallback() -> ApiError {
    ApiError(Error::NotFound {
        resource: Resource::Route,
        id: "(no such path)".into(),
    })
}
