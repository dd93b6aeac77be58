//! `GET /accounts/{id}/availableNpaNxx`: how many numbers are on offer per NPA-NXX of an area
//! code or state, in Bandwidth's `<SearchResultForAvailableNpaNxx>`. It is the core search
//! (the same one `availableNumbers` runs, at its largest page) grouped by exchange.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use numbers_core::account::Principal;
use numbers_core::error::FieldErrors;
use numbers_core::number::NumberType;
use numbers_core::search::SearchQuery;

use super::available::MAX_QUANTITY;
use super::error::BwResult;
use super::xml::El;
use super::{BwAccount, area, tn, xml};
use crate::ApiState;
use crate::wire::QueryPairs;

/// One exchange: its count and the city and state of its first number.
struct Exchange {
    count: usize,
    city: Option<String>,
    state: Option<String>,
}

pub async fn search(
    State(state): State<ApiState>,
    BwAccount {
        account: caller,
        fail,
        ..
    }: BwAccount<area::Search>,
    RawQuery(raw): RawQuery,
) -> BwResult<Response> {
    let q = QueryPairs::parse(raw.as_deref());
    q.reject_unknown(&["areaCode", "state", "quantity"])
        .map_err(fail)?;
    let mut errors = FieldErrors::new();
    let has = |name| q.get(name).is_some_and(|v| !v.trim().is_empty());
    if !has("areaCode") && !has("state") {
        errors.push("search", "availableNpaNxx needs areaCode or state");
    }
    // `quantity` bounds the exchanges listed (at most 5000, all by default).
    let limit = match q.get("quantity").map(str::trim) {
        None | Some("") => MAX_QUANTITY as usize,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_QUANTITY as usize).contains(&n) => n,
            _ => {
                errors.push("quantity", "must be from 1 to 5000");
                0
            }
        },
    };
    errors.into_result().map_err(fail)?;
    let query = SearchQuery::builder()
        .country(Some("US"), "country")
        .types(vec![NumberType::Local], "type")
        .npa(q.get("areaCode"), "areaCode")
        .state(q.get("state"), "state")
        .page_size(None, "quantity", MAX_QUANTITY, MAX_QUANTITY)
        .build()
        .map_err(fail)?;
    let page = state
        .service
        .search(Principal::Account(caller), &query)
        .await
        .map_err(fail)?;
    let mut exchanges: BTreeMap<String, Exchange> = BTreeMap::new();
    for n in &page.items {
        let digits = tn(&n.e164);
        if digits.len() != 10 {
            continue;
        }
        let e = exchanges
            .entry(digits[..6].to_string())
            .or_insert_with(|| Exchange {
                count: 0,
                city: n.location.city.clone(),
                state: n.location.state.clone(),
            });
        e.count += 1;
    }
    let list = El::new("AvailableNpaNxxList").children(exchanges.iter().take(limit).map(
        |(npa_nxx, e)| {
            El::new("AvailableNpaNxx")
                .opt("City", e.city.as_deref())
                .leaf_child("Npa", &npa_nxx[..3])
                .leaf_child("Nxx", &npa_nxx[3..])
                .leaf_child("Quantity", e.count)
                .opt("State", e.state.as_deref())
        },
    ));
    Ok(xml(
        StatusCode::OK,
        &El::new("SearchResultForAvailableNpaNxx").child(list),
    ))
}
