//! `/accounts/{id}/tnreservation`: hold one TN for the account (4 hours by default, the core's
//! reservation lifetime); read it (`ReservationExpires` = seconds left) and release it.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use numbers_core::error::{Error, Resource};
use numbers_core::ids::ReservationId;
use numbers_core::reservation::Reservation;

use super::error::{Area, BwError, BwResult};
use super::xml::El;
use super::{BwAccount, area, created, parse_document, parse_tn, tn, xml};
use crate::ApiState;

fn document(r: &Reservation, now: numbers_core::clock::Timestamp) -> El {
    let left = (r.expires_at - now).num_seconds().max(0);
    let mut reservation = El::new("Reservation")
        .leaf_child("ReservationId", r.id)
        .leaf_child("AccountId", r.account)
        .leaf_child("ReservationExpires", left);
    for n in &r.numbers {
        reservation.push(El::leaf("ReservedTn", tn(n)));
    }
    El::new("ReservationResponse").child(reservation)
}

fn reservation_id(raw: &str) -> BwResult<ReservationId> {
    raw.parse().map_err(|_| {
        BwError::core(
            Area::Reservations,
            Error::not_found(Resource::Reservation, raw),
        )
    })
}

pub async fn create(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Reservations>,
    headers: HeaderMap,
    body: Bytes,
) -> BwResult<Response> {
    let doc = parse_document(&body, Area::Reservations, "Reservation")?;
    let raw = doc
        .text_of("ReservedTn")
        .ok_or_else(|| fail(Error::required("ReservedTn")))?;
    let number = parse_tn(raw, "ReservedTn").map_err(fail)?;
    let reservation = state
        .service
        .reserve(account, vec![number.clone()], None)
        .await
        .map_err(|e| match e {
            Error::Conflict { kind, .. } => fail(Error::Conflict {
                kind,
                message: format!(
                    "Reservation failed: telephone number {} is not available.",
                    tn(&number)
                ),
            }),
            other => fail(other),
        })?;
    Ok(created(
        &headers,
        &format!("/api/accounts/{account}/tnreservation/{}", reservation.id),
        None,
    ))
}

pub async fn get(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Reservations>,
    Path((_, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let r = state
        .service
        .get_reservation(account, reservation_id(&id)?)
        .await
        .map_err(fail)?;
    Ok(xml(StatusCode::OK, &document(&r, state.service.now())))
}

pub async fn delete(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Reservations>,
    Path((_, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let r = state
        .service
        .release_reservation(account, reservation_id(&id)?)
        .await
        .map_err(fail)?;
    Ok(xml(StatusCode::OK, &document(&r, state.service.now())))
}
