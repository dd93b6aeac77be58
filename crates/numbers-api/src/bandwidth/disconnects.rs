//! `/accounts/{id}/disconnects`: a `<DisconnectTelephoneNumberOrder>` becomes a core disconnect
//! order (processed by the worker: each number released into aging, or straight back on offer in
//! purge mode); its status document lists the disconnected numbers and per-number errors.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use numbers_core::disconnect::{Disconnect, DisconnectMode, NOT_ON_ACCOUNT, ProtectedChange};
use numbers_core::error::{Error, FieldErrors, Resource};
use numbers_core::ids::DisconnectId;
use numbers_core::service::DisconnectSubmission;
use numbers_core::store::DisconnectFilter;

use super::error::{Area, BwError, BwResult, NUMBER_LIST, renamed};
use super::xml::{El, Element};
use super::{
    BwAccount, ListQuery, area, created, customer_order_id, list_document, order_name,
    parse_document, parse_tn, time, tn, xml,
};
use crate::ApiState;
use crate::wire::QueryPairs;

fn parse_disconnect(doc: &Element) -> Result<DisconnectSubmission, Error> {
    let mut errors = FieldErrors::new();
    let kind = doc.child("DisconnectTelephoneNumberOrderType");
    let mut numbers = Vec::new();
    for list in kind
        .into_iter()
        .flat_map(|k| k.children_named("TelephoneNumberList"))
    {
        for t in list.children_named("TelephoneNumber") {
            if let Some(n) = errors.take(parse_tn(&t.text, "TelephoneNumber")) {
                numbers.push(n);
            }
        }
    }
    let mode = match kind.and_then(|k| k.text_of("DisconnectMode")) {
        None => DisconnectMode::Normal,
        Some(m) if m.eq_ignore_ascii_case("normal") => DisconnectMode::Normal,
        Some(m) if m.eq_ignore_ascii_case("purge") => DisconnectMode::Purge,
        Some(m) => {
            errors.push(
                "DisconnectMode",
                format!("'{m}' is not valid; valid values are: normal, purge"),
            );
            DisconnectMode::Normal
        }
    };
    let protected = match kind.and_then(|k| k.text_of("Protected")) {
        None => ProtectedChange::Unchanged,
        Some(p) if p.eq_ignore_ascii_case("TRUE") => ProtectedChange::Set,
        Some(p) if p.eq_ignore_ascii_case("FALSE") => ProtectedChange::Clear,
        Some(p) if p.eq_ignore_ascii_case("UNCHANGED") => ProtectedChange::Unchanged,
        Some(p) => {
            errors.push(
                "Protected",
                format!("'{p}' is not valid; valid values are: TRUE, FALSE, UNCHANGED"),
            );
            ProtectedChange::Unchanged
        }
    };
    let customer_order_id = customer_order_id(doc, &mut errors);
    let name = order_name(doc, &mut errors);
    errors.into_result()?;
    Ok(DisconnectSubmission {
        numbers,
        mode,
        protected,
        name,
        customer_order_id,
    })
}

fn mode_text(mode: DisconnectMode) -> &'static str {
    match mode {
        DisconnectMode::Normal => "normal",
        DisconnectMode::Purge => "purge",
    }
}

fn protected_text(p: ProtectedChange) -> &'static str {
    match p {
        ProtectedChange::Unchanged => "UNCHANGED",
        ProtectedChange::Set => "TRUE",
        ProtectedChange::Clear => "FALSE",
    }
}

fn order_request(d: &Disconnect) -> El {
    El::new("orderRequest")
        .opt("CustomerOrderId", d.new.customer_order_id.as_deref())
        .opt("Name", d.new.name.as_deref())
        .leaf_child("OrderCreateDate", time(d.new.created_at))
        .leaf_child("id", d.id())
        .child(
            El::new("DisconnectTelephoneNumberOrderType")
                .child(
                    El::new("TelephoneNumberList").children(
                        d.new
                            .numbers
                            .iter()
                            .map(|n| El::leaf("TelephoneNumber", tn(n))),
                    ),
                )
                .leaf_child("DisconnectMode", mode_text(d.new.mode))
                .leaf_child("Protected", protected_text(d.new.protected)),
        )
}

fn status_document(d: &Disconnect) -> El {
    let mut root = El::new("DisconnectTelephoneNumberOrderResponse");
    let done: Vec<El> = d
        .disconnected()
        .map(|e| El::leaf("TelephoneNumber", tn(e)))
        .collect();
    if !done.is_empty() {
        root.push(El::new("DisconnectedTelephoneNumberList").children(done));
    }
    root.push(El::new("ErrorList").children(d.failures().map(|(e164, code, message)| {
        let (code, description) = if code == NOT_ON_ACCOUNT {
            (5006, "Telephone number could not be disconnected since it is not associated with your account".to_string())
        } else {
            (5000, message.to_string())
        };
        El::new("Error").leaf_child("Code", code).leaf_child("Description", description).leaf_child("TelephoneNumber", tn(e164))
    })));
    root.child(order_request(d))
        .leaf_child("OrderStatus", d.status.as_str())
}

fn disconnect_id(raw: &str) -> BwResult<DisconnectId> {
    raw.parse().map_err(|_| {
        BwError::core(
            Area::Disconnects,
            Error::not_found(Resource::Disconnect, raw),
        )
    })
}

pub async fn create(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Disconnects>,
    headers: HeaderMap,
    body: Bytes,
) -> BwResult<Response> {
    let doc = parse_document(&body, Area::Disconnects, "DisconnectTelephoneNumberOrder")?;
    let submission = parse_disconnect(&doc).map_err(fail)?;
    let d = state
        .service
        .submit_disconnect(account, submission)
        .await
        .map_err(|e| fail(renamed(e, NUMBER_LIST)))?;
    let root = El::new("DisconnectTelephoneNumberOrderResponse")
        .child(order_request(&d))
        .leaf_child("OrderStatus", d.status.as_str());
    Ok(created(
        &headers,
        &format!("/api/accounts/{account}/disconnects/{}", d.id()),
        Some(&root),
    ))
}

pub async fn get(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Disconnects>,
    Path((_, id)): Path<(String, String)>,
    RawQuery(_query): RawQuery,
) -> BwResult<Response> {
    let d = state
        .service
        .get_disconnect(account, disconnect_id(&id)?)
        .await
        .map_err(fail)?;
    Ok(xml(StatusCode::OK, &status_document(&d)))
}

pub async fn list(
    State(state): State<ApiState>,
    BwAccount { account, fail, .. }: BwAccount<area::Generic>,
    RawQuery(raw): RawQuery,
) -> BwResult<Response> {
    let q = QueryPairs::parse(raw.as_deref());
    let filter = list_filter(&q).map_err(fail)?;
    let page = state
        .service
        .list_disconnects(account, &filter)
        .await
        .map_err(fail)?;
    let total = state
        .service
        .count_disconnects(account, &filter)
        .await
        .map_err(fail)?;
    let next_after = page.next_page_token.as_ref().and(page.items.last());
    let root = list_document(
        &format!(
            "/api/accounts/{account}/disconnects?size={}",
            filter.page_size
        ),
        total,
        next_after.map(|d| d.id().to_string()),
        page.items.iter().map(|d| {
            El::new("OrderIdUserIdDate")
                .leaf_child("CountOfTNs", d.new.numbers.len())
                .opt("CustomerOrderId", d.new.customer_order_id.as_deref())
                .leaf_child("lastModifiedDate", time(d.updated_at))
                .leaf_child("OrderId", d.id())
                .leaf_child("OrderType", "disconnect")
                .leaf_child("OrderDate", time(d.new.created_at))
                .leaf_child("OrderStatus", d.status.as_str())
        }),
    );
    Ok(xml(StatusCode::OK, &root))
}

fn list_filter(q: &QueryPairs) -> Result<DisconnectFilter, Error> {
    q.reject_unknown(&["page", "size", "status", "startdate", "enddate", "userid"])?;
    let mut errors = FieldErrors::new();
    let ListQuery {
        size: page_size,
        before,
        statuses,
        created_from,
        created_to,
    } = ListQuery::<DisconnectId>::parse(
        q,
        5000,
        "a disconnect id",
        "received, complete, partial, failed",
        &mut errors,
    );
    errors.into_result()?;
    Ok(DisconnectFilter {
        statuses,
        created_from,
        created_to,
        page_size,
        before,
    })
}
