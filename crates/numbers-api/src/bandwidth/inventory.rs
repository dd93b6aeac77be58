//! The account's numbers in Bandwidth's words: `/inserviceNumbers` (ASSIGNED to the account),
//! `/discnumbers` (numbers its disconnect orders released), and `/tns` (no account prefix: the
//! status of one TN — Available, Reserved, Inservice or Aging, translated from the core state —
//! and its details).

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use numbers_core::account::Principal;
use numbers_core::error::{Error, FieldErrors, Resource};
use numbers_core::ids::AccountId;
use numbers_core::number::{Capability, E164, Number, NumberState};
use numbers_core::search::{DigitPattern, PatternPosition};
use numbers_core::store::NumberFilter;

use super::error::{Area, BwError, BwResult};
use super::xml::El;
use super::{BwAccount, area, parse_tn, time, tn, xml};
use crate::ApiState;
use crate::wire::QueryPairs;

/// `page` is `1` or the TN after which the page starts; `size` 1..=max.
fn paging(q: &QueryPairs, default: u32, max: u32, errors: &mut FieldErrors) -> (u32, Option<E164>) {
    let size = match q.get("size") {
        None => default,
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                errors.push("size", format!("must be from 1 to {max}"));
                default
            }
        },
    };
    let after = match q.get("page").map(str::trim) {
        None | Some("") | Some("1") => None,
        Some(v) => errors.take(parse_tn(v, "page")),
    };
    (size, after)
}

/// `areacode` / `npanxx` (Bandwidth's lower-case spellings here) as a starts-with filter.
fn prefix_filter(
    q: &QueryPairs,
    names: [&str; 2],
    errors: &mut FieldErrors,
) -> Option<DigitPattern> {
    let mut out = None;
    for (name, len) in [(names[0], 3), (names[1], 6)] {
        if let Some(v) = q.get(name).map(str::trim).filter(|v| !v.is_empty()) {
            if v.len() != len || !v.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(name, format!("must be {len} digits"));
            } else if out.is_some() {
                errors.push(name, "cannot be combined with another prefix");
            } else {
                out = Some(DigitPattern {
                    position: PatternPosition::StartsWith,
                    digits: format!("1{v}"),
                    international: true,
                });
            }
        }
    }
    out
}

fn links(base: &str, size: u32, next: Option<String>) -> El {
    let mut links = El::new("Links").leaf_child(
        "first",
        format!("Link=<{base}?page=1&size={size}>;rel=\"first\";"),
    );
    if let Some(next) = next {
        links.push(El::leaf(
            "next",
            format!("Link=<{base}?page={next}&size={size}>;rel=\"next\";"),
        ));
    }
    links
}

pub async fn in_service(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
    RawQuery(raw): RawQuery,
) -> BwResult<Response> {
    let q = QueryPairs::parse(raw.as_deref());
    q.reject_unknown(&["page", "size", "areacode", "npanxx"])
        .map_err(fail)?;
    let mut errors = FieldErrors::new();
    let (size, after) = paging(&q, 300, 5000, &mut errors);
    let pattern = prefix_filter(&q, ["areacode", "npanxx"], &mut errors);
    errors.into_result().map_err(fail)?;
    let filter = NumberFilter {
        pattern,
        page_size: size,
        after: after.map(|e| e.as_str().to_string()),
        ..Default::default()
    };
    let page = state
        .service
        .list_numbers(account, &filter)
        .await
        .map_err(fail)?;
    if page.items.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let total = state
        .service
        .count_numbers(account, &filter)
        .await
        .map_err(fail)?;
    let next = page
        .next_page_token
        .as_ref()
        .and(page.items.last())
        .map(|n| tn(&n.e164));
    let root = El::new("TNs")
        .leaf_child("TotalCount", total)
        .child(links(
            &format!("/api/accounts/{account}/inserviceNumbers"),
            size,
            next,
        ))
        .child(
            El::new("TelephoneNumbers")
                .leaf_child("Count", page.items.len())
                .children(
                    page.items
                        .iter()
                        .map(|n| El::leaf("TelephoneNumber", tn(&n.e164))),
                ),
        );
    Ok(xml(StatusCode::OK, &root))
}

pub async fn in_service_totals(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
) -> BwResult<Response> {
    let total = state
        .service
        .count_numbers(account, &NumberFilter::default())
        .await
        .map_err(fail)?;
    Ok(xml(
        StatusCode::OK,
        &El::new("Quantity").leaf_child("Count", total),
    ))
}

/// 200 with no body when the TN is in service on the account, 404 otherwise.
pub async fn in_service_one(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
    Path((_, raw_tn)): Path<(String, String)>,
) -> BwResult<Response> {
    let e164 =
        parse_tn(&raw_tn, "tn").map_err(|_| fail(Error::not_found(Resource::Number, &raw_tn)))?;
    state
        .service
        .owned_number(account, &e164)
        .await
        .map_err(fail)?;
    Ok(StatusCode::OK.into_response())
}

async fn disconnected_page(
    state: &ApiState,
    account: AccountId,
    q: &QueryPairs,
) -> Result<(Vec<E164>, usize, u32, Option<String>), Error> {
    q.reject_unknown(&["page", "size", "startdate", "enddate"])?;
    let mut errors = FieldErrors::new();
    let (size, after) = paging(q, 300, 5000, &mut errors);
    errors.into_result()?;
    let all = state.service.disconnected_numbers(account).await?;
    let start = match &after {
        Some(a) => all.iter().position(|e| e == a).map_or(all.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<E164> = all
        .iter()
        .skip(start)
        .take(size as usize)
        .cloned()
        .collect();
    let next = (start + page.len() < all.len())
        .then(|| page.last().map(tn))
        .flatten();
    Ok((page, all.len(), size, next))
}

pub async fn disconnected(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
    RawQuery(raw): RawQuery,
) -> BwResult<Response> {
    let q = QueryPairs::parse(raw.as_deref());
    let (page, total, size, next) = disconnected_page(&state, account, &q).await.map_err(fail)?;
    let root = El::new("TNs")
        .leaf_child("TotalCount", total)
        .child(links(
            &format!("/api/accounts/{account}/discnumbers"),
            size,
            next,
        ))
        .child(
            El::new("TelephoneNumbers")
                .leaf_child("Count", page.len())
                .children(page.iter().map(|e| El::leaf("TelephoneNumber", tn(e)))),
        );
    Ok(xml(StatusCode::OK, &root))
}

pub async fn disconnected_totals(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
) -> BwResult<Response> {
    let all = state
        .service
        .disconnected_numbers(account)
        .await
        .map_err(fail)?;
    Ok(xml(
        StatusCode::OK,
        &El::new("Quantity").leaf_child("Count", all.len()),
    ))
}

/// Bandwidth's TN status for the core state, as `me` sees the number.
fn status(n: &Number, now: numbers_core::clock::Timestamp) -> &'static str {
    if n.is_publicly_available(now) {
        return "Available";
    }
    match n.state {
        NumberState::Available => "Available",
        NumberState::Reserved => "Reserved",
        NumberState::Assigned => "Inservice",
        NumberState::Aging => "Aging",
    }
}

/// The account shown on a TN: its holder, or during aging the account that released it.
fn holder(n: &Number, me: AccountId) -> Option<AccountId> {
    match n.state {
        NumberState::Aging => n.last_owner.filter(|a| *a == me),
        _ => n.owner.filter(|a| *a == me),
    }
}

/// The TN as the caller may see it; anything else is the TN "not found".
pub(super) async fn visible(state: &ApiState, me: AccountId, raw_tn: &str) -> BwResult<Number> {
    let fail = |e| BwError::core(Area::Tns, e);
    let e164 =
        parse_tn(raw_tn, "tn").map_err(|_| fail(Error::not_found(Resource::Number, raw_tn)))?;
    let n = state
        .service
        .number_by_e164(Principal::Account(me), &e164)
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => fail(Error::not_found(Resource::Number, raw_tn)),
            other => fail(other),
        })?;
    Ok(n)
}

pub async fn one_tn(
    State(state): State<ApiState>,
    BwAccount { account: me, .. }: BwAccount<area::Tns>,
    Path(raw_tn): Path<String>,
) -> BwResult<Response> {
    let n = visible(&state, me, &raw_tn).await?;
    let root = El::new("TelephoneNumberResponse")
        .leaf_child("TelephoneNumber", tn(&n.e164))
        .leaf_child("Status", status(&n, state.service.now()))
        .leaf_child("LastModifiedDate", time(n.updated_at))
        .opt(
            "InServiceDate",
            n.assigned_at.filter(|_| n.owner == Some(me)).map(time),
        )
        .opt(
            "SiteId",
            n.assignment
                .site_id
                .as_deref()
                .filter(|_| n.owner == Some(me)),
        )
        .opt("AccountId", holder(&n, me));
    Ok(xml(StatusCode::OK, &root))
}

fn service_types(n: &Number) -> El {
    let mut types = Vec::new();
    if n.capabilities.contains(Capability::Voice) {
        types.push("Voice");
    }
    if n.capabilities.contains(Capability::Sms) || n.capabilities.contains(Capability::Mms) {
        types.push("Messaging");
    }
    El::new("ServiceTypes").children(types.into_iter().map(|t| El::leaf("ServiceType", t)))
}

pub async fn tn_details(
    State(state): State<ApiState>,
    BwAccount {
        account: me, fail, ..
    }: BwAccount<area::Tns>,
    Path(raw_tn): Path<String>,
) -> BwResult<Response> {
    let n = visible(&state, me, &raw_tn).await?;
    let mine = n.owner == Some(me) && n.state == NumberState::Assigned;
    let mut details = El::new("TelephoneNumberDetails")
        .opt("City", n.location.city.as_deref())
        .opt("Lata", n.location.lata.as_deref())
        .opt("State", n.location.state.as_deref())
        .leaf_child("FullNumber", tn(&n.e164))
        .opt("Tier", n.tier)
        .opt("VendorId", n.vendor_id.as_deref())
        .opt("VendorName", n.vendor_name.as_deref())
        .opt("RateCenter", n.location.rate_center.as_deref())
        .leaf_child("Status", status(&n, state.service.now()))
        .opt("AccountId", holder(&n, me));
    let site_id = n
        .assignment
        .site_id
        .as_deref()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|_| mine);
    let peer_id = n
        .assignment
        .peer_id
        .as_deref()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|_| mine);
    if let Some(site_id) = site_id {
        let site = match state.service.get_site(me, site_id).await {
            Ok(site) => Some(site),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(fail(e)),
        };
        details.push(
            El::new("Site")
                .leaf_child("Id", site_id)
                .opt("Name", site.map(|s| s.fields.name)),
        );
        if let Some(peer_id) = peer_id {
            let peer = match state.service.get_peer(me, site_id, peer_id).await {
                Ok(p) => Some(p),
                Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(fail(e)),
            };
            details.push(
                El::new("SipPeer")
                    .leaf_child("PeerId", peer_id)
                    .opt("PeerName", peer.as_ref().map(|p| p.fields.name.clone()))
                    .opt("IsDefaultPeer", peer.map(|p| p.fields.is_default)),
            );
        }
    }
    details.push(service_types(&n));
    details = details
        .leaf_child("LastModified", time(n.updated_at))
        .opt("InServiceDate", n.assigned_at.filter(|_| mine).map(time));
    let mut attributes: Vec<String> = if mine {
        n.assignment.tn_attributes.clone()
    } else {
        vec![]
    };
    if n.protected && !attributes.iter().any(|a| a == "Protected") {
        attributes.push("Protected".into());
    }
    if !attributes.is_empty() {
        details.push(
            El::new("TnAttributes").children(attributes.iter().map(|a| El::leaf("TnAttribute", a))),
        );
    }
    Ok(xml(
        StatusCode::OK,
        &El::new("TelephoneNumberResponse").child(details),
    ))
}

/// `GET /tns`: the caller's in-service numbers (`fullNumber`, `npa`, `npaNxx` filters).
pub async fn tns(
    State(state): State<ApiState>,
    BwAccount {
        account: me, fail, ..
    }: BwAccount<area::Generic>,
    RawQuery(raw): RawQuery,
) -> BwResult<Response> {
    let q = QueryPairs::parse(raw.as_deref());
    q.reject_unknown(&["page", "size", "fullNumber", "npa", "npaNxx", "accountId"])
        .map_err(fail)?;
    let mut errors = FieldErrors::new();
    let (size, after) = paging(&q, 500, 5000, &mut errors);
    let mut pattern = prefix_filter(&q, ["npa", "npaNxx"], &mut errors);
    if let Some(full) = q.get("fullNumber").filter(|v| !v.trim().is_empty())
        && let Some(e) = errors.take(parse_tn(full, "fullNumber"))
    {
        pattern = Some(DigitPattern {
            position: PatternPosition::StartsWith,
            digits: e.digits().to_string(),
            international: true,
        });
    }
    if let Some(a) = q.get("accountId").filter(|a| a.trim() != me.to_string()) {
        errors.push("accountId", format!("'{a}' is not your account"));
    }
    errors.into_result().map_err(fail)?;
    let filter = NumberFilter {
        pattern,
        page_size: size,
        after: after.map(|e| e.as_str().to_string()),
        ..Default::default()
    };
    let page = state
        .service
        .list_numbers(me, &filter)
        .await
        .map_err(fail)?;
    let now = state.service.now();
    let next = page
        .next_page_token
        .as_ref()
        .and(page.items.last())
        .map(|n| tn(&n.e164));
    let root = El::new("TelephoneNumbersResponse")
        .leaf_child("TelephoneNumberCount", page.items.len())
        .child(links("/api/tns", size, next))
        .child(
            El::new("TelephoneNumbers").children(page.items.iter().map(|n| {
                El::new("TelephoneNumber")
                    .opt("City", n.location.city.as_deref())
                    .opt("Lata", n.location.lata.as_deref())
                    .opt("State", n.location.state.as_deref())
                    .leaf_child("FullNumber", tn(&n.e164))
                    .opt("Tier", n.tier)
                    .opt("VendorId", n.vendor_id.as_deref())
                    .opt("VendorName", n.vendor_name.as_deref())
                    .opt("RateCenter", n.location.rate_center.as_deref())
                    .leaf_child("Status", status(n, now))
                    .leaf_child("AccountId", me)
                    .leaf_child("LastModified", time(n.updated_at))
                    .opt("InServiceDate", n.assigned_at.map(time))
            })),
        );
    Ok(xml(StatusCode::OK, &root))
}
