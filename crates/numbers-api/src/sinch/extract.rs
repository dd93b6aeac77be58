//! Extractors of the Sinch dialect, rejecting in Sinch's error format: the calling project
//! (bearer token from `/oauth2/token` or HTTP Basic key id and secret, and the `{projectId}` of the
//! path, which must be the caller's own account), the raw query, and a JSON body that may be empty
//! (Sinch's SDKs send nothing, or `{}`, on empty POSTs, with or without a Content-Type).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use numbers_core::account::Principal;
use numbers_core::error::Error;
use numbers_core::ids::AccountId;
use numbers_core::token::TokenCheck;
use serde_json::Value;

use super::error::SinchError;
use crate::ApiState;
use crate::wire::{QueryPairs, basic_credentials};

/// The project (account) the request acts for, authenticated and matching the path.
pub struct Project(pub AccountId);

async fn principal(parts: &Parts, state: &ApiState) -> Result<Principal, SinchError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some((scheme, token)) = header.trim().split_once(' ')
        && scheme.eq_ignore_ascii_case("bearer")
    {
        // An expired token is a client that must refresh, not a failed authentication.
        let outcome = match state.service.check_access_token(token.trim()).await {
            Ok(TokenCheck::Expired) => return Err(SinchError::expired()),
            Ok(TokenCheck::Valid(principal)) => Ok(principal),
            Err(e) => Err(e),
        };
        return Ok(crate::edge::admit(outcome)?);
    }
    let (id, secret) = basic_credentials(&parts.headers).ok_or(Error::Unauthorized)?;
    let outcome = state.service.authenticate(&id, &secret).await;
    Ok(crate::edge::admit(outcome)?)
}

impl FromRequestParts<ApiState> for Project {
    type Rejection = SinchError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        let principal = principal(parts, state).await?;
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| Error::internal(format!("path parameters: {e}")))?;
        let project = raw
            .iter()
            .find(|(name, _)| *name == "project")
            .map(|(_, value)| value.to_string())
            .ok_or_else(|| Error::internal("route without a {project} segment"))?;
        // A wrong project id is 403, as Sinch answers it ("be sure your projectId … are correct").
        let denied = || {
            Error::Forbidden(format!(
                "these credentials do not belong to project {project}"
            ))
        };
        match (principal, project.parse::<AccountId>()) {
            (Principal::Account(own), Ok(asked)) if own == asked => Ok(Project(own)),
            _ => Err(denied().into()),
        }
    }
}

/// The raw query string as ordered pairs (`+` kept, repeated keys kept).
pub struct Query(pub QueryPairs);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = SinchError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Query(QueryPairs::parse(parts.uri.query())))
    }
}

/// A JSON body; an empty one reads as `{}`. The Content-Type is not checked: Sinch's SDKs send
/// `application/json` even with no body, and some clients send none at all.
pub struct Body(pub Value);

impl FromRequest<ApiState> for Body {
    type Rejection = SinchError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| Error::invalid("body", format!("could not be read: {e}")))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Body(Value::Object(Default::default())));
        }
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::invalid("body", format!("is not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(Error::invalid("body", "must be a JSON object").into());
        }
        Ok(Body(value))
    }
}
