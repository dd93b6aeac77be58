//! `/v1/messaging/numbers/dedicated/{numberId}/assignment` (create, read, update, delete) and
//! `/v1/messaging/numbers/dedicated/assignments` (the account's assigned numbers). Creating is the
//! core's synchronous one-number order; deleting releases the number into aging, from which the
//! same account may take it back by creating the assignment again.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use numbers_core::error::{Error, FieldErrors};
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{AssignmentData, Label, Metadata};
use numbers_core::service::ReleaseMode;
use numbers_core::store::NumberFilter;
use serde_json::{Map, Value, json};

use super::auth::Authed;
use super::error::MmResult;
use super::numbers::number_id;
use super::params::criteria;
use super::views::{AssignedNumber, Assignment, DedicatedNumber, ListResponse};
use crate::ApiState;
use crate::wire::QueryPairs;

/// Label and metadata of a request body: absent → `None`, `null` → cleared, a value → parsed.
/// Other fields are ignored, as the vendor does.
fn label_and_metadata(
    body: &Map<String, Value>,
    errors: &mut FieldErrors,
) -> (Option<Option<Label>>, Option<Metadata>) {
    let label = match body.get("label") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => errors.take(Label::parse(s, "label")).map(Some),
        Some(_) => {
            errors.push("label", "must be a string");
            None
        }
    };
    let metadata = match body.get("metadata") {
        None => None,
        Some(Value::Null) => Some(Metadata::default()),
        Some(v) => errors.take(Metadata::from_json(v, "metadata")),
    };
    (label, metadata)
}

pub async fn create(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    caller: Authed,
) -> MmResult<impl IntoResponse> {
    let id = number_id(&id)?;
    let body = caller.json_object()?;
    let mut errors = FieldErrors::new();
    let (label, metadata) = label_and_metadata(&body, &mut errors);
    errors.into_result()?;
    let template = AssignmentData {
        label: label.flatten(),
        metadata: metadata.unwrap_or_default(),
        ..Default::default()
    };
    let number = state
        .service
        .assign_number(
            caller.account,
            id,
            template,
            json!({"dialect": "messagemedia"}),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(Assignment::render(&number))))
}

pub async fn get(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    caller: Authed,
) -> MmResult<Json<Assignment>> {
    let number = state
        .service
        .owned_number_by_id(caller.account, number_id(&id)?)
        .await?;
    Ok(Json(Assignment::render(&number)))
}

/// Only label and metadata change; what other dialects set on the number stays.
pub async fn update(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    caller: Authed,
) -> MmResult<Json<Assignment>> {
    let id = number_id(&id)?;
    let body = caller.json_object()?;
    let mut errors = FieldErrors::new();
    let (label, metadata) = label_and_metadata(&body, &mut errors);
    if label.is_none() && metadata.is_none() && errors.is_empty() {
        errors.push("body", "give label and/or metadata to update");
    }
    errors.into_result()?;
    let number = state.service.owned_number_by_id(caller.account, id).await?;
    let patch = AssignmentPatch {
        label,
        metadata,
        ..Default::default()
    };
    let number = state
        .service
        .update_number(caller.account, &number.e164, &patch)
        .await?;
    Ok(Json(Assignment::render(&number)))
}

pub async fn delete(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    caller: Authed,
) -> MmResult<StatusCode> {
    let number = state
        .service
        .owned_number_by_id(caller.account, number_id(&id)?)
        .await?;
    state
        .service
        .release_number(caller.account, &number.e164, ReleaseMode::Normal)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list(
    State(state): State<ApiState>,
    uri: Uri,
    caller: Authed,
) -> MmResult<Json<ListResponse<AssignedNumber>>> {
    let q = QueryPairs::parse(uri.query());
    let query = criteria(&q, &["types", "type"])?;
    let number_id = match q.get("number_id").map(str::trim).filter(|v| !v.is_empty()) {
        Some(raw) => Some(
            raw.parse()
                .map_err(|_| Error::invalid("number_id", "must be a number id (UUID)"))?,
        ),
        None => None,
    };
    let filter = NumberFilter {
        label: q.get("label").filter(|l| !l.is_empty()).map(str::to_string),
        metadata: None,
        country: query.country,
        types: query.types,
        capabilities: query.capabilities,
        pattern: query.pattern,
        display_name: None,
        number_id,
        classification: query.classification,
        page_size: query.page_size,
        after: query.after,
    };
    let page = state.service.list_numbers(caller.account, &filter).await?;
    Ok(Json(ListResponse::from_page(page, |n| AssignedNumber {
        assignment: Assignment::render(n),
        number: DedicatedNumber::render(n),
    })))
}
