//! Who is calling, from HTTP Basic (key id and secret) or MessageMedia's HMAC signature. The
//! extractor reads the body too, because a signature covers its digest; handlers get the account
//! and the body bytes together. The scheme itself (freshness, digest, signing string, comparison)
//! is `numbers_core::signature`; this only gathers the request's parts for it.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::AUTHORIZATION;
use numbers_core::ids::AccountId;
use numbers_core::signature::{HmacAuthorization, SignatureRefusal, SignedRequest};
use serde_json::Value;

use super::error::MmError;
use crate::ApiState;
use crate::wire::basic_credentials;

/// An authenticated tenant request and its body.
pub struct Authed {
    pub account: AccountId,
    pub body: Bytes,
}

impl FromRequest<ApiState> for Authed {
    type Rejection = MmError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, state.edge.limits().body_limit_bytes)
            .await
            .map_err(|e| MmError::Unparseable(format!("the body could not be read: {e}")))?;
        let authorization = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let principal = match authorization {
            Some(value)
                if value
                    .get(..5)
                    .is_some_and(|s| s.eq_ignore_ascii_case("hmac ")) =>
            {
                let authorization = HmacAuthorization::parse(value).map_err(MmError::Signature)?;
                let request = SignedRequest {
                    authorization,
                    method: parts.method.as_str(),
                    path_and_query: parts
                        .uri
                        .path_and_query()
                        .map_or(parts.uri.path(), |p| p.as_str()),
                    headers: parts
                        .headers
                        .iter()
                        .filter_map(|(name, value)| {
                            Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
                        })
                        .collect(),
                    body: &body,
                };
                match state.service.authenticate_signed(&request).await? {
                    Ok(principal) => crate::edge::admit(Ok(principal))?,
                    Err(refusal) => {
                        if refusal == SignatureRefusal::BadCredentials {
                            crate::edge::note_auth_failure();
                        }
                        return Err(MmError::Signature(refusal));
                    }
                }
            }
            _ => {
                let (id, secret) = basic_credentials(&parts.headers).ok_or_else(|| {
                    MmError::Unauthenticated(
                        "send HTTP Basic credentials (API key and secret) or an hmac Authorization header".into(),
                    )
                })?;
                let outcome = state.service.authenticate(&id, &secret).await;
                crate::edge::admit(outcome)?
            }
        };
        Ok(Authed {
            account: principal.account()?,
            body,
        })
    }
}

impl Authed {
    /// The body as a JSON object; an empty body reads as `{}`.
    pub fn json_object(&self) -> Result<serde_json::Map<String, Value>, MmError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Map::new());
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(MmError::Unparseable(
                "the body must be a JSON object".into(),
            )),
            Err(e) => Err(MmError::Unparseable(format!("invalid JSON: {e}"))),
        }
    }
}
