//! `/accounts/{id}/sites` and `/sites/{siteId}/sippeers`: the account's sites and SIP peers.
//! Orders name a site (required) and optionally a peer; see `numbers_core::site` for the
//! default-peer rule. Voice settings of a `<SipPeer>` (hosts, termination…) are not kept.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use numbers_core::error::{Error, Resource};
use numbers_core::site::{PeerFields, SipPeer, Site, SiteAddress, SiteFields};

use super::error::{Area, BwError, BwResult, renamed};
use super::xml::{El, Element};
use super::{BwAccount, area, created, parse_bool, parse_document, xml};
use crate::ApiState;

fn site_fields(doc: &Element) -> Result<SiteFields, Error> {
    let address = doc.child("Address").map(|a| {
        let part = |name: &str| a.text_of(name).map(str::to_string);
        SiteAddress {
            house_number: part("HouseNumber"),
            street_name: part("StreetName"),
            street_suffix: part("StreetSuffix"),
            post_directional: part("PostDirectional"),
            city: part("City"),
            state_code: part("StateCode"),
            zip: part("Zip"),
            country: part("Country"),
            address_type: part("AddressType"),
        }
    });
    SiteFields::parse(
        doc.text_of("Name"),
        doc.text_of("Description"),
        doc.text_of("CustomerName"),
        doc.text_of("CustomerProvidedId"),
        address,
    )
    .map_err(|e| renamed(e, SITE_FIELDS))
}

/// Core's names for a site's fields, and Bandwidth's.
const SITE_FIELDS: &[(&str, &str)] = &[
    ("name", "Name"),
    ("description", "Description"),
    ("customer_name", "CustomerName"),
    ("customer_provided_id", "CustomerProvidedId"),
    ("address.house_number", "Address.HouseNumber"),
    ("address.street_name", "Address.StreetName"),
    ("address.street_suffix", "Address.StreetSuffix"),
    ("address.post_directional", "Address.PostDirectional"),
    ("address.city", "Address.City"),
    ("address.state_code", "Address.StateCode"),
    ("address.zip", "Address.Zip"),
    ("address.country", "Address.Country"),
    ("address.address_type", "Address.AddressType"),
];

fn site_el(s: &Site) -> El {
    let mut el = El::new("Site")
        .leaf_child("Id", s.id)
        .leaf_child("Name", &s.fields.name)
        .opt("Description", s.fields.description.as_deref())
        .opt("CustomerName", s.fields.customer_name.as_deref())
        .opt(
            "CustomerProvidedId",
            s.fields.customer_provided_id.as_deref(),
        );
    if let Some(a) = &s.fields.address {
        el.push(
            El::new("Address")
                .opt("HouseNumber", a.house_number.as_deref())
                .opt("StreetName", a.street_name.as_deref())
                .opt("StreetSuffix", a.street_suffix.as_deref())
                .opt("PostDirectional", a.post_directional.as_deref())
                .opt("City", a.city.as_deref())
                .opt("StateCode", a.state_code.as_deref())
                .opt("Zip", a.zip.as_deref())
                .opt("Country", a.country.as_deref())
                .leaf_child(
                    "AddressType",
                    a.address_type.as_deref().unwrap_or("Service"),
                ),
        );
    }
    el
}

fn peer_fields(doc: &Element) -> Result<PeerFields, Error> {
    let is_default = parse_bool(doc.text_of("IsDefaultPeer"), "IsDefaultPeer", false)?;
    PeerFields::parse(
        doc.text_of("PeerName"),
        doc.text_of("Description"),
        is_default,
    )
    .map_err(|e| renamed(e, &[("name", "PeerName"), ("description", "Description")]))
}

fn peer_el(p: &SipPeer) -> El {
    El::new("SipPeer")
        .leaf_child("PeerId", p.id)
        .leaf_child("PeerName", &p.fields.name)
        .opt("Description", p.fields.description.as_deref())
        .leaf_child("IsDefaultPeer", p.fields.is_default)
}

fn id(raw: &str, area: Area, what: Resource) -> BwResult<i64> {
    raw.trim()
        .parse()
        .map_err(|_| BwError::core(area, Error::not_found(what, raw)))
}

pub async fn create(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Sites>,
    headers: HeaderMap,
    body: Bytes,
) -> BwResult<Response> {
    let doc = parse_document(&body, Area::Sites, "Site")?;
    let fields = site_fields(&doc).map_err(fail)?;
    let site = state
        .service
        .create_site(account, &fields)
        .await
        .map_err(fail)?;
    let root = El::new("SiteResponse").child(site_el(&site));
    Ok(created(
        &headers,
        &format!("/api/accounts/{account}/sites/{}", site.id),
        Some(&root),
    ))
}

pub async fn list(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Sites>,
) -> BwResult<Response> {
    let sites = state.service.list_sites(account).await.map_err(fail)?;
    let root = El::new("SitesResponse").child(El::new("Sites").children(sites.iter().map(|s| {
        El::new("Site")
            .leaf_child("Id", s.id)
            .leaf_child("Name", &s.fields.name)
            .opt("Description", s.fields.description.as_deref())
    })));
    Ok(xml(StatusCode::OK, &root))
}

pub async fn get(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Sites>,
    Path((_, site_id)): Path<(String, String)>,
) -> BwResult<Response> {
    let site = state
        .service
        .get_site(account, id(&site_id, Area::Sites, Resource::Site)?)
        .await
        .map_err(fail)?;
    Ok(xml(
        StatusCode::OK,
        &El::new("SiteResponse").child(site_el(&site)),
    ))
}

pub async fn update(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Sites>,
    Path((_, site_id)): Path<(String, String)>,
    body: Bytes,
) -> BwResult<Response> {
    let site_id = id(&site_id, Area::Sites, Resource::Site)?;
    let doc = parse_document(&body, Area::Sites, "Site")?;
    let fields = site_fields(&doc).map_err(fail)?;
    let site = state
        .service
        .update_site(account, site_id, &fields)
        .await
        .map_err(fail)?;
    Ok(xml(
        StatusCode::OK,
        &El::new("SiteResponse").child(site_el(&site)),
    ))
}

pub async fn delete(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Sites>,
    Path((_, site_id)): Path<(String, String)>,
) -> BwResult<Response> {
    state
        .service
        .delete_site(account, id(&site_id, Area::Sites, Resource::Site)?)
        .await
        .map_err(fail)?;
    Ok(StatusCode::OK.into_response())
}

pub async fn create_peer(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::SipPeers>,
    headers: HeaderMap,
    Path((_, site_id)): Path<(String, String)>,
    body: Bytes,
) -> BwResult<Response> {
    let site_id = id(&site_id, Area::SipPeers, Resource::Site)?;
    let doc = parse_document(&body, Area::SipPeers, "SipPeer")?;
    let fields = peer_fields(&doc).map_err(fail)?;
    let peer = state
        .service
        .create_peer(account, site_id, &fields)
        .await
        .map_err(fail)?;
    let root = El::new("SipPeerResponse").child(peer_el(&peer));
    Ok(created(
        &headers,
        &format!(
            "/api/accounts/{account}/sites/{site_id}/sippeers/{}",
            peer.id
        ),
        Some(&root),
    ))
}

pub async fn list_peers(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::SipPeers>,
    Path((_, site_id)): Path<(String, String)>,
) -> BwResult<Response> {
    let peers = state
        .service
        .list_peers(account, id(&site_id, Area::SipPeers, Resource::Site)?)
        .await
        .map_err(fail)?;
    let root = El::new("TNSipPeersResponse")
        .child(El::new("SipPeers").children(peers.iter().map(peer_el)));
    Ok(xml(StatusCode::OK, &root))
}

pub async fn get_peer(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::SipPeers>,
    Path((_, site_id, peer_id)): Path<(String, String, String)>,
) -> BwResult<Response> {
    let site_id = id(&site_id, Area::SipPeers, Resource::Site)?;
    let peer = state
        .service
        .get_peer(
            account,
            site_id,
            id(&peer_id, Area::SipPeers, Resource::SipPeer)?,
        )
        .await
        .map_err(fail)?;
    Ok(xml(
        StatusCode::OK,
        &El::new("SipPeerResponse").child(peer_el(&peer)),
    ))
}

pub async fn update_peer(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::SipPeers>,
    Path((_, site_id, peer_id)): Path<(String, String, String)>,
    body: Bytes,
) -> BwResult<Response> {
    let site_id = id(&site_id, Area::SipPeers, Resource::Site)?;
    let peer_id = id(&peer_id, Area::SipPeers, Resource::SipPeer)?;
    let doc = parse_document(&body, Area::SipPeers, "SipPeer")?;
    let fields = peer_fields(&doc).map_err(fail)?;
    let peer = state
        .service
        .update_peer(account, site_id, peer_id, &fields)
        .await
        .map_err(fail)?;
    Ok(xml(
        StatusCode::OK,
        &El::new("SipPeerResponse").child(peer_el(&peer)),
    ))
}

pub async fn delete_peer(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::SipPeers>,
    Path((_, site_id, peer_id)): Path<(String, String, String)>,
) -> BwResult<Response> {
    let site_id = id(&site_id, Area::SipPeers, Resource::Site)?;
    state
        .service
        .delete_peer(
            account,
            site_id,
            id(&peer_id, Area::SipPeers, Resource::SipPeer)?,
        )
        .await
        .map_err(fail)?;
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use numbers_core::error::FieldErrorKind;

    use super::*;
    use crate::bandwidth::xml::parse;

    fn errors(result: Result<impl Sized, Error>) -> Vec<(String, FieldErrorKind)> {
        match result {
            Err(Error::Validation(e)) => e.into_iter().map(|f| (f.field, f.kind)).collect(),
            Err(other) => panic!("{other:?}"),
            Ok(_) => vec![],
        }
    }

    /// Core names its own fields; the errors reach the client under Bandwidth's names.
    #[test]
    fn field_errors_carry_bandwidth_names() {
        let long = "x".repeat(300);
        let doc = parse(
            format!("<Site><Description>{long}</Description><Address><City>{long}</City></Address></Site>")
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            errors(site_fields(&doc)),
            [
                ("Name".to_string(), FieldErrorKind::Required),
                ("Description".to_string(), FieldErrorKind::Invalid),
                ("Address.City".to_string(), FieldErrorKind::Invalid),
            ]
        );
        let doc = parse(b"<SipPeer><Description>d</Description></SipPeer>").unwrap();
        assert_eq!(
            errors(peer_fields(&doc)),
            [("PeerName".to_string(), FieldErrorKind::Required)]
        );
    }
}
