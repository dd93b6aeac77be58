//! `GET /v1/messaging/numbers/dedicated` (GetNumbers: search of available numbers) and
//! `GET /v1/messaging/numbers/dedicated/{id}` (GetNumberById).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use numbers_core::account::Principal;
use numbers_core::error::{Error, Resource};
use numbers_core::ids::NumberId;

use super::auth::Authed;
use super::error::MmResult;
use super::params::criteria;
use super::views::{DedicatedNumber, ListResponse};
use crate::ApiState;
use crate::wire::QueryPairs;

/// A path id that is no UUID names no number: not found, like any other unknown id.
pub fn number_id(raw: &str) -> Result<NumberId, Error> {
    raw.parse()
        .map_err(|_| Error::not_found(Resource::Number, raw))
}

pub async fn search(
    State(state): State<ApiState>,
    uri: Uri,
    caller: Authed,
) -> MmResult<Json<ListResponse<DedicatedNumber>>> {
    let q = QueryPairs::parse(uri.query());
    let query = criteria(&q, &["types"])?;
    let page = state
        .service
        .search(Principal::Account(caller.account), &query)
        .await?;
    Ok(Json(ListResponse::from_page(page, DedicatedNumber::render)))
}

pub async fn get(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    caller: Authed,
) -> MmResult<Json<DedicatedNumber>> {
    let number = state
        .service
        .number_by_id(Principal::Account(caller.account), number_id(&id)?)
        .await?;
    Ok(Json(DedicatedNumber::render(&number)))
}
