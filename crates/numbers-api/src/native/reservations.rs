//! `/v1/reservations`: hold specific numbers for a while.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use numbers_core::error::{Error, FieldErrorKind, FieldErrors, Resource};
use numbers_core::ids::ReservationId;
use numbers_core::number::E164;
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{Caller, JsonBody};
use super::problem::ApiResult;
use super::request::{self, Field, StringList};
use super::views::ReservationView;
use crate::ApiState;

/// Body of `POST /v1/reservations`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CreateReservation {
    /// E.164 numbers to hold (all or nothing).
    #[serde(default)]
    #[schema(value_type = Vec<String>, required = true)]
    numbers: Field<StringList>,
    /// Lifetime in seconds, default 14400 (4 h), at most 172800 (48 h).
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    ttl_seconds: Field<u64>,
}

impl CreateReservation {
    /// The numbers and lifetime, or every field error (with `errors`, the unknown fields).
    fn parse(&self, mut errors: FieldErrors) -> Result<(Vec<E164>, Option<u64>), Error> {
        let numbers = parse_numbers(&self.numbers, &mut errors, "numbers");
        let ttl_seconds = self.ttl_seconds.value(&mut errors, "ttl_seconds").copied();
        errors.into_result()?;
        Ok((numbers, ttl_seconds))
    }
}

/// A list of E.164 numbers the request must carry, each bad one named by its index.
pub(super) fn parse_numbers(
    raw: &Field<StringList>,
    errors: &mut FieldErrors,
    field: &str,
) -> Vec<E164> {
    let Some(StringList(raw)) = raw.value(errors, field) else {
        errors.push_as(
            FieldErrorKind::Required,
            field,
            "is required: a list of E.164 numbers",
        );
        return vec![];
    };
    let mut out = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        match E164::parse(s) {
            Ok(e) => out.push(e),
            Err(_) => errors.push(
                format!("{field}[{i}]"),
                format!("'{s}' is not an E.164 number (e.g. +14155550123)"),
            ),
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
    let (body, errors) = request::body::<CreateReservation>(&body)?;
    let (numbers, ttl_seconds) = body.parse(errors)?;
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
