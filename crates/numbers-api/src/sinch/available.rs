//! `availableRegions`, `availableNumbers` (search, check one), `availableNumbers/{n}:rent` and
//! `availableNumbers:rentAny`. Renting is the core's synchronous "order one number now"; the
//! configurations in the body become provisioning requests.

use axum::Json;
use axum::extract::{Path, State};
use numbers_core::account::Principal;
use numbers_core::error::{Error, FieldErrors, Resource};
use numbers_core::number::{AssignmentData, Capabilities, Number, NumberType};
use numbers_core::order::OrderRequest;
use numbers_core::search::{CapabilityMatch, SearchQuery};
use numbers_core::service::OrderSubmission;
use serde_json::{Value, json};

use super::error::{OnResource, SinchResult};
use super::extract::{Body, Project, Query};
use super::views::{active_number, available_number, region_name};
use super::wire::{
    list_values, number_type, pattern_text, phone_number, search_pattern, sinch_capabilities,
    sms_request, split_verb, type_name, voice_request,
};
use crate::ApiState;
use crate::wire::{Field, JsonObject};

const DEFAULT_SEARCH_SIZE: u32 = 100;
const MAX_SEARCH_SIZE: u32 = 1000;

pub async fn regions(
    State(state): State<ApiState>,
    Project(_): Project,
    Query(q): Query,
) -> SinchResult<Json<Value>> {
    let wanted = list_values(&q, &["types"])
        .into_iter()
        .map(|t| number_type(t, "types"))
        .collect::<Result<Vec<_>, _>>()?;
    let regions = state.service.available_regions().await?;
    let list: Vec<Value> = regions
        .iter()
        .filter_map(|(code, types)| {
            let types: Vec<&str> = types
                .iter()
                .filter(|t| wanted.is_empty() || wanted.contains(t))
                .map(|t| type_name(*t))
                .filter(|t| *t != "NUMBER_TYPE_UNSPECIFIED")
                .collect();
            (!types.is_empty()).then(
                || json!({"regionCode": code, "regionName": region_name(code), "types": types}),
            )
        })
        .collect();
    Ok(Json(json!({ "availableRegions": list })))
}

pub async fn search(
    State(state): State<ApiState>,
    Project(caller): Project,
    Query(q): Query,
) -> SinchResult<Json<Value>> {
    let mut errors = FieldErrors::new();
    if q.get("regionCode").is_none_or(|v| v.trim().is_empty()) {
        errors.push_required("regionCode");
    }
    let number_type = match q.get("type") {
        None => {
            errors.push_required("type");
            None
        }
        Some(t) => errors.take(number_type(t, "type")),
    };
    let caps = errors
        .take(sinch_capabilities(
            &list_values(&q, &["capabilities", "capability"]),
            "capabilities",
        ))
        .unwrap_or_default();
    let position = errors.take(search_pattern(
        q.get("numberPattern.searchPattern"),
        "numberPattern.searchPattern",
    ));
    let query = errors.take(
        SearchQuery::builder()
            .country(q.get("regionCode"), "regionCode")
            .types(number_type.into_iter().collect(), "type")
            .capability_values(
                caps.iter().map(String::as_str),
                CapabilityMatch::AllOf,
                "capabilities",
            )
            .pattern(
                position.unwrap_or(numbers_core::search::PatternPosition::StartsWith),
                pattern_text(q.get("numberPattern.pattern")),
                "numberPattern.pattern",
            )
            .page_size(q.get("size"), "size", DEFAULT_SEARCH_SIZE, MAX_SEARCH_SIZE)
            .build(),
    );
    errors.into_result()?;
    let query = query.ok_or_else(|| Error::internal("search query missing after validation"))?;
    let page = state
        .service
        .search(Principal::Account(caller), &query)
        .await?;
    let mut documents: Vec<((String, NumberType), bool)> = Vec::new();
    let mut list = Vec::with_capacity(page.items.len());
    for n in &page.items {
        let key = (n.country.clone(), n.number_type);
        let needed = match documents.iter().find(|(k, _)| *k == key) {
            Some((_, needed)) => *needed,
            None => {
                let needed = needs_documents(&state, n).await?;
                documents.push((key, needed));
                needed
            }
        };
        list.push(available_number(n, needed));
    }
    Ok(Json(json!({ "availableNumbers": list })))
}

/// `GET availableNumbers/{phoneNumber}`: the number if anyone may rent it now, else 404.
pub async fn check(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, segment)): Path<(String, String)>,
) -> SinchResult<Json<Value>> {
    let (raw, verb) = split_verb(&segment);
    if let Some(verb) = verb {
        return Err(Error::not_found(Resource::Method, format!("GET :{verb}")).into());
    }
    let e164 = phone_number(raw, "phoneNumber")?;
    let number = state
        .service
        .number_by_e164(numbers_core::account::Principal::Account(account), &e164)
        .await
        .on("AvailableNumber")?;
    if !number.is_publicly_available(state.service.now()) {
        return Err(Error::not_found(Resource::Number, e164)).on("AvailableNumber");
    }
    let documents = needs_documents(&state, &number).await?;
    Ok(Json(available_number(&number, documents)))
}

/// Sinch's `supportingDocumentationRequired`: the KYC requirements of the number's region and
/// type ask for a document.
async fn needs_documents(state: &ApiState, n: &Number) -> SinchResult<bool> {
    Ok(state
        .service
        .number_requirements(&n.country, n.number_type)
        .await?
        .needs_supporting_documents())
}

/// The callbackUrl of a rent body: absent, null or "" → none.
fn callback_url(obj: &mut JsonObject<'_>, state: &ApiState) -> Option<String> {
    match obj.field("callbackUrl") {
        Field::Present(Value::String(s)) if !s.is_empty() => obj
            .errors
            .take(state.service.callback_url(s, "callbackUrl")),
        Field::Present(Value::String(_)) | Field::Absent | Field::Null => None,
        Field::Present(_) => {
            obj.errors.push("callbackUrl", "must be a string");
            None
        }
    }
}

/// `POST availableNumbers/{phoneNumber}:rent`.
pub async fn rent(
    State(state): State<ApiState>,
    Project(account): Project,
    Path((_, segment)): Path<(String, String)>,
    Body(body): Body,
) -> SinchResult<Json<Value>> {
    let (raw, verb) = split_verb(&segment);
    if verb != Some("rent") {
        return Err(
            Error::not_found(Resource::Method, format!("POST :{}", verb.unwrap_or(""))).into(),
        );
    }
    let e164 = phone_number(raw, "phoneNumber")?;
    let mut obj = JsonObject::new(&body, "")?;
    let requests: Vec<_> = [
        sms_request(&mut obj, "smsConfiguration"),
        voice_request(&mut obj, "voiceConfiguration"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let template = AssignmentData {
        callback_url: callback_url(&mut obj, &state),
        ..Default::default()
    };
    obj.finish()?;
    let submission = OrderSubmission {
        template,
        dialect_data: json!({"dialect": "sinch", "method": "rent"}),
        ..OrderSubmission::new(OrderRequest::Numbers(vec![e164]))
    };
    let (number, tasks) = state
        .service
        .order_one_now(account, submission, &requests)
        .await
        .on("AvailableNumber")?;
    Ok(Json(active_number(
        &number,
        account,
        &tasks,
        state.service.now(),
    )))
}

/// `POST availableNumbers:rentAny`: the first available number matching the criteria.
pub async fn rent_any(
    State(state): State<ApiState>,
    Project(account): Project,
    Body(body): Body,
) -> SinchResult<Json<Value>> {
    let mut obj = JsonObject::new(&body, "")?;
    let region = obj.required_str("regionCode");
    let number_type = obj
        .required_str("type")
        .and_then(|t| obj.errors.take(number_type(t, "type")));
    let caps = obj.opt_str_list("capabilities").unwrap_or_default();
    let caps = obj
        .errors
        .take(sinch_capabilities(&caps, "capabilities"))
        .unwrap_or_default();
    let (pattern, position) = match obj.field("numberPattern") {
        Field::Present(p) => match JsonObject::new(p, "numberPattern") {
            Ok(mut inner) => {
                let pattern = inner.opt_str("pattern");
                let position = search_pattern(
                    inner.opt_str("searchPattern"),
                    "numberPattern.searchPattern",
                );
                let position = inner.errors.take(position);
                let errs = inner.errors;
                obj.errors.take(errs.into_result());
                (pattern, position)
            }
            Err(e) => {
                obj.errors.take::<()>(Err(e));
                (None, None)
            }
        },
        Field::Absent | Field::Null => (None, None),
    };
    let requests: Vec<_> = [
        sms_request(&mut obj, "smsConfiguration"),
        voice_request(&mut obj, "voiceConfiguration"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let template = AssignmentData {
        callback_url: callback_url(&mut obj, &state),
        ..Default::default()
    };
    let query = obj.errors.take(
        SearchQuery::builder()
            .country(region, "regionCode")
            .types(number_type.into_iter().collect(), "type")
            .capabilities(
                Capabilities::parse_list(caps.iter().map(String::as_str), "capabilities")
                    .unwrap_or_default(),
                CapabilityMatch::AllOf,
            )
            .pattern(
                position.unwrap_or(numbers_core::search::PatternPosition::StartsWith),
                pattern_text(pattern),
                "numberPattern.pattern",
            )
            .page_size(None, "size", 1, 1)
            .build(),
    );
    obj.finish()?;
    let query = query.ok_or_else(|| Error::internal("criteria missing after validation"))?;
    let submission = OrderSubmission {
        template,
        dialect_data: json!({"dialect": "sinch", "method": "rentAny"}),
        ..OrderSubmission::new(OrderRequest::Search { query, quantity: 1 })
    };
    let (number, tasks) = state
        .service
        .order_one_now(account, submission, &requests)
        .await
        .on("AvailableNumber")?;
    Ok(Json(active_number(
        &number,
        account,
        &tasks,
        state.service.now(),
    )))
}
