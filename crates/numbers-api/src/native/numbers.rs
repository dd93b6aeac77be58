//! `/v1/numbers`: the caller's own numbers — list, read, update, release, history — and
//! `/v1/events` for catching up on everything that happened to the account.

use axum::Json;
use axum::extract::{Path, State};
use numbers_core::account::Principal;
use numbers_core::error::{Error, FieldErrorKind, FieldErrors, Result};
use numbers_core::number::E164;
use numbers_core::number::assignment::{AssignmentPatch, parse_display_name};
use numbers_core::search::{CapabilityMatch, PatternPosition, SearchQuery};
use numbers_core::service::{ReleaseMode, Service};
use numbers_core::store::NumberFilter;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::extract::{Caller, JsonBody, Query};
use super::orders::{parse_label, parse_metadata};
use super::problem::ApiResult;
use super::request::{self, Field, Values};
use super::search_params::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use super::views::{EventView, ListView, NumberView};
use crate::ApiState;

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

/// Query of `GET /v1/numbers`: the caller's numbers, filtered.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListNumbers {
    /// Exact label.
    #[param(value_type = Option<String>)]
    label: Values,
    /// With metadata_value: numbers whose metadata has this pair.
    #[param(value_type = Option<String>)]
    metadata_key: Values,
    #[param(value_type = Option<String>)]
    metadata_value: Values,
    #[param(value_type = Option<String>)]
    display_name: Values,
    #[param(value_type = Option<String>)]
    country: Values,
    /// Comma-separated types.
    #[serde(rename = "type")]
    #[param(value_type = Option<String>)]
    number_type: Values,
    /// Comma-separated; all of.
    #[param(value_type = Option<String>)]
    capabilities: Values,
    #[param(value_type = Option<String>)]
    starts_with: Values,
    #[param(value_type = Option<String>)]
    contains: Values,
    #[param(value_type = Option<String>)]
    ends_with: Values,
    #[param(value_type = Option<String>)]
    classification: Values,
    /// 1 to 1000, default 50.
    #[param(value_type = Option<u32>)]
    page_size: Values,
    #[param(value_type = Option<String>)]
    page_token: Values,
}

impl ListNumbers {
    /// The filter, or every field error.
    fn parse(&self) -> Result<NumberFilter> {
        // The search builder parses the shared facets with the same rules as search.
        let criteria = SearchQuery::builder()
            .country(self.country.first(), "country")
            .type_values(self.number_type.all(), "type")
            .capability_values(
                self.capabilities.all(),
                CapabilityMatch::AllOf,
                "capabilities",
            )
            .pattern(
                PatternPosition::StartsWith,
                self.starts_with.first(),
                "starts_with",
            )
            .pattern(PatternPosition::Contains, self.contains.first(), "contains")
            .pattern(
                PatternPosition::EndsWith,
                self.ends_with.first(),
                "ends_with",
            )
            .classification(self.classification.first(), "classification")
            .page_size(
                self.page_size.first(),
                "page_size",
                DEFAULT_PAGE_SIZE,
                MAX_PAGE_SIZE,
            )
            .page_token(self.page_token.first(), "page_token");
        let mut errors = FieldErrors::new();
        let metadata = match (self.metadata_key.first(), self.metadata_value.first()) {
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
        let query =
            query.ok_or_else(|| Error::internal("search criteria missing after validation"))?;
        let filter = NumberFilter {
            label: self.label.first().map(str::to_string),
            metadata,
            country: query.country,
            types: query.types,
            capabilities: query.capabilities,
            pattern: query.pattern,
            display_name: self.display_name.first().map(str::to_string),
            number_id: None,
            classification: query.classification,
            page_size: query.page_size,
            after: query.after,
        };
        Ok(filter)
    }
}

#[utoipa::path(
    get, path = "/v1/numbers", tag = "numbers",
    params(ListNumbers),
    responses((status = 200, body = ListView<NumberView>), (status = 400, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(q): Query,
) -> ApiResult<Json<ListView<NumberView>>> {
    let account = principal.account()?;
    let q: ListNumbers = request::query(&q)?;
    let filter = q.parse()?;
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
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateNumber {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    label: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    metadata: Field<Value>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    display_name: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    callback_url: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    sms_configuration: Field<Value>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    voice_configuration: Field<Value>,
}

/// Body of `POST /v1/numbers/{e164}/release` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReleaseNumber {
    /// `normal` (default) or `purge`: purge skips aging.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    mode: Field<String>,
}

/// Query of a number's history and of `GET /v1/events`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only events after this seq.
    #[param(value_type = Option<i64>)]
    after: Values,
    /// 1 to 1000, default 100.
    #[param(value_type = Option<u32>)]
    limit: Values,
}

/// A patch of an object field: absent leaves it, `null` clears it.
fn optional_object(
    raw: &Field<Value>,
    errors: &mut FieldErrors,
    field: &str,
) -> Option<Option<Value>> {
    match raw {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Given(v) if v.is_object() => Some(Some(v.clone())),
        Field::Given(_) | Field::Wrong(_) => {
            errors.push(field, "must be an object or null");
            None
        }
    }
}

/// A patch of a text field: absent leaves it, `null` clears it, a string is parsed.
fn optional_text(
    raw: &Field<String>,
    errors: &mut FieldErrors,
    field: &str,
    parse: impl Fn(&str, &str) -> Result<String>,
) -> Option<Option<String>> {
    match raw {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Given(s) => errors.take(parse(s, field)).map(Some),
        Field::Wrong(_) => {
            errors.push(field, "must be a string or null");
            None
        }
    }
}

impl UpdateNumber {
    /// The patch, or every field error (with `errors`, the unknown fields).
    fn parse(&self, mut errors: FieldErrors, service: &Service) -> Result<AssignmentPatch> {
        let label = match self.label {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Given(_) | Field::Wrong(_) => {
                parse_label(&self.label, &mut errors, "label").map(Some)
            }
        };
        let metadata = match self.metadata {
            Field::Absent => None,
            Field::Null => Some(Default::default()),
            Field::Given(_) | Field::Wrong(_) => {
                parse_metadata(&self.metadata, &mut errors, "metadata")
            }
        };
        let patch = AssignmentPatch {
            label,
            metadata,
            display_name: optional_text(
                &self.display_name,
                &mut errors,
                "display_name",
                parse_display_name,
            ),
            callback_url: optional_text(
                &self.callback_url,
                &mut errors,
                "callback_url",
                |url, field| service.callback_url(url, field),
            ),
            sms_configuration: optional_object(
                &self.sms_configuration,
                &mut errors,
                "sms_configuration",
            ),
            voice_configuration: optional_object(
                &self.voice_configuration,
                &mut errors,
                "voice_configuration",
            ),
            site_id: None,
            peer_id: None,
            tn_attributes: None,
        };
        errors.into_result()?;
        Ok(patch)
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
    let (body, errors) = request::body::<UpdateNumber>(&body)?;
    let patch = body.parse(errors, &state.service)?;
    let number = state.service.update_number(account, &e164, &patch).await?;
    Ok(Json(NumberView::render(
        &number,
        principal,
        state.service.now(),
    )))
}

impl ReleaseNumber {
    /// How to release, or every field error (with `errors`, the unknown fields).
    fn parse(&self, mut errors: FieldErrors) -> Result<ReleaseMode> {
        let mode = match self
            .mode
            .value(&mut errors, "mode")
            .map(|m| m.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("normal") => ReleaseMode::Normal,
            Some("purge") => ReleaseMode::Purge,
            Some(other) => {
                errors.push(
                    "mode",
                    format!("unknown value '{other}'; expected normal or purge"),
                );
                ReleaseMode::Normal
            }
        };
        errors.into_result()?;
        Ok(mode)
    }
}

#[utoipa::path(
    post, path = "/v1/numbers/{e164}/release", tag = "numbers",
    params(("e164" = String, Path)),
    request_body(content = Option<ReleaseNumber>, description = "Optional; without a body the number is released normally"),
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
    let (body, errors) = request::body::<ReleaseNumber>(&body)?;
    let mode = body.parse(errors)?;
    let number = state.service.release_number(account, &e164, mode).await?;
    Ok(Json(NumberView::render(
        &number,
        principal,
        state.service.now(),
    )))
}

fn after_and_limit(q: &crate::wire::QueryPairs) -> Result<(Option<i64>, u32)> {
    let q: EventsQuery = request::query(q)?;
    let mut errors = FieldErrors::new();
    let after = q.after.first().and_then(|v| match v.parse::<i64>() {
        Ok(n) if n >= 0 => Some(n),
        _ => {
            errors.push("after", "must be a non-negative event seq");
            None
        }
    });
    let limit = match q.limit.first() {
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
    params(("e164" = String, Path), EventsQuery),
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
    params(EventsQuery),
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
