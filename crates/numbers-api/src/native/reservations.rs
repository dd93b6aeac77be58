//! `/v1/reservations`: hold specific numbers for a while.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use numbers_core::error::{Error, FieldErrorKind, Resource};
use numbers_core::ids::ReservationId;
use numbers_core::number::E164;

use super::extract::{Caller, JsonBody};
use super::problem::ApiResult;
use super::views::ReservationView;
use crate::ApiState;
use crate::wire::JsonObject;

/// Body of `POST /v1/reservations`.
#[allow(dead_code)]
#[derive(utoipa::ToSchema)]
pub struct CreateReservation {
    /// E.164 numbers to hold (all or nothing).
    numbers: Vec<String>,
    /// Lifetime in seconds, default 14400 (4 h), at most 172800 (48 h).
    ttl_seconds: Option<u64>,
}

pub(super) fn parse_numbers(obj: &mut JsonObject<'_>, field: &str) -> Vec<E164> {
    let Some(raw) = obj.opt_str_list(field) else {
        let name = obj.name(field);
        obj.errors.push_as(
            FieldErrorKind::Required,
            name,
            "is required: a list of E.164 numbers",
        );
        return vec![];
    };
    let mut out = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        match E164::parse(s) {
            Ok(e) => out.push(e),
            Err(_) => {
                let name = format!("{}[{i}]", obj.name(field));
                obj.errors.push(
                    name,
                    format!("'{s}' is not an E.164 number (e.g. +14155550123)"),
                );
            }
        }
    }
    out
}

#[utoipa::path(
    post, path = "/v1/reservations", tag = "reservations",
    request_body = CreateReservation,
    responses(
        (status = 201, description = "Reserved", body = ReservationView),
        (status = 400, description = "Invalid request", body = super::problem::Problem),
        (status = 409, description = "A number is not available (code NUMBERS_UNAVAILABLE)", body = super::problem::Problem),
    ),
    security(("basic" = []))
)]
pub async fn create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, HeaderMap, Json<ReservationView>)> {
    let account = principal.account()?;
    let mut obj = JsonObject::new(&body, "")?;
    obj.reject_unknown(&["numbers", "ttl_seconds"]);
    let numbers = parse_numbers(&mut obj, "numbers");
    let ttl_seconds = obj.opt_u64("ttl_seconds");
    obj.finish()?;
    let reservation = state.service.reserve(account, numbers, ttl_seconds).await?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/reservations/{}", reservation.id)) {
        headers.insert(header::LOCATION, v);
    }
    Ok((
        StatusCode::CREATED,
        headers,
        Json(ReservationView::render(&reservation, state.service.now())),
    ))
}

fn reservation_id(raw: &str) -> Result<ReservationId, Error> {
    raw.parse::<ReservationId>()
        .map_err(|_| Error::not_found(Resource::Reservation, raw))
}

#[utoipa::path(
    get, path = "/v1/reservations/{id}", tag = "reservations",
    params(("id" = String, Path, description = "Reservation id")),
    responses((status = 200, body = ReservationView), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn get(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ReservationView>> {
    let account = principal.account()?;
    let reservation = state
        .service
        .get_reservation(account, reservation_id(&id)?)
        .await?;
    Ok(Json(ReservationView::render(
        &reservation,
        state.service.now(),
    )))
}

#[utoipa::path(
    delete, path = "/v1/reservations/{id}", tag = "reservations",
    params(("id" = String, Path, description = "Reservation id")),
    responses(
        (status = 200, description = "Released; its numbers are on offer again", body = ReservationView),
        (status = 404, body = super::problem::Problem),
        (status = 409, description = "No longer active (code RESERVATION_NOT_ACTIVE)", body = super::problem::Problem),
    ),
    security(("basic" = []))
)]
pub async fn release(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ReservationView>> {
    let account = principal.account()?;
    let reservation = state
        .service
        .release_reservation(account, reservation_id(&id)?)
        .await?;
    Ok(Json(ReservationView::render(
        &reservation,
        state.service.now(),
    )))
}
