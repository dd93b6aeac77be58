//! Number orders (the KYC path to a number) and their requirements in the native API: the
//! tenant's `/v1/number-requirements/…` and `/v1/number-orders/…` (create, read, register,
//! upload, submit) and the operator's `/v1/operator/number-requirements/…` and
//! `/v1/operator/number-orders/…` (list, read, download a document, approve, reject, block).
//! Handlers translate to `numbers_core::service` calls and render `NumberOrderView`; the rules
//! live in the core.

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use numbers_core::error::{Error, FieldErrorKind, FieldErrors, Resource};
use numbers_core::ids::NumberOrderId;
use numbers_core::kyc::NumberRequirements;
use numbers_core::number::{E164, NumberType};
use numbers_core::number_order::{
    NumberOrder, NumberOrderFilter, NumberOrderState, NumberSelection,
};
use numbers_core::search::SearchQuery;
use numbers_core::service::{
    NumberOrderRequest, SelectionRequest, Service, Upload, parse_quantity,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Caller, JsonBody, Query};
use super::problem::{ApiError, ApiResult};
use super::request::{self, Field, Values};
use super::search_params::{SearchCriteria, search_from_json};
use super::views::{ListView, PriceView, ts};
use crate::ApiState;

/// The requirements of one (region, number type).
#[derive(Debug, Serialize, ToSchema)]
pub struct RequirementsView {
    pub region_code: String,
    pub number_type: String,
    /// `[{name, type (string|enum|date|email|phone|number|boolean), required, min_length,
    /// max_length, pattern, allowed_values, description}]`
    #[schema(value_type = Vec<Object>)]
    pub fields: Value,
    /// `[{id, title, description, mandatory, allowed_mime_types, allowed_document_types,
    /// max_size_bytes}]`
    #[schema(value_type = Vec<Object>)]
    pub attachments: Value,
}

impl RequirementsView {
    fn render(r: &NumberRequirements) -> Self {
        RequirementsView {
            region_code: r.region_code.clone(),
            number_type: r.number_type.as_str().into(),
            fields: serde_json::to_value(&r.fields).unwrap_or(Value::Null),
            attachments: serde_json::to_value(&r.attachments).unwrap_or(Value::Null),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderedNumberView {
    pub number_id: String,
    pub e164: String,
    pub capabilities: Vec<String>,
    pub price: Option<PriceView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub attachment_id: String,
    pub file_name: String,
    pub mime_type: String,
    pub document_type: Option<String>,
    pub size_bytes: u64,
    /// COMPLETED once stored.
    pub upload_status: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLogView {
    pub message: String,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MissingView {
    pub field: String,
    pub reason: String,
}

/// A number order.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberOrderView {
    pub id: String,
    pub account_id: String,
    /// CREATED, IN_REVIEW, BLOCKED, COMPLETED, REJECTED or EXPIRED (an open order past
    /// `expire_at` reads EXPIRED even before the sweep has run).
    pub state: String,
    pub region_code: String,
    pub number_type: String,
    /// The explicit number asked for, or null for a quantity order.
    pub requested_number: Option<String>,
    pub requested_quantity: u32,
    pub numbers: Vec<OrderedNumberView>,
    /// The values registered so far, or null.
    #[schema(value_type = Option<Object>)]
    pub registration: Option<Value>,
    pub attachments: Vec<AttachmentView>,
    /// What is still missing before the order can be submitted.
    pub missing: Vec<MissingView>,
    pub logs: Vec<OrderLogView>,
    pub callback_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub sms_configuration: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub voice_configuration: Option<Value>,
    pub reservation_id: String,
    /// The order that assigned the numbers, once approved.
    pub order_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub expire_at: String,
    pub submitted_at: Option<String>,
    pub finished_at: Option<String>,
    pub version: i64,
}

impl NumberOrderView {
    pub fn render(o: &NumberOrder, now: chrono::DateTime<chrono::Utc>) -> Self {
        let (requested_number, requested_quantity) = match &o.selection {
            NumberSelection::Number(e) => (Some(e.as_str().to_string()), 1),
            NumberSelection::Quantity { quantity, .. } => (None, *quantity),
        };
        NumberOrderView {
            id: o.id.to_string(),
            account_id: o.account.to_string(),
            state: o.state_at(now).as_str().into(),
            region_code: o.region_code.clone(),
            number_type: o.number_type.as_str().into(),
            requested_number,
            requested_quantity,
            numbers: o
                .numbers
                .iter()
                .map(|n| OrderedNumberView {
                    number_id: n.number_id.to_string(),
                    e164: n.e164.as_str().into(),
                    capabilities: n.capabilities.iter().map(|c| c.as_str().into()).collect(),
                    price: n.price.as_ref().map(|p| PriceView {
                        setup: p.setup_decimal(),
                        monthly: p.monthly_decimal(),
                        currency: p.currency.clone(),
                    }),
                })
                .collect(),
            registration: o
                .registration
                .as_ref()
                .and_then(|r| serde_json::to_value(r.values()).ok()),
            attachments: o
                .attachments
                .iter()
                .map(|a| AttachmentView {
                    attachment_id: a.attachment_id.to_string(),
                    file_name: a.file_name.clone(),
                    mime_type: a.mime_type.clone(),
                    document_type: a.document_type.clone(),
                    size_bytes: a.size_bytes,
                    upload_status: a.upload_status.as_str().into(),
                    created_at: ts(a.created_at),
                    updated_at: ts(a.updated_at),
                })
                .collect(),
            missing: if o.state == NumberOrderState::Created {
                o.missing_for_submit()
                    .into_iter()
                    .map(|f| MissingView {
                        field: f.field,
                        reason: f.reason,
                    })
                    .collect()
            } else {
                Vec::new()
            },
            logs: o
                .logs
                .iter()
                .map(|l| OrderLogView {
                    message: l.message.clone(),
                    at: ts(l.at),
                })
                .collect(),
            callback_url: o.callback_url.clone(),
            sms_configuration: o.sms_configuration.clone(),
            voice_configuration: o.voice_configuration.clone(),
            reservation_id: o.reservation_id.to_string(),
            order_id: o.order_id.map(|id| id.to_string()),
            created_at: ts(o.created_at),
            updated_at: ts(o.updated_at),
            expire_at: ts(o.expire_at),
            submitted_at: o.submitted_at.map(ts),
            finished_at: o.finished_at.map(ts),
            version: o.version,
        }
    }
}

/// Body of `POST /v1/number-orders`: `region_code`, `number_type`, and either `number` or
/// `quantity` (with optional `search` criteria).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CreateNumberOrder {
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    region_code: Field<String>,
    /// MOBILE, LOCAL or TOLL_FREE.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    number_type: Field<String>,
    /// One explicit E.164 number.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    number: Field<String>,
    /// 1 to 100 numbers matching `search`.
    #[serde(default)]
    #[schema(value_type = Option<u32>)]
    quantity: Field<u64>,
    /// Criteria as in `GET /v1/available-numbers` (e.g. `starts_with`, `capabilities`); region
    /// and type come from the order.
    #[serde(default)]
    #[schema(value_type = Option<SearchCriteria>)]
    search: Field<Value>,
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

/// Body of `PUT /v1/number-orders/{id}/registration`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateRegistration {
    /// Field name → value, as the requirements list them; replaces the whole registration.
    #[serde(default)]
    #[schema(value_type = Object, required = true)]
    fields: Field<Value>,
}

/// Body of the operator's reject and block.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Reason {
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    reason: Field<String>,
}

/// Query of the operator's `GET /v1/operator/number-orders`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListNumberOrders {
    /// Comma-separated states, e.g. IN_REVIEW.
    #[param(value_type = Option<String>)]
    state: Values,
    #[param(value_type = Option<String>)]
    account_id: Values,
    /// 1 to 1000, default 50.
    #[param(value_type = Option<u32>)]
    page_size: Values,
    #[param(value_type = Option<String>)]
    page_token: Values,
}

impl CreateNumberOrder {
    /// The order to create, or every field error (with `errors`, the unknown fields).
    fn parse(
        &self,
        mut errors: FieldErrors,
        service: &Service,
    ) -> Result<NumberOrderRequest, Error> {
        let region_code = self
            .region_code
            .required(&mut errors, "region_code")
            .cloned();
        let kind = self
            .number_type
            .required(&mut errors, "number_type")
            .and_then(|t| errors.take(number_type(t, "number_type")));
        let selection = match (self.number.is_sent(), self.quantity.is_sent()) {
            (true, false) => {
                if self.search.is_sent() {
                    errors.push("search", "only applies to quantity orders");
                }
                self.number.value(&mut errors, "number").and_then(|s| {
                    errors
                        .take(E164::parse(s).map_err(|_| {
                            Error::invalid(
                                "number",
                                format!("'{s}' is not an E.164 number (e.g. +61491570156)"),
                            )
                        }))
                        .map(SelectionRequest::Number)
                })
            }
            (false, true) => {
                let quantity = self
                    .quantity
                    .value(&mut errors, "quantity")
                    .and_then(|q| errors.take(parse_quantity(*q, "quantity")));
                let criteria = match self.search.json() {
                    Some(v) => errors.take(search_from_json(v, "search.")),
                    None => Some(SearchQuery::default()),
                };
                match (quantity, criteria) {
                    (Some(quantity), Some(criteria)) => {
                        Some(SelectionRequest::Quantity { quantity, criteria })
                    }
                    _ => None,
                }
            }
            _ => {
                errors.push("number", "give exactly one of number or quantity");
                None
            }
        };
        let callback_url = self
            .callback_url
            .value(&mut errors, "callback_url")
            .and_then(|u| errors.take(service.callback_url(u, "callback_url")));
        let sms_configuration =
            object_field(&self.sms_configuration, &mut errors, "sms_configuration");
        let voice_configuration = object_field(
            &self.voice_configuration,
            &mut errors,
            "voice_configuration",
        );
        errors.into_result()?;
        let (Some(region_code), Some(number_type), Some(selection)) =
            (region_code, kind, selection)
        else {
            return Err(Error::invalid("body", "incomplete request"));
        };
        Ok(NumberOrderRequest {
            region_code,
            number_type,
            selection,
            callback_url,
            sms_configuration,
            voice_configuration,
        })
    }
}

impl UpdateRegistration {
    /// The registration values, or every field error.
    fn parse(&self, mut errors: FieldErrors) -> Result<Value, Error> {
        let fields = match self.fields.json() {
            Some(v) => Some(v.clone()),
            None => {
                errors.push_as(
                    FieldErrorKind::Required,
                    "fields",
                    "is required: an object of field values",
                );
                None
            }
        };
        errors.into_result()?;
        Ok(fields.unwrap_or(Value::Null))
    }
}

impl ListNumberOrders {
    /// The filter, or every field error.
    fn parse(&self) -> Result<NumberOrderFilter, Error> {
        let mut errors = FieldErrors::new();
        let mut states = Vec::new();
        for part in self.state.list() {
            if let Some(s) = errors.take(NumberOrderState::parse(part, "state")) {
                states.push(s);
            }
        }
        let account = self
            .account_id
            .first()
            .and_then(|a| errors.take(a.parse::<numbers_core::ids::AccountId>()));
        let page_size = errors
            .take(super::numbers::page_size(self.page_size.first()))
            .unwrap_or(50);
        let before = match self.page_token.first() {
            None => None,
            Some(t) => errors.take(numbers_core::page::decode_id_token::<NumberOrderId>(
                t,
                "page_token",
            )),
        };
        errors.into_result()?;
        Ok(NumberOrderFilter {
            account,
            states,
            page_size,
            before,
        })
    }
}

fn number_order_id(raw: &str) -> Result<NumberOrderId, Error> {
    raw.parse::<NumberOrderId>()
        .map_err(|_| Error::not_found(Resource::NumberOrder, raw))
}

fn number_type(raw: &str, field: &str) -> Result<NumberType, Error> {
    NumberType::parse_field(raw, field)
}

fn object_field(raw: &Field<Value>, errors: &mut FieldErrors, field: &str) -> Option<Value> {
    match raw.json()? {
        v @ Value::Object(_) => Some(v.clone()),
        _ => {
            errors.push(field, "must be a JSON object");
            None
        }
    }
}

#[utoipa::path(
    get, path = "/v1/number-requirements/{region}/{type}", tag = "number orders",
    params(("region" = String, Path, description = "ISO 3166 region code, e.g. AU"), ("type" = String, Path, description = "MOBILE, LOCAL or TOLL_FREE")),
    responses((status = 200, body = RequirementsView), (status = 400, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn requirements(
    State(state): State<ApiState>,
    Caller(_): Caller,
    Path((region, kind)): Path<(String, String)>,
) -> ApiResult<Json<RequirementsView>> {
    let kind = number_type(&kind, "type")?;
    let r = state.service.number_requirements(&region, kind).await?;
    Ok(Json(RequirementsView::render(&r)))
}

#[utoipa::path(
    put, path = "/v1/operator/number-requirements/{region}/{type}", tag = "operator",
    params(("region" = String, Path), ("type" = String, Path)),
    request_body(content = Object, description = "`{\"fields\": [...], \"attachments\": [...]}` in the shape `GET` answers (attachment ids optional; kept when given)"),
    responses((status = 200, body = RequirementsView), (status = 400, body = super::problem::Problem), (status = 403, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn put_requirements(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((region, kind)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<RequirementsView>> {
    principal.require_operator()?;
    let kind = number_type(&kind, "type")?;
    let r = state
        .service
        .set_number_requirements(principal, &region, kind, &body)
        .await?;
    Ok(Json(RequirementsView::render(&r)))
}

#[utoipa::path(
    get, path = "/v1/operator/number-requirements/{region}/{type}", tag = "operator",
    params(("region" = String, Path), ("type" = String, Path)),
    responses((status = 200, body = RequirementsView), (status = 403, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn get_requirements(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((region, kind)): Path<(String, String)>,
) -> ApiResult<Json<RequirementsView>> {
    principal.require_operator()?;
    let kind = number_type(&kind, "type")?;
    let r = state.service.number_requirements(&region, kind).await?;
    Ok(Json(RequirementsView::render(&r)))
}

#[utoipa::path(
    post, path = "/v1/number-orders", tag = "number orders",
    request_body = CreateNumberOrder,
    responses(
        (status = 201, description = "CREATED; the numbers are reserved for you until `expire_at` (48 h)", body = NumberOrderView),
        (status = 400, body = super::problem::Problem),
        (status = 409, description = "Not (enough) numbers available (code NUMBERS_UNAVAILABLE)", body = super::problem::Problem),
    ),
    security(("basic" = []))
)]
pub async fn create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<NumberOrderView>)> {
    let account = principal.account()?;
    let (body, errors) = request::body::<CreateNumberOrder>(&body)?;
    let request = body.parse(errors, &state.service)?;
    let order = state.service.create_number_order(account, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(NumberOrderView::render(&order, state.service.now())),
    ))
}

#[utoipa::path(
    get, path = "/v1/number-orders/{id}", tag = "number orders",
    params(("id" = String, Path)),
    responses((status = 200, body = NumberOrderView), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn get(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<NumberOrderView>> {
    principal.account()?;
    let order = state
        .service
        .number_order(principal, number_order_id(&id)?)
        .await?;
    Ok(Json(NumberOrderView::render(&order, state.service.now())))
}

#[utoipa::path(
    put, path = "/v1/number-orders/{id}/registration", tag = "number orders",
    params(("id" = String, Path)),
    request_body = UpdateRegistration,
    responses(
        (status = 200, body = NumberOrderView),
        (status = 400, description = "Each invalid or missing field, as `fields.<name>`", body = super::problem::Problem),
        (status = 404, body = super::problem::Problem),
        (status = 409, description = "Not CREATED any more (NUMBER_ORDER_NOT_EDITABLE) or expired (NUMBER_ORDER_EXPIRED)", body = super::problem::Problem),
    ),
    security(("basic" = []))
)]
pub async fn update_registration(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<NumberOrderView>> {
    let account = principal.account()?;
    let (body, errors) = request::body::<UpdateRegistration>(&body)?;
    let fields = body.parse(errors)?;
    let order = state
        .service
        .update_number_order_registration(account, number_order_id(&id)?, &fields, "fields")
        .await?;
    Ok(Json(NumberOrderView::render(&order, state.service.now())))
}

#[utoipa::path(
    post, path = "/v1/number-orders/{id}/attachments/{attachment_id}", tag = "number orders",
    params(("id" = String, Path), ("attachment_id" = String, Path, description = "An attachment id from the requirements")),
    request_body(content_type = "multipart/form-data", description = "Part `file` (the document, with its file name and Content-Type) and optional part `documentType`"),
    responses(
        (status = 200, body = NumberOrderView),
        (status = 400, description = "Too large, MIME type or document type not allowed, or no file part", body = super::problem::Problem),
        (status = 404, body = super::problem::Problem),
        (status = 413, description = "Larger than the server's request body limit"),
    ),
    security(("basic" = []))
)]
pub async fn upload(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((id, attachment_id)): Path<(String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<NumberOrderView>> {
    let account = principal.account()?;
    let id = number_order_id(&id)?;
    let attachment_id = Uuid::parse_str(attachment_id.trim())
        .map_err(|_| Error::not_found(Resource::Attachment, &attachment_id))?;
    let mut multipart = multipart.map_err(|e| {
        Error::invalid(
            "body",
            format!("must be multipart/form-data with a file part: {e}"),
        )
    })?;
    let mut file: Option<(String, String, Vec<u8>)> = None;
    let mut document_type = None;
    let bad = |e: axum::extract::multipart::MultipartError| {
        Error::invalid("body", format!("is not readable multipart/form-data: {e}"))
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("attachment").to_string();
                let mime = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let bytes = field.bytes().await.map_err(bad)?;
                file = Some((name, mime, bytes.to_vec()));
            }
            Some("documentType") | Some("document_type") => {
                document_type = Some(field.text().await.map_err(bad)?);
            }
            // Other parts are ignored, as form uploads often carry extras.
            _ => {}
        }
    }
    let Some((file_name, mime_type, content)) = file else {
        return Err(ApiError(Error::invalid_as(
            FieldErrorKind::Required,
            "file",
            "is required: a multipart part named file",
        )));
    };
    let order = state
        .service
        .upload_number_order_attachment(
            account,
            id,
            attachment_id,
            Upload {
                file_name,
                mime_type,
                document_type,
                content,
            },
        )
        .await?;
    Ok(Json(NumberOrderView::render(&order, state.service.now())))
}

#[utoipa::path(
    post, path = "/v1/number-orders/{id}/submit", tag = "number orders",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "IN_REVIEW", body = NumberOrderView),
        (status = 400, description = "Required fields or mandatory attachments missing, each named", body = super::problem::Problem),
        (status = 404, body = super::problem::Problem),
        (status = 409, description = "Not CREATED, or expired", body = super::problem::Problem),
    ),
    security(("basic" = []))
)]
pub async fn submit(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<NumberOrderView>> {
    let account = principal.account()?;
    let order = state
        .service
        .submit_number_order(account, number_order_id(&id)?)
        .await?;
    Ok(Json(NumberOrderView::render(&order, state.service.now())))
}

#[utoipa::path(
    get, path = "/v1/operator/number-orders", tag = "operator",
    params(ListNumberOrders),
    responses((status = 200, body = ListView<NumberOrderView>), (status = 403, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(q): Query,
) -> ApiResult<Json<ListView<NumberOrderView>>> {
    principal.require_operator()?;
    let q: ListNumberOrders = request::query(&q)?;
    let filter = q.parse()?;
    let page = state.service.list_number_orders(principal, filter).await?;
    let now = state.service.now();
    Ok(Json(ListView::from_page(&page, |o| {
        NumberOrderView::render(o, now)
    })))
}

#[utoipa::path(
    get, path = "/v1/operator/number-orders/{id}", tag = "operator",
    params(("id" = String, Path)),
    responses((status = 200, description = "With registration values and attachment metadata", body = NumberOrderView), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn operator_get(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<NumberOrderView>> {
    principal.require_operator()?;
    let order = state
        .service
        .number_order(principal, number_order_id(&id)?)
        .await?;
    Ok(Json(NumberOrderView::render(&order, state.service.now())))
}

#[utoipa::path(
    get, path = "/v1/operator/number-orders/{id}/attachments/{attachment_id}", tag = "operator",
    params(("id" = String, Path), ("attachment_id" = String, Path)),
    responses((status = 200, description = "The document's bytes, with its Content-Type and file name"), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn download(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path((id, attachment_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    principal.require_operator()?;
    let attachment_id = Uuid::parse_str(attachment_id.trim())
        .map_err(|_| Error::not_found(Resource::Attachment, &attachment_id))?;
    let doc = state
        .service
        .number_order_attachment(principal, number_order_id(&id)?, attachment_id)
        .await?;
    let mut response = Response::new(Body::from(doc.content));
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&doc.meta.mime_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    let safe: String = doc
        .meta
        .file_name
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response.into_response())
}

fn reason(body: &Value) -> Result<String, Error> {
    let (body, mut errors) = request::body::<Reason>(body)?;
    let reason = body.reason.required(&mut errors, "reason").cloned();
    errors.into_result()?;
    Ok(reason.unwrap_or_default())
}

#[utoipa::path(
    post, path = "/v1/operator/number-orders/{id}/approve", tag = "operator",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "COMPLETED: the numbers are ASSIGNED to the account", body = NumberOrderView),
        (status = 404, body = super::problem::Problem),
        (status = 409, description = "Not IN_REVIEW, expired, or the numbers could not be assigned", body = super::problem::Problem),
    ),
    security(("basic" = []))
)]
pub async fn approve(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<NumberOrderView>> {
    let order = state
        .service
        .approve_number_order(principal, number_order_id(&id)?)
        .await?;
    Ok(Json(NumberOrderView::render(&order, state.service.now())))
}

#[utoipa::path(
    post, path = "/v1/operator/number-orders/{id}/reject", tag = "operator",
    params(("id" = String, Path)),
    request_body = Reason,
    responses((status = 200, description = "REJECTED: the numbers are released; the reason is in `logs`", body = NumberOrderView), (status = 409, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn reject(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<NumberOrderView>> {
    principal.require_operator()?;
    let reason = reason(&body)?;
    let order = state
        .service
        .reject_number_order(principal, number_order_id(&id)?, &reason)
        .await?;
    Ok(Json(NumberOrderView::render(&order, state.service.now())))
}

#[utoipa::path(
    post, path = "/v1/operator/number-orders/{id}/block", tag = "operator",
    params(("id" = String, Path)),
    request_body = Reason,
    responses((status = 200, description = "BLOCKED (final): the numbers are released; the reason is in `logs`", body = NumberOrderView), (status = 409, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn block(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<NumberOrderView>> {
    principal.require_operator()?;
    let reason = reason(&body)?;
    let order = state
        .service
        .block_number_order(principal, number_order_id(&id)?, &reason)
        .await?;
    Ok(Json(NumberOrderView::render(&order, state.service.now())))
}
