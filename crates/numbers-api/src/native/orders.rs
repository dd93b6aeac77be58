//! `/v1/orders`: asynchronous orders by explicit numbers or by search criteria and a quantity.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use numbers_core::error::{Error, FieldErrorKind, FieldErrors, Resource};
use numbers_core::ids::{OrderId, ReservationId};
use numbers_core::number::{AssignmentData, Label, Metadata};
use numbers_core::order::{OrderRequest, OrderStatus};
use numbers_core::service::OrderSubmission;
use numbers_core::store::OrderFilter;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::extract::{Caller, JsonBody, Query};
use super::problem::ApiResult;
use super::request::{self, Field, StringList, Values};
use super::reservations::parse_numbers;
use super::search_params::{SearchCriteria, search_from_json};
use super::views::{ListView, OrderView};
use crate::ApiState;

/// Body of `POST /v1/orders`: either `numbers`, or `search` with `quantity`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CreateOrder {
    /// Explicit E.164 numbers.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    numbers: Field<StringList>,
    /// Search criteria, same names as `GET /v1/available-numbers`.
    #[serde(default)]
    #[schema(value_type = SearchCriteria)]
    search: Field<Value>,
    /// With `search`: how many numbers (1 to 5000).
    #[serde(default)]
    #[schema(value_type = Option<u32>)]
    quantity: Field<u64>,
    /// Take what is available when not everything is (default false: all or nothing).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    partial_allowed: Field<bool>,
    /// Keep trying until the order is complete (retried whenever inventory changes).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    backorder_requested: Field<bool>,
    /// Reservations of this account whose numbers the order may take.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    reservation_ids: Field<StringList>,
    /// Label set on every number won (≤ 100 characters).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    label: Field<String>,
    /// Metadata set on every number won (≤ 11 pairs; key ≤ 100, value ≤ 256 characters).
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    metadata: Field<Value>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    name: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    customer_order_id: Field<String>,
}

/// Query of `GET /v1/orders`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListOrders {
    /// Comma-separated statuses.
    #[param(value_type = Option<String>)]
    status: Values,
    #[param(value_type = Option<String>)]
    customer_order_id: Values,
    /// 1 to 1000, default 50.
    #[param(value_type = Option<u32>)]
    page_size: Values,
    #[param(value_type = Option<String>)]
    page_token: Values,
}

pub(super) fn parse_label(
    raw: &Field<String>,
    errors: &mut FieldErrors,
    field: &str,
) -> Option<Label> {
    let raw = raw.value(errors, field)?;
    errors.take(Label::parse(raw, field))
}

pub(super) fn parse_metadata(
    raw: &Field<Value>,
    errors: &mut FieldErrors,
    field: &str,
) -> Option<Metadata> {
    let raw = raw.json()?;
    errors.take(Metadata::from_json(raw, field))
}

fn short_text(
    raw: &Field<String>,
    errors: &mut FieldErrors,
    field: &str,
    max: usize,
) -> Option<String> {
    let s = raw.value(errors, field)?;
    if s.chars().count() > max {
        errors.push(field, format!("must be at most {max} characters"));
        return None;
    }
    Some(s.to_string())
}

impl CreateOrder {
    /// The order to submit, or every field error (with `errors`, the unknown fields).
    fn parse(
        &self,
        mut errors: FieldErrors,
        headers: &HeaderMap,
    ) -> Result<OrderSubmission, Error> {
        let request = match (self.numbers.is_sent(), self.search.is_sent()) {
            (true, false) => {
                if self.quantity.is_sent() {
                    errors.push("quantity", "only applies to search orders");
                }
                Some(OrderRequest::Numbers(parse_numbers(
                    &self.numbers,
                    &mut errors,
                    "numbers",
                )))
            }
            (false, true) => {
                let search = match self.search.json() {
                    Some(v) => errors.take(search_from_json(v, "search.")),
                    None => {
                        errors.push("search", "must be an object of search criteria");
                        None
                    }
                };
                let quantity = self.quantity.value(&mut errors, "quantity").copied();
                if quantity.is_none() {
                    errors.push_as(
                        FieldErrorKind::Required,
                        "quantity",
                        "is required with search",
                    );
                }
                match (search, quantity) {
                    (Some(query), Some(q)) => Some(OrderRequest::Search {
                        query,
                        quantity: q.min(u64::from(u32::MAX)) as u32,
                    }),
                    _ => None,
                }
            }
            (true, true) => {
                errors.push("search", "give either numbers or search, not both");
                None
            }
            (false, false) => {
                errors.push(
                    "numbers",
                    "give either numbers (a list of E.164 numbers) or search with quantity",
                );
                None
            }
        };
        let partial_allowed = self
            .partial_allowed
            .value(&mut errors, "partial_allowed")
            .copied()
            .unwrap_or(false);
        let backorder_requested = self
            .backorder_requested
            .value(&mut errors, "backorder_requested")
            .copied()
            .unwrap_or(false);
        let mut reservation_ids = Vec::new();
        let raw_ids = self.reservation_ids.value(&mut errors, "reservation_ids");
        for (i, raw) in raw_ids
            .map(|l| l.0.as_slice())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            match raw.parse::<ReservationId>() {
                Ok(id) => reservation_ids.push(id),
                Err(_) => errors.push(
                    format!("reservation_ids[{i}]"),
                    "must be a reservation id (UUID)",
                ),
            }
        }
        let template = AssignmentData {
            label: parse_label(&self.label, &mut errors, "label"),
            metadata: parse_metadata(&self.metadata, &mut errors, "metadata").unwrap_or_default(),
            ..Default::default()
        };
        let name = short_text(&self.name, &mut errors, "name", 100);
        let customer_order_id = short_text(
            &self.customer_order_id,
            &mut errors,
            "customer_order_id",
            100,
        );
        let idempotency_key = match headers.get("idempotency-key").map(|v| v.to_str()) {
            None => None,
            Some(Ok(v)) => Some(v.to_string()),
            Some(Err(_)) => {
                errors.push("Idempotency-Key", "must be visible ASCII");
                None
            }
        };
        errors.into_result()?;
        let request = request.ok_or_else(|| Error::invalid("body", "no order request"))?;
        let submission = OrderSubmission {
            request,
            partial_allowed,
            backorder_requested,
            reservation_ids,
            template,
            name,
            customer_order_id,
            idempotency_key,
            dialect_data: serde_json::Value::Null,
        };
        Ok(submission)
    }
}

#[utoipa::path(
    post, path = "/v1/orders", tag = "orders",
    request_body = CreateOrder,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retrying with the same key returns the same order")),
    responses(
        (status = 202, description = "Accepted (status RECEIVED); poll the Location", body = OrderView),
        (status = 200, description = "Idempotent replay: the order created earlier with this key", body = OrderView),
        (status = 400, body = super::problem::Problem),
        (status = 409, description = "Idempotency key reused with a different body", body = super::problem::Problem),
    ),
    security(("basic" = []))
)]
pub async fn create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let account = principal.account()?;
    let (body, errors) = request::body::<CreateOrder>(&body)?;
    let submission = body.parse(errors, &headers)?;
    let (order, created) = state.service.submit_order(account, submission).await?;
    let mut out = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/orders/{}", order.id())) {
        out.insert(header::LOCATION, v);
    }
    let status = if created {
        StatusCode::ACCEPTED
    } else {
        out.insert("idempotent-replayed", HeaderValue::from_static("true"));
        StatusCode::OK
    };
    Ok((status, out, Json(OrderView::render(&order))))
}

fn order_id(raw: &str) -> Result<OrderId, Error> {
    raw.parse::<OrderId>()
        .map_err(|_| Error::not_found(Resource::Order, raw))
}

#[utoipa::path(
    get, path = "/v1/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn get(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderView>> {
    let order = state.service.get_order(principal, order_id(&id)?).await?;
    Ok(Json(OrderView::render(&order)))
}

impl ListOrders {
    /// The filter, or every field error.
    fn parse(&self) -> Result<OrderFilter, Error> {
        let mut errors = FieldErrors::new();
        let mut statuses = Vec::new();
        for part in self.status.list() {
            match OrderStatus::parse(part) {
                Some(s) => statuses.push(s),
                None => errors.push("status", format!("unknown status '{part}'")),
            }
        }
        let page_size = errors
            .take(super::numbers::page_size(self.page_size.first()))
            .unwrap_or(50);
        let before = match self.page_token.first() {
            None => None,
            Some(t) => errors.take(numbers_core::page::decode_id_token::<OrderId>(
                t,
                "page_token",
            )),
        };
        errors.into_result()?;
        let filter = OrderFilter {
            statuses,
            customer_order_id: self.customer_order_id.first().map(str::to_string),
            page_size,
            before,
            ..Default::default()
        };
        Ok(filter)
    }
}

#[utoipa::path(
    get, path = "/v1/orders", tag = "orders",
    params(ListOrders),
    responses((status = 200, body = ListView<OrderView>), (status = 400, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(q): Query,
) -> ApiResult<Json<ListView<OrderView>>> {
    let account = principal.account()?;
    let q: ListOrders = request::query(&q)?;
    let filter = q.parse()?;
    let page = state.service.list_orders(account, &filter).await?;
    Ok(Json(ListView::from_page(&page, OrderView::render)))
}

#[utoipa::path(
    post, path = "/v1/orders/{id}/close", tag = "orders",
    params(("id" = String, Path, description = "Order id")),
    responses(
        (status = 200, description = "The backorder stops waiting and ends with what it has", body = OrderView),
        (status = 404, body = super::problem::Problem),
        (status = 409, description = "Not a backordered order", body = super::problem::Problem),
    ),
    security(("basic" = []))
)]
pub async fn close(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderView>> {
    let account = principal.account()?;
    let order = state
        .service
        .close_backorder(account, order_id(&id)?)
        .await?;
    Ok(Json(OrderView::render(&order)))
}
