//! `activeNumbers`: the project's numbers — list (filters, `pageSize` / `pageToken`,
//! `nextPageToken`, `totalSize`), get, PATCH (an explicit `null` clears a field, an omitted field
//! is untouched, unknown fields are ignored; configuration changes go through provisioning) and
//! `:release` (into aging in the core).

use axum::Json;
use axum::extract::{Path, State};
use numbers_core::error::{Error, FieldErrors, Resource};
use numbers_core::number::assignment::{AssignmentPatch, parse_display_name};
use numbers_core::search::{CapabilityMatch, SearchQuery};
use numbers_core::service::ReleaseMode;
use numbers_core::store::NumberFilter;
use serde_json::{Value, json};

use super::error::{OnResource, SinchResult};
use super::extract::{Body, Project, Query};
use super::views::active_number;
use super::wire::{
    list_values, number_type, pattern_text, phone_number, search_pattern, sinch_capabilities,
    sms_request, split_verb, voice_request,
};
use crate::ApiState;
use crate::wire::{Field, JsonObject};

const DEFAULT_PAGE_SIZE: u32 = 100;
const MAX_PAGE_SIZE: u32 = 1000;

pub async fn list(
    State(state): State<ApiState>,
    Project(account): Project,
    Query(q): Query,
) -> SinchResult<Json<Value>> {
    let mut errors = FieldErrors::new();
    let types = list_values(&q, &["type"])
        .into_iter()
        .filter_map(|t| errors.take(number_type(t, "type")))
        .collect::<Vec<_>>();
    let caps = errors
        .take(sinch_capabilities(
            &list_values(&q, &["capability", "capabilities"]),
            "capability",
        ))
        .unwrap_or_default();
    let position = errors.take(search_pattern(
        q.get("numberPattern.searchPattern"),
        "numberPattern.searchPattern",
    ));
    // Sinch's `OrderBy`: `phoneNumber` (the default) or `displayName`, both ascending.
    let by_display_name = match q.get("orderBy").map(str::trim) {
        None | Some("") | Some("phoneNumber") => false,
        Some("displayName") => true,
        Some(other) => {
            errors.push(
                "orderBy",
                format!("unknown order '{other}'; expected phoneNumber or displayName"),
            );
            false
        }
    };
    // A display-name token is the core's (display name, number) keyset, not a number key.
    let (number_token, display_token) = match by_display_name {
        true => (None, q.get("pageToken")),
        false => (q.get("pageToken"), None),
    };
    let query = errors.take(
        SearchQuery::builder()
            .country(q.get("regionCode"), "regionCode")
            .types(types, "type")
            .capability_values(
                caps.iter().map(String::as_str),
                CapabilityMatch::AllOf,
                "capability",
            )
            .pattern(
                position.unwrap_or(numbers_core::search::PatternPosition::StartsWith),
                pattern_text(q.get("numberPattern.pattern")),
                "numberPattern.pattern",
            )
            .page_size(
                q.get("pageSize"),
                "pageSize",
                DEFAULT_PAGE_SIZE,
                MAX_PAGE_SIZE,
            )
            .page_token(number_token, "pageToken")
            .build(),
    );
    errors.into_result()?;
    let query = query.ok_or_else(|| Error::internal("filter missing after validation"))?;
    let filter = NumberFilter {
        country: query.country,
        types: query.types,
        capabilities: query.capabilities,
        pattern: query.pattern,
        display_name: q
            .get("displayName")
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        page_size: query.page_size,
        after: query.after,
        ..Default::default()
    };
    let page = match by_display_name {
        true => {
            state
                .service
                .list_numbers_by_display_name(account, &filter, display_token, "pageToken")
                .await?
        }
        false => state.service.list_numbers(account, &filter).await?,
    };
    let total = state.service.count_numbers(account, &filter).await?;
    let tasks = state.service.provisioning_of(&page.items).await?;
    let now = state.service.now();
    let list: Vec<Value> = page
        .items
        .iter()
        .map(|n| active_number(n, account, &tasks, now))
        .collect();
    Ok(Json(json!({
        "activeNumbers": list,
        "nextPageToken": page.next_page_token.unwrap_or_default(),
        "totalSize": total,
    })))
}

fn number_segment(segment: &str) -> SinchResult<numbers_core::number::E164> {
    match split_verb(segment) {
        (raw, None) => Ok(phone_number(raw, "phoneNumber")?),
        (_, Some(verb)) => Err(Error::not_found(Resource::Method, format!(":{verb}")).into()),
    }
}

pub async fn get(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, segment)): Path<(String, String)>,
) -> SinchResult<Json<Value>> {
    let e164 = number_segment(&segment)?;
    let number = state
        .service
        .owned_number(account, &e164)
        .await
        .on("ActiveNumber")?;
    let tasks = state
        .service
        .provisioning_of(std::slice::from_ref(&number))
        .await?;
    Ok(Json(active_number(
        &number,
        account,
        &tasks,
        state.service.now(),
    )))
}

/// A text field of the PATCH: absent → untouched, `null` or `""` → cleared, text → set.
fn patch_text(
    obj: &mut JsonObject<'_>,
    field: &str,
    parse: impl Fn(&str, &str) -> numbers_core::Result<String>,
) -> Option<Option<String>> {
    match obj.field(field) {
        Field::Absent => None,
        Field::Null => Some(None),
        Field::Present(Value::String(s)) if s.is_empty() => Some(None),
        Field::Present(Value::String(s)) => obj.errors.take(parse(s, field)).map(Some),
        Field::Present(_) => {
            obj.errors.push(field, "must be a string or null");
            None
        }
    }
}

pub async fn update(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, segment)): Path<(String, String)>,
    Body(body): Body,
) -> SinchResult<Json<Value>> {
    let e164 = number_segment(&segment)?;
    let mut obj = JsonObject::new(&body, "")?;
    let patch = AssignmentPatch {
        display_name: patch_text(&mut obj, "displayName", parse_display_name),
        callback_url: patch_text(&mut obj, "callbackUrl", |url, field| {
            state.service.callback_url(url, field)
        }),
        ..Default::default()
    };
    let requests: Vec<_> = [
        sms_request(&mut obj, "smsConfiguration"),
        voice_request(&mut obj, "voiceConfiguration"),
    ]
    .into_iter()
    .flatten()
    .collect();
    // Unknown fields are ignored (Sinch asks clients to tolerate additions; its SDKs send extras).
    obj.finish()?;
    let (number, _) = state
        .service
        .update_and_provision(account, &e164, &patch, &requests)
        .await
        .on("ActiveNumber")?;
    let tasks = state
        .service
        .provisioning_of(std::slice::from_ref(&number))
        .await?;
    Ok(Json(active_number(
        &number,
        account,
        &tasks,
        state.service.now(),
    )))
}

/// `POST activeNumbers/{phoneNumber}:release`: the number goes to aging; the answer is the
/// number as it was just before (Sinch returns the released ActiveNumber).
pub async fn release(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, segment)): Path<(String, String)>,
) -> SinchResult<Json<Value>> {
    let (raw, verb) = split_verb(&segment);
    if verb != Some("release") {
        return Err(
            Error::not_found(Resource::Method, format!("POST :{}", verb.unwrap_or(""))).into(),
        );
    }
    let e164 = phone_number(raw, "phoneNumber")?;
    let before = state
        .service
        .owned_number(account, &e164)
        .await
        .on("ActiveNumber")?;
    let tasks = state
        .service
        .provisioning_of(std::slice::from_ref(&before))
        .await?;
    state
        .service
        .release_number(account, &e164, ReleaseMode::Normal)
        .await
        .on("ActiveNumber")?;
    Ok(Json(active_number(
        &before,
        account,
        &tasks,
        state.service.now(),
    )))
}
