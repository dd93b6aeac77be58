//! `GET /v1/available-numbers`: search the numbers on offer.

use axum::Json;
use axum::extract::State;
use utoipa::IntoParams;

use super::extract::{Caller, Query};
use super::problem::ApiResult;
use super::search_params::{CRITERIA, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, criteria, reject_repeats};
use super::views::{ListView, NumberView};
use crate::ApiState;

/// Search criteria. Lists (`type`, `capabilities`) may be repeated or comma-separated.
/// Patterns take digits or keypad letters (`CAFE` = 2233); a leading `+` on `starts_with` means
/// the digits include the country code, otherwise they match the national number.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// ISO 3166-1 alpha-2, e.g. US, AU.
    country: Option<String>,
    /// MOBILE, LOCAL, TOLL_FREE, SHORT_CODE (any of).
    #[param(rename = "type")]
    number_type: Option<Vec<String>>,
    /// SMS, MMS, VOICE, FAX, TTS (all of).
    capabilities: Option<Vec<String>>,
    starts_with: Option<String>,
    contains: Option<String>,
    ends_with: Option<String>,
    /// NANP area code, e.g. 206.
    npa: Option<String>,
    /// e.g. 206555.
    npa_nxx: Option<String>,
    /// e.g. 2065551.
    npa_nxx_x: Option<String>,
    /// Rate center abbreviation; requires state.
    rate_center: Option<String>,
    state: Option<String>,
    /// Requires state.
    city: Option<String>,
    zip: Option<String>,
    lata: Option<String>,
    /// Toll-free NPA with wildcards: 8**, 87*, 800.
    toll_free_pattern: Option<String>,
    /// GOLD, SILVER, BRONZE.
    classification: Option<String>,
    /// 1 to 1000, default 50.
    page_size: Option<u32>,
    /// `next_page_token` of the previous page.
    page_token: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/available-numbers",
    tag = "search",
    params(SearchParams),
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
    let known: Vec<&str> = CRITERIA
        .iter()
        .copied()
        .chain(["page_size", "page_token"])
        .collect();
    q.reject_unknown(&known)?;
    reject_repeats(&q, &known, "")?;
    let query = criteria(&q, "")
        .page_size(
            q.get("page_size"),
            "page_size",
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
        )
        .page_token(q.get("page_token"), "page_token")
        .build()?;
    let page = state.service.search(principal, &query).await?;
    let now = state.service.now();
    Ok(Json(ListView::from_page(&page, |n| {
        NumberView::render(n, principal, now)
    })))
}
