//! The order routes: each authenticates (`BwAccount`), parses (`parse`), calls one service
//! method and renders (`render`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use numbers_core::account::Principal;
use numbers_core::error::{Error, Resource};
use numbers_core::ids::OrderId;
use numbers_core::note::NoteText;
use numbers_core::number::AssignmentData;
use numbers_core::service::OrderSubmission;
use serde_json::json;

use crate::ApiState;
use crate::bandwidth::error::{Area, BwError, BwResult, renamed};
use crate::bandwidth::xml::El;
use crate::bandwidth::{
    BwAccount, area, created, list_document, parse_bool, parse_document, time, tn, xml,
};
use crate::wire::QueryPairs;

use super::parse::{PLACEMENT_FIELDS, list_filter, parse_order};
use super::render::{echo_parsed, history_entry, order_el, status_document};

fn order_id(raw: &str, area: Area) -> BwResult<OrderId> {
    raw.parse::<OrderId>()
        .map_err(|_| BwError::core(area, Error::not_found(Resource::Order, raw)))
}

pub async fn create(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Orders>,
    headers: HeaderMap,
    body: Bytes,
) -> BwResult<Response> {
    let doc = parse_document(&body, Area::Orders, "Order")?;
    let with_echo = |e: BwError| match echo_parsed(&doc) {
        Some(echo) => e.with_echo(echo),
        None => e,
    };
    let parsed = parse_order(&doc).map_err(fail)?;
    let (site_id, peer_id) = state
        .service
        .order_placement(account, parsed.site_id, parsed.peer_id)
        .await
        .map_err(|e| with_echo(fail(renamed(e, PLACEMENT_FIELDS))))?;
    let submission = OrderSubmission {
        partial_allowed: parsed.partial_allowed,
        backorder_requested: parsed.backorder_requested,
        reservation_ids: parsed.reservation_ids,
        template: AssignmentData {
            site_id: Some(site_id.to_string()),
            peer_id: Some(peer_id.to_string()),
            tn_attributes: parsed.tn_attributes,
            ..Default::default()
        },
        name: parsed.name,
        customer_order_id: parsed.customer_order_id,
        idempotency_key: None,
        dialect_data: json!({ "bandwidth": { "order_type": parsed.order_type, "fields": parsed.fields } }),
        request: parsed.request,
    };
    let (order, _) = state
        .service
        .submit_order(account, submission)
        .await
        .map_err(|e| with_echo(fail(e)))?;
    let root = El::new("OrderResponse")
        .child(order_el(&order))
        .leaf_child("OrderStatus", order.status.as_str());
    Ok(created(
        &headers,
        &format!("/api/accounts/{account}/orders/{}", order.id()),
        Some(&root),
    ))
}

pub async fn get(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Orders>,
    Path((_, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let id = order_id(&id, Area::Orders)?;
    let order = state
        .service
        .get_order(Principal::Account(account), id)
        .await
        .map_err(fail)?;
    Ok(xml(StatusCode::OK, &status_document(&order)))
}

/// `PUT /orders/{id}` with `<CloseOrder>true</CloseOrder>` closes a backorder.
pub async fn update(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Orders>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> BwResult<Response> {
    let id = order_id(&id, Area::Orders)?;
    let doc = parse_document(&body, Area::Orders, "Order")?;
    if !parse_bool(doc.text_of("CloseOrder"), "CloseOrder", false).map_err(fail)? {
        return Err(fail(Error::invalid(
            "CloseOrder",
            "only closing a backordered order (<CloseOrder>true</CloseOrder>) is supported",
        )));
    }
    let order = state
        .service
        .close_backorder(account, id)
        .await
        .map_err(fail)?;
    Ok(xml(StatusCode::OK, &status_document(&order)))
}

pub async fn list(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
    RawQuery(raw): RawQuery,
) -> BwResult<Response> {
    let q = QueryPairs::parse(raw.as_deref());
    let (filter, size) = list_filter(&q).map_err(fail)?;
    let page = state
        .service
        .list_orders(account, &filter)
        .await
        .map_err(fail)?;
    let total = state
        .service
        .count_orders(account, &filter)
        .await
        .map_err(fail)?;
    let next_after = page.next_page_token.as_ref().and(page.items.last());
    let root = list_document(
        &format!("/api/accounts/{account}/orders?size={size}"),
        total,
        next_after.map(|o| o.id().to_string()),
        page.items.iter().map(|o| {
            El::new("OrderIdUserIdDate")
                .leaf_child("CountOfTNs", o.completed_count())
                .opt("CustomerOrderId", o.new.customer_order_id.as_deref())
                .leaf_child("lastModifiedDate", time(o.updated_at))
                .leaf_child("OrderDate", time(o.new.created_at))
                .leaf_child("OrderType", "new_number")
                .leaf_child("orderId", o.id())
                .leaf_child("OrderStatus", o.status.as_str())
        }),
    );
    Ok(xml(StatusCode::OK, &root))
}

pub async fn history(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
    Path((_, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let id = order_id(&id, Area::Generic)?;
    let events = state
        .service
        .order_history(account, id)
        .await
        .map_err(fail)?;
    let root = El::new("OrderHistoryWrapper").children(events.iter().filter_map(history_entry));
    Ok(xml(StatusCode::OK, &root))
}

pub async fn tns(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
    Path((_, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let id = order_id(&id, Area::Generic)?;
    let order = state
        .service
        .get_order(Principal::Account(account), id)
        .await
        .map_err(fail)?;
    let numbers: Vec<El> = order
        .completed()
        .filter_map(|i| i.e164.as_ref())
        .map(|e| El::leaf("TelephoneNumber", tn(e)))
        .collect();
    let root = El::new("TelephoneNumbers")
        .leaf_child("Count", numbers.len())
        .children(numbers);
    Ok(xml(StatusCode::OK, &root))
}

/// How a report groups numbers: the element naming a group, and a 10-digit TN's group.
type Grouping<'a> = (&'a str, fn(&str) -> String);

/// The order's won numbers as Bandwidth's `<TelephoneDetailsReports>`: one report per group
/// (`group` names the element and takes a 10-digit TN to its key), or one total when `None`.
async fn report(
    state: &ApiState,
    account: numbers_core::ids::AccountId,
    fail: fn(Error) -> BwError,
    raw_id: &str,
    group: Option<Grouping<'_>>,
) -> BwResult<Response> {
    let id = order_id(raw_id, Area::Generic)?;
    let order = state
        .service
        .get_order(Principal::Account(account), id)
        .await
        .map_err(fail)?;
    let numbers: Vec<String> = order
        .completed()
        .filter_map(|i| i.e164.as_ref())
        .map(tn)
        .collect();
    let reports: Vec<El> = match group {
        None => vec![El::new("TelephoneDetailsReport").leaf_child("Count", numbers.len())],
        Some((name, key)) => {
            let mut counts = std::collections::BTreeMap::<String, usize>::new();
            for n in &numbers {
                *counts.entry(key(n)).or_default() += 1;
            }
            counts
                .into_iter()
                .map(|(k, count)| {
                    El::new("TelephoneDetailsReport")
                        .leaf_child(name, k)
                        .leaf_child("Count", count)
                })
                .collect()
        }
    };
    Ok(xml(
        StatusCode::OK,
        &El::new("TelephoneDetailsReports").children(reports),
    ))
}

pub async fn area_codes(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
    Path((_, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let npa: fn(&str) -> String = |n| n.chars().take(3).collect();
    report(&state, account, fail, &id, Some(("AreaCode", npa))).await
}

pub async fn npa_nxx(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
    Path((_, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let npa_nxx: fn(&str) -> String = |n| n.chars().take(6).collect();
    report(&state, account, fail, &id, Some(("NPA-NXX", npa_nxx))).await
}

pub async fn totals(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
    Path((_, id)): Path<(String, String)>,
) -> BwResult<Response> {
    report(&state, account, fail, &id, None).await
}

pub async fn notes(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Notes>,
    Path((_, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let id = order_id(&id, Area::Notes)?;
    let notes = state
        .service
        .list_order_notes(account, id)
        .await
        .map_err(fail)?;
    if notes.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let root = El::new("Notes").children(notes.iter().map(|n| {
        El::new("Note")
            .leaf_child("Id", n.id)
            .leaf_child("UserId", &n.text.user_id)
            .leaf_child("Description", &n.text.description)
            .leaf_child("LastDateModifier", time(n.created_at))
    }));
    Ok(xml(StatusCode::OK, &root))
}

pub async fn add_note(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Notes>,
    headers: HeaderMap,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> BwResult<Response> {
    let id = order_id(&id, Area::Notes)?;
    let doc = parse_document(&body, Area::Notes, "Note")?;
    let text = NoteText::parse(doc.text_of("UserId"), doc.text_of("Description")).map_err(|e| {
        fail(renamed(
            e,
            &[("user_id", "UserId"), ("description", "Description")],
        ))
    })?;
    let note = state
        .service
        .add_order_note(account, id, &text)
        .await
        .map_err(fail)?;
    Ok(created(
        &headers,
        &format!("/api/accounts/{account}/orders/{id}/notes/{}", note.id),
        None,
    ))
}
