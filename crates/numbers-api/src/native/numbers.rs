//! `/v1/numbers`: the caller's own numbers — list, read, update, release, history — and
//! `/v1/events` for catching up on everything that happened to the account.

use axum::Json;
use axum::extract::{Path, State};
use numbers_core::account::Principal;
use numbers_core::error::{Error, FieldErrorKind, FieldErrors, Result};
use numbers_core::number::E164;
use numbers_core::number::assignment::{AssignmentPatch, parse_display_name};
use numbers_core::search::{CapabilityMatch, PatternPosition, SearchQuery};
use numbers_core::service::ReleaseMode;
use numbers_core::store::NumberFilter;
use serde_json::Value;

use super::extract::{Caller, JsonBody, Query};
use super::orders::{parse_label, parse_metadata};
use super::problem::ApiResult;
use super::search_params::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use super::views::{EventView, ListView, NumberView};
use crate::ApiState;
use crate::wire::{Field, JsonObject};

pub(super) fn page_size(raw: Option<&str>) -> Result<u32> {
    match raw {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
            _ => Err(Error::invalid(
                "page_size",
                format!("must be an integer from 1 to {MAX_PAGE_SIZE}"),
            )),
        },
    }
}

fn e164_path(raw: &str) -> Result<E164> {
    E164::parse(raw).map_err(|_| {
        Error::invalid(
            "e164",
            format!("'{raw}' is not an E.164 number (e.g. +14155550123)"),
        )
    })
}

#[utoipa::path(
    get, path = "/v1/numbers", tag = "numbers",
    params(
        ("label" = Option<String>, Query, description = "Exact label"),
        ("metadata_key" = Option<String>, Query, description = "With metadata_value: numbers whose metadata has this pair"),
        ("metadata_value" = Option<String>, Query),
        ("display_name" = Option<String>, Query),
        ("country" = Option<String>, Query),
        ("type" = Option<String>, Query, description = "Comma-separated types"),
        ("capabilities" = Option<String>, Query, description = "Comma-separated; all of"),
        ("starts_with" = Option<String>, Query), ("contains" = Option<String>, Query), ("ends_with" = Option<String>, Query),
        ("classification" = Option<String>, Query),
        ("page_size" = Option<u32>, Query), ("page_token" = Option<String>, Query),
    ),
    responses((status = 200, body = ListView<NumberView>), (status = 400, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(q): Query,
) -> ApiResult<Json<ListView<NumberView>>> {
    let account = principal.account()?;
    q.reject_unknown(&[
        "label",
        "metadata_key",
        "metadata_value",
        "display_name",
        "country",
        "type",
        "capabilities",
        "starts_with",
        "contains",
        "ends_with",
        "classification",
        "page_size",
        "page_token",
    ])?;
    // The search builder parses the shared facets with the same rules as search.
    let criteria = SearchQuery::builder()
        .country(q.get("country"), "country")
        .type_values(q.all("type"), "type")
        .capability_values(
            q.all("capabilities"),
            CapabilityMatch::AllOf,
            "capabilities",
        )
        .pattern(
            PatternPosition::StartsWith,
            q.get("starts_with"),
            "starts_with",
        )
        .pattern(PatternPosition::Contains, q.get("contains"), "contains")
        .pattern(PatternPosition::EndsWith, q.get("ends_with"), "ends_with")
        .classification(q.get("classification"), "classification")
        .page_size(
            q.get("page_size"),
            "page_size",
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
        )
        .page_token(q.get("page_token"), "page_token");
    let mut errors = FieldErrors::new();
    let metadata = match (q.get("metadata_key"), q.get("metadata_value")) {
        (Some(k), Some(v)) => Some((k.to_string(), v.to_string())),
        (None, None) => None,
        (Some(_), None) => {
            errors.push_as(
                FieldErrorKind::Required,
                "metadata_value",
                "is required with metadata_key",
            );
            None
        }
        (None, Some(_)) => {
            errors.push_as(
                FieldErrorKind::Required,
                "metadata_key",
                "is required with metadata_value",
            );
            None
        }
    };
    let query = errors.take(criteria.build());
    errors.into_result()?;
    let query = query.ok_or_else(|| Error::internal("search criteria missing after validation"))?;
    let filter = NumberFilter {
        label: q.get("label").map(str::to_string),
        metadata,
        country: query.country,
        types: query.types,
        capabilities: query.capabilities,
        pattern: query.pattern,
        display_name: q.get("display_name").map(str::to_string),
        number_id: None,
        classification: query.classification,
        page_size: query.page_size,
        after: query.after,
    };
    let page = state.service.list_numbers(account, &filter).await?;
    let now = state.service.now();
    Ok(Json(ListView::from_page(&page, |n| {
        NumberView::render(n, principal, now)
    })))
}

#[utoipa::path(
    get, path = "/v1/numbers/{e164}", tag = "numbers",
    params(("e164" = String, Path, description = "E.164 number, e.g. +14155550123 (or %2B14155550123)")),
    responses((status = 200, body = NumberView), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn get(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<NumberView>> {
    let e164 = e164_path(&raw)?;
    let number = match principal {
        Principal::Operator => state.service.number_by_e164(principal, &e164).await?,
        Principal::Account(account) => state.service.owned_number(account, &e164).await?,
    };
    Ok(Json(NumberView::render(
        &number,
        principal,
        state.service.now(),
    )))
}

/// Body of `PATCH /v1/numbers/{e164}`: an absent field is left alone, `null` clears it.
#[allow(dead_code)]
#[derive(utoipa::ToSchema)]
pub struct UpdateNumber {
    label: Option<String>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Value>,
    display_name: Option<String>,
    callback_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    sms_configuration: Option<Value>,
    #[schema(value_type = Option<Object>)]
    voice_configuration: Option<Value>,
}

fn optional_object(obj: &mut JsonObject<'_>, field: &str) -> Option<Option<Value>> {
    match obj.field(field) {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Present(v) if v.is_object() => Some(Some(v.clone())),
        Field::Present(_) => {
            let name = obj.name(field);
            obj.errors.push(name, "must be an object or null");
            None
        }
    }
}

fn optional_text(
    obj: &mut JsonObject<'_>,
    field: &str,
    parse: impl Fn(&str, &str) -> Result<String>,
) -> Option<Option<String>> {
    match obj.field(field) {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Present(Value::String(s)) => {
            let name = obj.name(field);
            obj.errors.take(parse(s, &name)).map(Some)
        }
        Field::Present(_) => {
            let name = obj.name(field);
            obj.errors.push(name, "must be a string or null");
            None
        }
    }
}

#[utoipa::path(
    patch, path = "/v1/numbers/{e164}", tag = "numbers",
    params(("e164" = String, Path)),
    request_body = UpdateNumber,
    responses((status = 200, body = NumberView), (status = 400, body = super::problem::Problem), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn update(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<NumberView>> {
    let account = principal.account()?;
    let e164 = e164_path(&raw)?;
    let mut obj = JsonObject::new(&body, "")?;
    obj.reject_unknown(&[
        "label",
        "metadata",
        "display_name",
        "callback_url",
        "sms_configuration",
        "voice_configuration",
    ]);
    let label = match obj.field("label") {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Present(_) => parse_label(&mut obj, "label").map(Some),
    };
    let metadata = match obj.field("metadata") {
        Field::Absent => None,
        Field::Null => Some(Default::default()),
        Field::Present(_) => parse_metadata(&mut obj, "metadata"),
    };
    let patch = AssignmentPatch {
        label,
        metadata,
        display_name: optional_text(&mut obj, "display_name", parse_display_name),
        callback_url: optional_text(&mut obj, "callback_url", |url, field| {
            state.service.callback_url(url, field)
        }),
        sms_configuration: optional_object(&mut obj, "sms_configuration"),
        voice_configuration: optional_object(&mut obj, "voice_configuration"),
        site_id: None,
        peer_id: None,
        tn_attributes: None,
    };
    obj.finish()?;
    let number = state.service.update_number(account, &e164, &patch).await?;
    Ok(Json(NumberView::render(
        &number,
        principal,
        state.service.now(),
    )))
}

#[utoipa::path(
    post, path = "/v1/numbers/{e164}/release", tag = "numbers",
    params(("e164" = String, Path)),
    request_body(content = Option<Object>, description = "Optional `{\"mode\": \"normal\"|\"purge\"}`: purge skips aging"),
    responses(
        (status = 200, description = "Released: AGING until available_after (the releasing account may reclaim it by ordering it)", body = NumberView),
        (status = 404, body = super::problem::Problem),
    ),
    security(("basic" = []))
)]
pub async fn release(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<NumberView>> {
    let account = principal.account()?;
    let e164 = e164_path(&raw)?;
    let mut obj = JsonObject::new(&body, "")?;
    obj.reject_unknown(&["mode"]);
    let mode = match obj.opt_str("mode").map(str::to_ascii_lowercase).as_deref() {
        None | Some("normal") => ReleaseMode::Normal,
        Some("purge") => ReleaseMode::Purge,
        Some(other) => {
            obj.errors.push(
                "mode",
                format!("unknown value '{other}'; expected normal or purge"),
            );
            ReleaseMode::Normal
        }
    };
    obj.finish()?;
    let number = state.service.release_number(account, &e164, mode).await?;
    Ok(Json(NumberView::render(
        &number,
        principal,
        state.service.now(),
    )))
}

fn after_and_limit(q: &crate::wire::QueryPairs) -> Result<(Option<i64>, u32)> {
    q.reject_unknown(&["after", "limit"])?;
    let mut errors = FieldErrors::new();
    let after = q.get("after").and_then(|v| match v.parse::<i64>() {
        Ok(n) if n >= 0 => Some(n),
        _ => {
            errors.push("after", "must be a non-negative event seq");
            None
        }
    });
    let limit = match q.get("limit") {
        None => 100,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                errors.push("limit", "must be an integer from 1 to 1000");
                100
            }
        },
    };
    errors.into_result()?;
    Ok((after, limit))
}

#[utoipa::path(
    get, path = "/v1/numbers/{e164}/history", tag = "numbers",
    params(("e164" = String, Path), ("after" = Option<i64>, Query, description = "Only events after this seq"), ("limit" = Option<u32>, Query)),
    responses((status = 200, description = "Every change of the number while the caller held it (everything, for the operator)", body = ListView<EventView>), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn history(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(raw): Path<String>,
    Query(q): Query,
) -> ApiResult<Json<ListView<EventView>>> {
    let e164 = e164_path(&raw)?;
    let (after, limit) = after_and_limit(&q)?;
    let page = state
        .service
        .number_history(principal, &e164, after, limit)
        .await?;
    Ok(Json(ListView::from_page(&page, EventView::render)))
}

#[utoipa::path(
    get, path = "/v1/events", tag = "events",
    params(("after" = Option<i64>, Query, description = "Only events after this seq"), ("limit" = Option<u32>, Query, description = "1 to 1000, default 100")),
    responses((status = 200, description = "The account's events in commit order (every event, for the operator)", body = ListView<EventView>)),
    security(("basic" = []))
)]
pub async fn events(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(q): Query,
) -> ApiResult<Json<ListView<EventView>>> {
    let (after, limit) = after_and_limit(&q)?;
    let page = state.service.events(principal, after, limit).await?;
    Ok(Json(ListView::from_page(&page, EventView::render)))
}
