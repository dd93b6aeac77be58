//! The authenticated Bandwidth account of a request, as an extractor: HTTP Basic with an
//! account's key id and secret, and — on routes under `/accounts/{account_id}` — that path
//! segment must be the same account. The handler names its error area in the type
//! (`BwAccount<area::Orders>`), so a refusal already answers in that area's envelope, and the
//! handler gets `fail` to turn the core errors of its service calls into the same envelope.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use numbers_core::error::Error;
use numbers_core::ids::AccountId;

use super::error::{BwError, InArea};
use crate::ApiState;
use crate::wire::basic_credentials;

/// The account the request acts for, authenticated (and matching the path's `{account_id}`).
pub struct BwAccount<A> {
    pub account: AccountId,
    /// The handler's error mapping: a core error in area `A`'s envelope.
    pub fail: fn(Error) -> BwError,
    area: PhantomData<A>,
}

fn fail<A: InArea>(e: Error) -> BwError {
    BwError::core(A::AREA, e)
}

impl<A: InArea> FromRequestParts<ApiState> for BwAccount<A> {
    type Rejection = BwError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ApiState,
    ) -> Result<Self, Self::Rejection> {
        // A path that does not decode cannot name the caller's account: it matches nothing.
        let path_account = match RawPathParams::from_request_parts(parts, state).await {
            Ok(raw) => raw
                .iter()
                .find(|(name, _)| *name == "account_id")
                .map(|(_, value)| value.to_string()),
            Err(_) => Some(String::new()),
        };
        let account = authorize(state, &parts.headers, path_account.as_deref())
            .await
            .map_err(fail::<A>)?;
        Ok(BwAccount {
            account,
            fail: fail::<A>,
            area: PhantomData,
        })
    }
}

/// The account the credentials belong to, which must be the one named in the path.
async fn authorize(
    state: &ApiState,
    headers: &HeaderMap,
    path_account: Option<&str>,
) -> Result<AccountId, Error> {
    let (id, secret) = basic_credentials(headers).ok_or(Error::Unauthorized)?;
    let outcome = state.service.authenticate(&id, &secret).await;
    let account = crate::edge::admit(outcome)?.account()?;
    match path_account {
        Some(p) if p.trim() != account.to_string() => Err(Error::Forbidden(
            "the credentials do not belong to this account".into(),
        )),
        _ => Ok(account),
    }
}
