//! `GET /v1/available-numbers`: search the numbers on offer.

use axum::Json;
use axum::extract::State;

use super::extract::{Caller, Query};
use super::problem::ApiResult;
use super::request;
use super::search_params::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SearchCriteria, SearchPage, reject_repeats,
};
use super::views::{ListView, NumberView};
use crate::ApiState;

#[utoipa::path(
    get,
    path = "/v1/available-numbers",
    tag = "search",
    params(SearchCriteria, SearchPage),
    responses(
        (status = 200, description = "Numbers on offer, in E.164 order", body = ListView<NumberView>),
        (status = 400, description = "Invalid criteria or combination", body = super::problem::Problem),
        (status = 401, description = "Missing or wrong credentials", body = super::problem::Problem),
    ),
    security(("basic" = []))
)]
pub async fn search(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(q): Query,
) -> ApiResult<Json<ListView<NumberView>>> {
    let known = request::known2::<SearchCriteria, SearchPage>();
    q.reject_unknown(&known)?;
    let params = request::pairs_object(&q);
    if let Some(map) = params.as_object() {
        reject_repeats(map, &known, "")?;
    }
    let criteria: SearchCriteria = request::read(&params)?;
    let page: SearchPage = request::read(&params)?;
    let query = criteria
        .builder("")
        .page_size(
            page.page_size.first(),
            "page_size",
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
        )
        .page_token(page.page_token.first(), "page_token")
        .build()?;
    let page = state.service.search(principal, &query).await?;
    let now = state.service.now();
    Ok(Json(ListView::from_page(&page, |n| {
        NumberView::render(n, principal, now)
    })))
}
