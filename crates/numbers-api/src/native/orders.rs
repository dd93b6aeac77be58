//! `/v1/orders`: asynchronous orders by explicit numbers or by search criteria and a quantity.

use std::collections::BTreeMap;

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

use super::extract::{Caller, JsonBody, Query};
use super::problem::ApiResult;
use super::reservations::parse_numbers;
use super::search_params::search_from_json;
use super::views::{ListView, OrderView};
use crate::ApiState;
use crate::wire::{Field, JsonObject};

/// Body of `POST /v1/orders`: either `numbers`, or `search` with `quantity`.
#[allow(dead_code)]
#[derive(utoipa::ToSchema)]
pub struct CreateOrder {
    /// Explicit E.164 numbers.
    numbers: Option<Vec<String>>,
    /// Search criteria, same names as `GET /v1/available-numbers`.
    #[schema(value_type = Option<Object>)]
    search: Option<serde_json::Value>,
    /// With `search`: how many numbers (1 to 5000).
    quantity: Option<u32>,
    /// Take what is available when not everything is (default false: all or nothing).
    partial_allowed: Option<bool>,
    /// Keep trying until the order is complete (retried whenever inventory changes).
    backorder_requested: Option<bool>,
    /// Reservations of this account whose numbers the order may take.
    reservation_ids: Option<Vec<String>>,
    /// Label set on every number won (≤ 100 characters).
    label: Option<String>,
    /// Metadata set on every number won (≤ 11 pairs; key ≤ 100, value ≤ 256 characters).
    metadata: Option<BTreeMap<String, String>>,
    name: Option<String>,
    customer_order_id: Option<String>,
}

pub(super) fn parse_label(obj: &mut JsonObject<'_>, field: &str) -> Option<Label> {
    let raw = obj.opt_str(field)?;
    let name = obj.name(field);
    obj.errors.take(Label::parse(raw, &name))
}

pub(super) fn parse_metadata(obj: &mut JsonObject<'_>, field: &str) -> Option<Metadata> {
    match obj.field(field) {
        Field::Absent | Field::Null => None,
        Field::Present(v) => {
            let name = obj.name(field);
            obj.errors.take(Metadata::from_json(v, &name))
        }
    }
}

fn short_text(obj: &mut JsonObject<'_>, field: &str, max: usize) -> Option<String> {
    let s = obj.opt_str(field)?;
    if s.chars().count() > max {
        let name = obj.name(field);
        obj.errors
            .push(name, format!("must be at most {max} characters"));
        return None;
    }
    Some(s.to_string())
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
    let mut obj = JsonObject::new(&body, "")?;
    obj.reject_unknown(&[
        "numbers",
        "search",
        "quantity",
        "partial_allowed",
        "backorder_requested",
        "reservation_ids",
        "label",
        "metadata",
        "name",
        "customer_order_id",
    ]);
    let has_numbers = obj.field("numbers") != Field::Absent;
    let has_search = obj.field("search") != Field::Absent;
    let request = match (has_numbers, has_search) {
        (true, false) => {
            if obj.field("quantity") != Field::Absent {
                obj.errors.push("quantity", "only applies to search orders");
            }
            Some(OrderRequest::Numbers(parse_numbers(&mut obj, "numbers")))
        }
        (false, true) => {
            let search = match obj.field("search") {
                Field::Present(v) => obj.errors.take(search_from_json(v, "search.")),
                _ => {
                    obj.errors
                        .push("search", "must be an object of search criteria");
                    None
                }
            };
            let quantity = obj.opt_u64("quantity");
            if quantity.is_none() {
                obj.errors.push_as(
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
            obj.errors
                .push("search", "give either numbers or search, not both");
            None
        }
        (false, false) => {
            obj.errors.push(
                "numbers",
                "give either numbers (a list of E.164 numbers) or search with quantity",
            );
            None
        }
    };
    let partial_allowed = obj.opt_bool("partial_allowed").unwrap_or(false);
    let backorder_requested = obj.opt_bool("backorder_requested").unwrap_or(false);
    let mut reservation_ids = Vec::new();
    for (i, raw) in obj
        .opt_str_list("reservation_ids")
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        match raw.parse::<ReservationId>() {
            Ok(id) => reservation_ids.push(id),
            Err(_) => obj.errors.push(
                format!("reservation_ids[{i}]"),
                "must be a reservation id (UUID)",
            ),
        }
    }
    let template = AssignmentData {
        label: parse_label(&mut obj, "label"),
        metadata: parse_metadata(&mut obj, "metadata").unwrap_or_default(),
        ..Default::default()
    };
    let name = short_text(&mut obj, "name", 100);
    let customer_order_id = short_text(&mut obj, "customer_order_id", 100);
    let idempotency_key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(v)) => Some(v.to_string()),
        Some(Err(_)) => {
            obj.errors.push("Idempotency-Key", "must be visible ASCII");
            None
        }
    };
    obj.finish()?;
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

#[utoipa::path(
    get, path = "/v1/orders", tag = "orders",
    params(
        ("status" = Option<String>, Query, description = "Comma-separated statuses"),
        ("customer_order_id" = Option<String>, Query),
        ("page_size" = Option<u32>, Query, description = "1 to 1000, default 50"),
        ("page_token" = Option<String>, Query),
    ),
    responses((status = 200, body = ListView<OrderView>), (status = 400, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(q): Query,
) -> ApiResult<Json<ListView<OrderView>>> {
    let account = principal.account()?;
    q.reject_unknown(&["status", "customer_order_id", "page_size", "page_token"])?;
    let mut errors = FieldErrors::new();
    let mut statuses = Vec::new();
    for part in q.list("status") {
        match OrderStatus::parse(part) {
            Some(s) => statuses.push(s),
            None => errors.push("status", format!("unknown status '{part}'")),
        }
    }
    let page_size = errors
        .take(super::numbers::page_size(q.get("page_size")))
        .unwrap_or(50);
    let before = match q.get("page_token") {
        None => None,
        Some(t) => errors.take(numbers_core::page::decode_id_token::<OrderId>(
            t,
            "page_token",
        )),
    };
    errors.into_result()?;
    let filter = OrderFilter {
        statuses,
        customer_order_id: q.get("customer_order_id").map(str::to_string),
        page_size,
        before,
        ..Default::default()
    };
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
