//! `POST /oauth2/token`: OAuth2 client credentials (RFC 6749 §4.4). The client authenticates with
//! HTTP Basic (key id : secret) — or `client_id` / `client_secret` in the form — and gets an
//! opaque bearer token valid for an hour. Errors are RFC 6749 JSON (`error`,
//! `error_description`), which Sinch's Python SDK reads.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use numbers_core::error::Error;
use serde_json::json;

use crate::ApiState;
use crate::wire::{QueryPairs, basic_credentials};

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="numbersd""#),
        );
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub async fn token(State(state): State<ApiState>, headers: HeaderMap, body: Bytes) -> Response {
    // A form body: `+` means space here (application/x-www-form-urlencoded).
    let text = String::from_utf8_lossy(&body).replace('+', " ");
    let form = QueryPairs::parse(Some(&text));
    match form.get("grant_type") {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type=client_credentials is required (form-encoded body)",
            );
        }
    }
    let credentials = basic_credentials(&headers).or_else(|| {
        Some((
            form.get("client_id")?.to_string(),
            form.get("client_secret")?.to_string(),
        ))
    });
    let Some((key_id, secret)) = credentials else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "authenticate with HTTP Basic: your key id and key secret",
        );
    };
    match state.service.issue_access_token(&key_id, &secret).await {
        Ok(issued) => {
            let mut response = Json(json!({
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in.num_seconds(),
                "scope": "",
            }))
            .into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(Error::Unauthorized) => {
            crate::edge::note_auth_failure();
            oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "unknown key id, wrong secret or revoked key",
            )
        }
        Err(Error::Forbidden(why)) => oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", &why),
        Err(e) => {
            tracing::error!(error = %e, "token issue failed");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the token could not be issued; retry later",
            )
        }
    }
}
