//! `/tns/{tn}/sites`, `/sippeers`, `/ratecenter` and `/lata`: the one-fact look-ups of a TN the
//! SDKs call. A TN is visible as in `/tns/{tn}` (`inventory::visible`); its site and SIP peer
//! are shown only to the account it is in service with (404 4017 otherwise, as for a TN it
//! cannot see), its rate center and LATA to anyone who can see it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use numbers_core::error::{Error, Resource};
use numbers_core::ids::AccountId;
use numbers_core::number::{Number, NumberState};

use super::error::BwResult;
use super::inventory::visible;
use super::xml::El;
use super::{BwAccount, area, xml};
use crate::ApiState;

/// The TN's site and peer ids when it is in service with `me`.
fn placement(n: &Number, me: AccountId) -> (Option<i64>, Option<i64>) {
    if n.owner != Some(me) || n.state != NumberState::Assigned {
        return (None, None);
    }
    let id = |v: &Option<String>| v.as_deref().and_then(|s| s.parse::<i64>().ok());
    (id(&n.assignment.site_id), id(&n.assignment.peer_id))
}

pub async fn site(
    State(state): State<ApiState>,
    BwAccount {
        account: me, fail, ..
    }: BwAccount<area::Tns>,
    Path(raw_tn): Path<String>,
) -> BwResult<Response> {
    let n = visible(&state, me, &raw_tn).await?;
    let (Some(site_id), _) = placement(&n, me) else {
        return Err(fail(Error::not_found(Resource::Number, raw_tn)));
    };
    let site = state.service.get_site(me, site_id).await.map_err(fail)?;
    let root = El::new("Site")
        .leaf_child("Id", site.id)
        .leaf_child("Name", site.fields.name);
    Ok(xml(StatusCode::OK, &root))
}

pub async fn sip_peer(
    State(state): State<ApiState>,
    BwAccount {
        account: me, fail, ..
    }: BwAccount<area::Tns>,
    Path(raw_tn): Path<String>,
) -> BwResult<Response> {
    let n = visible(&state, me, &raw_tn).await?;
    let (Some(site_id), Some(peer_id)) = placement(&n, me) else {
        return Err(fail(Error::not_found(Resource::Number, raw_tn)));
    };
    let peer = state
        .service
        .get_peer(me, site_id, peer_id)
        .await
        .map_err(fail)?;
    let root = El::new("SipPeer")
        .leaf_child("Id", peer.id)
        .leaf_child("Name", peer.fields.name);
    Ok(xml(StatusCode::OK, &root))
}

pub async fn rate_center(
    State(state): State<ApiState>,
    BwAccount { account: me, .. }: BwAccount<area::Tns>,
    Path(raw_tn): Path<String>,
) -> BwResult<Response> {
    let n = visible(&state, me, &raw_tn).await?;
    let details = El::new("TelephoneNumberDetails")
        .opt("State", n.location.state.as_deref())
        .opt("RateCenter", n.location.rate_center.as_deref());
    Ok(xml(
        StatusCode::OK,
        &El::new("TelephoneNumberResponse").child(details),
    ))
}

pub async fn lata(
    State(state): State<ApiState>,
    BwAccount { account: me, .. }: BwAccount<area::Tns>,
    Path(raw_tn): Path<String>,
) -> BwResult<Response> {
    let n = visible(&state, me, &raw_tn).await?;
    let details = El::new("TelephoneNumberDetails").opt("Lata", n.location.lata.as_deref());
    Ok(xml(
        StatusCode::OK,
        &El::new("TelephoneNumberResponse").child(details),
    ))
}
