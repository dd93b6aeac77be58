//! Bandwidth's order documents: the `<Order>` echo (of a parsed request or a stored order of
//! any dialect), the status document with its per-number error codes, and history entries.

use numbers_core::event::{Event, EventKind};
use numbers_core::ids::ReservationId;
use numbers_core::number::{ClaimRefusal, E164};
use numbers_core::order::{INSUFFICIENT_INVENTORY, Order, OrderRequest};

use crate::bandwidth::xml::{El, Element};
use crate::bandwidth::{time, tn};

use super::parse::parse_order;

/// The order-type element as submitted (canonical names), for echoes.
fn order_type_el(
    order_type: &str,
    fields: &[(String, String)],
    request: &OrderRequest,
    reservations: &[ReservationId],
) -> El {
    let mut el = El::new(order_type);
    if let OrderRequest::Numbers(numbers) = request {
        el.push(
            El::new("TelephoneNumberList")
                .children(numbers.iter().map(|n| El::leaf("TelephoneNumber", tn(n)))),
        );
        if !reservations.is_empty() {
            el.push(
                El::new("ReservationIdList")
                    .children(reservations.iter().map(|r| El::leaf("ReservationId", r))),
            );
        }
    }
    for (k, v) in fields {
        el.push(El::leaf(k, v));
    }
    el
}

/// The echo of a parsed (not yet stored) order, for 400 answers.
pub(super) fn echo_parsed(doc: &Element) -> Option<El> {
    let p = parse_order(doc).ok()?;
    Some(
        El::new("Order")
            .opt("CustomerOrderId", p.customer_order_id.as_deref())
            .opt("Name", p.name.as_deref())
            .opt("PeerId", p.peer_id)
            .leaf_child("BackOrderRequested", p.backorder_requested)
            .child(order_type_el(
                &p.order_type,
                &p.fields,
                &p.request,
                &p.reservation_ids,
            ))
            .leaf_child("PartialAllowed", p.partial_allowed)
            .opt("SiteId", p.site_id),
    )
}

/// `<Order>` of a stored core order (any dialect's: a native order is shown as an Existing or a
/// Combined order).
pub(super) fn order_el(order: &Order) -> El {
    let bw = &order.new.dialect_data["bandwidth"];
    let (order_type, fields): (String, Vec<(String, String)>) = match bw["order_type"].as_str() {
        Some(t) => (
            t.to_string(),
            bw["fields"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(|pair| {
                            Some((pair[0].as_str()?.to_string(), pair[1].as_str()?.to_string()))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
        None => match &order.new.request {
            OrderRequest::Numbers(_) => ("ExistingTelephoneNumberOrderType".into(), vec![]),
            OrderRequest::Search { quantity, .. } => (
                "CombinedSearchAndOrderType".into(),
                vec![("Quantity".into(), quantity.to_string())],
            ),
        },
    };
    let template = &order.new.template;
    let mut el = El::new("Order")
        .opt("CustomerOrderId", order.new.customer_order_id.as_deref())
        .opt("Name", order.new.name.as_deref())
        .leaf_child("OrderCreateDate", time(order.new.created_at))
        .opt("PeerId", template.peer_id.as_deref())
        .leaf_child("BackOrderRequested", order.new.backorder_requested)
        .leaf_child("id", order.id())
        .child(order_type_el(
            &order_type,
            &fields,
            &order.new.request,
            &order.new.reservation_ids,
        ));
    if !template.tn_attributes.is_empty() {
        el.push(
            El::new("TnAttributes").children(
                template
                    .tn_attributes
                    .iter()
                    .map(|a| El::leaf("TnAttribute", a)),
            ),
        );
    }
    el.leaf_child("PartialAllowed", order.new.partial_allowed)
        .opt("SiteId", template.site_id.as_deref())
}

/// Bandwidth's per-number code for a core failure.
fn failure_code(code: &str) -> u32 {
    match ClaimRefusal::from_code(code) {
        Some(ClaimRefusal::ReservationIdMissing) => 5045,
        Some(ClaimRefusal::PartialNotAllowed) => 5018,
        Some(_) => 5005,
        None if code == INSUFFICIENT_INVENTORY => 5018,
        None => 5000,
    }
}

fn failure_description(code: &str, message: &str) -> String {
    match failure_code(code) {
        5005 => format!("The telephone number is unavailable for ordering ({message})"),
        5018 => format!("The entire quantity of telephone numbers is unavailable ({message})"),
        _ => message.to_string(),
    }
}

fn summary(order: &Order) -> String {
    let done: Vec<&E164> = order.completed().filter_map(|i| i.e164.as_ref()).collect();
    let mut npas: Vec<String> = done
        .iter()
        .map(|e| tn(e).chars().take(3).collect())
        .collect();
    npas.sort();
    npas.dedup();
    let requested = order.new.request.requested_quantity();
    let noun = if done.len() == 1 { "number" } else { "numbers" };
    let place = if npas.is_empty() {
        String::new()
    } else {
        format!(" in ({})", npas.join(", "))
    };
    if done.len() as u32 >= requested {
        format!("{} {noun} ordered{place}", done.len())
    } else {
        format!("{} out of {requested} numbers ordered{place}", done.len())
    }
}

/// Bandwidth's `FailedQuantity` counts numbers, so that Completed + Failed + Pending is the
/// order's Quantity. The core records a search order's shortfall as one failure without a
/// number; it stands for every number the order did not win and is not still waiting for.
/// A closed backorder has no failure entry: what it stopped waiting for is neither failed nor
/// pending (docs/BANDWIDTH.md).
fn failed_quantity(order: &Order, failures: &[(Option<&E164>, &str, &str)]) -> u32 {
    let numbered = failures.iter().filter(|(e, _, _)| e.is_some()).count() as u32;
    if failures.iter().all(|(e, _, _)| e.is_some()) {
        return numbered;
    }
    let accounted = order.completed_count() + order.pending_count();
    order
        .new
        .request
        .requested_quantity()
        .saturating_sub(accounted)
        .max(numbered)
}

pub(super) fn status_document(order: &Order) -> El {
    let failures: Vec<(Option<&E164>, &str, &str)> = order
        .failed()
        .map(|(i, code, message)| (i.e164.as_ref(), code, message))
        .collect();
    let mut root =
        El::new("OrderResponse").leaf_child("CompletedQuantity", order.completed_count());
    root.push(
        El::new("ErrorList").children(failures.iter().map(|(e164, code, message)| {
            El::new("Error")
                .leaf_child("Code", failure_code(code))
                .leaf_child("Description", failure_description(code, message))
                .opt("TelephoneNumber", e164.map(tn))
        })),
    );
    let failed_numbers: Vec<El> = failures
        .iter()
        .filter_map(|(e, _, _)| e.map(|e| El::leaf("FullNumber", tn(e))))
        .collect();
    if !failed_numbers.is_empty() {
        root.push(El::new("FailedNumbers").children(failed_numbers));
    }
    root = root
        .leaf_child("LastModifiedDate", time(order.updated_at))
        .opt("OrderCompleteDate", order.completed_at.map(time))
        .child(order_el(order))
        .leaf_child("OrderStatus", order.status.as_str());
    let completed: Vec<El> = order
        .completed()
        .filter_map(|i| i.e164.as_ref())
        .map(|e| El::new("TelephoneNumber").leaf_child("FullNumber", tn(e)))
        .collect();
    if !completed.is_empty() {
        root.push(El::new("CompletedNumbers").children(completed));
    }
    root.leaf_child("Summary", summary(order))
        .leaf_child("FailedQuantity", failed_quantity(order, &failures))
        .leaf_child("PendingQuantity", order.pending_count())
}

pub(super) fn history_entry(e: &Event) -> Option<El> {
    let (status, note, author) = match e.event.kind {
        EventKind::OrderReceived => ("RECEIVED", "Order received".to_string(), "API"),
        EventKind::OrderProcessing => (
            "PROCESSING",
            "Order processing started".to_string(),
            "System",
        ),
        EventKind::OrderCompleted => ("COMPLETE", "Order completed".to_string(), "System"),
        EventKind::OrderPartial => ("PARTIAL", "Order partially completed".to_string(), "System"),
        EventKind::OrderFailed => ("FAILED", "Order failed".to_string(), "System"),
        EventKind::OrderBackordered => ("BACKORDERED", "Order backordered".to_string(), "System"),
        EventKind::OrderClosed => (
            e.event.details["status"].as_str().unwrap_or("COMPLETE"),
            "Backorder closed".to_string(),
            "API",
        ),
        EventKind::OrderNoteAdded => ("", "Note added".to_string(), "API"),
        EventKind::NumberAssigned => (
            "",
            format!(
                "{} assigned",
                e.event.e164.as_ref().map(tn).unwrap_or_default()
            ),
            "System",
        ),
        _ => return None,
    };
    Some(
        El::new("OrderHistory")
            .leaf_child("OrderDate", time(e.event.at))
            .leaf_child("Note", note)
            .leaf_child("Author", author)
            .opt("Status", (!status.is_empty()).then_some(status)),
    )
}
