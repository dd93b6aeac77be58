//! `/tns/{tn}/sites`, `/sippeers`, `/ratecenter` and `/lata`: the one-fact look-ups of a TN the
//! SDKs call. A TN is visible as in `/tns/{tn}` (`inventory::visible`); its site and SIP peer
//! are shown only to the account it is in service with (404 4017 otherwise, as for a TN it
//! cannot see), its rate center and LATA to anyone who can see it. Also the other way round:
//! a SIP peer's in-service TNs (`/sites/{s}/sippeers/{p}/tns`), and moving TNs onto a peer
//! (`…/movetns`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use numbers_core::error::{Error, Resource};
use numbers_core::ids::AccountId;
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{Number, NumberState};
use numbers_core::site::SipPeer;
use numbers_core::store::NumberFilter;

use super::error::{Area, BwError, BwResult};
use super::inventory::visible;
use super::xml::El;
use super::{BwAccount, area, parse_document, parse_tn, tn, xml};
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

/// The peer a `…/sites/{s}/sippeers/{p}/…` path names: 404 (12016 / 13500) for a site or peer
/// the account does not have.
async fn path_peer(
    state: &ApiState,
    account: AccountId,
    fail: fn(Error) -> BwError,
    site_id: &str,
    peer_id: &str,
) -> BwResult<SipPeer> {
    let id = |raw: &str, resource| {
        raw.parse::<i64>()
            .map_err(|_| fail(Error::not_found(resource, raw)))
    };
    let site_id = id(site_id, Resource::Site)?;
    let peer_id = id(peer_id, Resource::SipPeer)?;
    state
        .service
        .get_peer(account, site_id, peer_id)
        .await
        .map_err(fail)
}

/// Numbers read per page while collecting a peer's TNs.
const PEER_SCAN_PAGE: u32 = 1000;

pub async fn peer_tns(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::SipPeers>,
    Path((_, site_id, peer_id)): Path<(String, String, String)>,
) -> BwResult<Response> {
    let peer = path_peer(&state, account, fail, &site_id, &peer_id).await?;
    // The account's in-service numbers whose assignment names this peer: the peer is kept in
    // each number's assignment data, not indexed, so the account's numbers are read in pages.
    let wanted = peer.id.to_string();
    let mut numbers = Vec::new();
    let mut after = None;
    loop {
        let filter = NumberFilter {
            page_size: PEER_SCAN_PAGE,
            after: after.take(),
            ..Default::default()
        };
        let page = state
            .service
            .list_numbers(account, &filter)
            .await
            .map_err(fail)?;
        numbers.extend(
            page.items
                .iter()
                .filter(|n| n.assignment.peer_id.as_deref() == Some(wanted.as_str()))
                .map(|n| El::new("SipPeerTelephoneNumber").leaf_child("FullNumber", tn(&n.e164))),
        );
        match (page.next_page_token, page.items.last()) {
            (Some(_), Some(last)) => after = Some(last.e164.as_str().to_string()),
            _ => break,
        }
    }
    let root = El::new("SipPeerTelephoneNumbersResponse")
        .child(El::new("SipPeerTelephoneNumbers").children(numbers));
    Ok(xml(StatusCode::OK, &root))
}

/// "only a maximum of 5000 Telephone Numbers can be moved in one operation".
const MAX_MOVE: usize = 5000;

/// `POST …/sippeers/{p}/movetns`: every listed TN (each in service with the account) is put on
/// this peer and its site. All are checked before any moves; the moves are one update per TN.
pub async fn move_tns(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::SipPeers>,
    Path((_, site_id, peer_id)): Path<(String, String, String)>,
    body: Bytes,
) -> BwResult<Response> {
    let peer = path_peer(&state, account, fail, &site_id, &peer_id).await?;
    let doc = parse_document(&body, Area::SipPeers, "SipPeerTelephoneNumbers")?;
    let refuse = |description: String| {
        BwError::new(Area::SipPeers, StatusCode::BAD_REQUEST, 5076, description)
    };
    let listed: Vec<&str> = doc
        .children_named("FullNumber")
        .map(|t| t.text.as_str())
        .collect();
    if listed.is_empty() || listed.len() > MAX_MOVE {
        return Err(refuse(format!(
            "list from 1 to {MAX_MOVE} FullNumber elements"
        )));
    }
    let mut numbers = Vec::with_capacity(listed.len());
    for raw in listed {
        let e164 = parse_tn(raw, "FullNumber").map_err(fail)?;
        match state.service.owned_number(account, &e164).await {
            Ok(_) => numbers.push(e164),
            Err(Error::NotFound { .. }) => {
                return Err(refuse(format!(
                    "Number {raw} does not belong to this account"
                )));
            }
            Err(e) => return Err(fail(e)),
        }
    }
    let patch = AssignmentPatch {
        site_id: Some(Some(peer.site_id.to_string())),
        peer_id: Some(Some(peer.id.to_string())),
        ..Default::default()
    };
    for e164 in &numbers {
        state
            .service
            .update_number(account, e164, &patch)
            .await
            .map_err(fail)?;
    }
    let moved = El::new("SipPeerTelephoneNumbers")
        .children(numbers.iter().map(|e| El::leaf("FullNumber", tn(e))));
    Ok(xml(
        StatusCode::OK,
        &El::new("SipPeerTelephoneNumberMoveResponse").child(moved),
    ))
}
