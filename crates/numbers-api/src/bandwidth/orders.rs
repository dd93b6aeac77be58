//! `/accounts/{id}/orders`: an `<Order>` (common fields plus exactly one of the eleven order-type
//! elements) becomes one core order — the numbers it wins are ASSIGNED in the core, visible
//! through every dialect — carrying its Bandwidth echo (order type element and its fields) in
//! `dialect_data` and its SiteId / PeerId / TnAttributes in the assignment template. Also the
//! order's status document, list, backorder close (PUT), history, TNs and notes.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use numbers_core::account::Principal;
use numbers_core::error::{Error, FieldErrorKind, FieldErrors, Resource};
use numbers_core::event::{Event, EventKind};
use numbers_core::ids::{OrderId, ReservationId};
use numbers_core::note::NoteText;
use numbers_core::number::{AssignmentData, ClaimRefusal, E164};
use numbers_core::order::{INSUFFICIENT_INVENTORY, Order, OrderRequest};
use numbers_core::search::{PatternPosition, SearchQuery};
use numbers_core::service::OrderSubmission;
use numbers_core::store::OrderFilter;
use serde_json::json;

use super::error::{Area, BwError, BwResult, renamed};
use super::xml::{El, Element};
use super::{ListQuery, authorize, created, parse_bool, parse_document, parse_tn, time, tn, xml};
use crate::ApiState;
use crate::wire::QueryPairs;

/// Each order type: its canonical element name, then its children's canonical names (spelling
/// variants after a `|`). Matching is case-insensitive, so the Python SDK's
/// `NpanxxSearchAndOrderType`/`EnableLca`/`LataSearchAndOrderType` are the same elements.
const ORDER_TYPES: &[(&str, &[&str])] = &[
    ("ExistingTelephoneNumberOrderType", &[]),
    ("AreaCodeSearchAndOrderType", &["AreaCode", "Quantity"]),
    (
        "RateCenterSearchAndOrderType",
        &["RateCenter", "State", "Quantity", "EnableLCA"],
    ),
    (
        "NPANXXSearchAndOrderType",
        &["NpaNxx", "Quantity", "EnableLCA"],
    ),
    (
        "NPANXXXSearchAndOrderType",
        &["NpaNxxX", "Quantity", "EnableLCA"],
    ),
    (
        "TollFreeVanitySearchAndOrderType",
        &["TollFreeVanity", "Quantity"],
    ),
    (
        "TollFreeWildCharSearchAndOrderType",
        &["TollFreeWildCardPattern", "Quantity"],
    ),
    ("StateSearchAndOrderType", &["State", "Quantity"]),
    ("CitySearchAndOrderType", &["City", "State", "Quantity"]),
    ("ZIPSearchAndOrderType", &["Zip", "Quantity"]),
    ("LATASearchAndOrderType", &["LATA|Lata", "Quantity"]),
    (
        "CombinedSearchAndOrderType",
        &[
            "Quantity",
            "AreaCode",
            "RateCenter",
            "State",
            "NpaNxx",
            "NpaNxxX",
            "LATA|Lata",
            "City",
            "Zip",
            "EnableLCA",
            "LocalVanity",
            "EndsIn",
        ],
    ),
];
/// Guide: "Quantity … values range from 1-5000. Default: 5000".
const DEFAULT_QUANTITY: u32 = 5000;

/// A parsed `<Order>`: what the core needs, plus the echo to render.
struct ParsedOrder {
    request: OrderRequest,
    order_type: String,
    fields: Vec<(String, String)>,
    site_id: Option<i64>,
    peer_id: Option<i64>,
    partial_allowed: bool,
    backorder_requested: bool,
    reservation_ids: Vec<ReservationId>,
    tn_attributes: Vec<String>,
    name: Option<String>,
    customer_order_id: Option<String>,
}

fn parse_id(raw: Option<&str>, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    let raw = raw?;
    match raw.trim().parse::<i64>() {
        Ok(id) if id > 0 => Some(id),
        _ => {
            errors.push(field, format!("'{raw}' is not a valid id"));
            None
        }
    }
}

fn parse_order(doc: &Element) -> Result<ParsedOrder, Error> {
    let mut errors = FieldErrors::new();
    let found: Vec<(&str, &[&str], &Element)> = ORDER_TYPES
        .iter()
        .filter_map(|(name, children)| doc.child(name).map(|el| (*name, *children, el)))
        .collect();
    let (order_type, children, el) = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::invalid(
                "OrderType",
                "exactly one order type element is required (e.g. ExistingTelephoneNumberOrderType)",
            ));
        }
        _ => {
            return Err(Error::invalid(
                "OrderType",
                "only one order type element is allowed per order",
            ));
        }
    };
    let name = doc.text_of("Name").map(str::to_string);
    if name.as_ref().is_some_and(|n| n.chars().count() > 50) {
        errors.push("Name", "must be at most 50 characters");
    }
    let customer_order_id = doc.text_of("CustomerOrderId").map(str::to_string);
    if let Some(c) = &customer_order_id
        && (c.chars().count() > 40
            || !c
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == ' '))
    {
        errors.push(
            "CustomerOrderId",
            "Only alphanumeric values, dashes and spaces are allowed. Max length is 40 characters.",
        );
    }
    let site_id = parse_id(doc.text_of("SiteId"), "SiteId", &mut errors);
    let peer_id = parse_id(doc.text_of("PeerId"), "PeerId", &mut errors);
    let partial_allowed = errors
        .take(parse_bool(
            doc.text_of("PartialAllowed"),
            "PartialAllowed",
            true,
        ))
        .unwrap_or(true);
    let backorder_requested = errors
        .take(parse_bool(
            doc.text_of("BackOrderRequested"),
            "BackOrderRequested",
            false,
        ))
        .unwrap_or(false);
    let mut tn_attributes = Vec::new();
    if let Some(list) = doc.child("TnAttributes") {
        for a in list.children_named("TnAttribute") {
            if a.text.eq_ignore_ascii_case("Protected") {
                if !tn_attributes.iter().any(|t| t == "Protected") {
                    tn_attributes.push("Protected".to_string());
                }
            } else {
                errors.push(
                    "TnAttributes",
                    format!("'{}' is not valid; valid values: Protected", a.text),
                );
            }
        }
    }
    // Bandwidth documents ReservationIdList inside the Existing type; accept it at the top too.
    let mut reservation_ids = Vec::new();
    for list in [
        el.child("ReservationIdList"),
        doc.child("ReservationIdList"),
    ]
    .into_iter()
    .flatten()
    {
        for r in list.children_named("ReservationId") {
            match r.text.parse::<ReservationId>() {
                Ok(id) => reservation_ids.push(id),
                Err(_) => errors.push(
                    "ReservationId",
                    format!("'{}' is not a reservation id", r.text),
                ),
            }
        }
    }
    let vanity =
        el.text_of("LocalVanity").is_some() || order_type == "TollFreeVanitySearchAndOrderType";
    let no_backorder = [
        "ExistingTelephoneNumberOrderType",
        "NPANXXSearchAndOrderType",
        "NPANXXXSearchAndOrderType",
    ];
    if backorder_requested && (vanity || no_backorder.contains(&order_type)) {
        errors.push_as(
            FieldErrorKind::Unsupported,
            "BackOrderRequested",
            format!("backorders are not supported with {order_type} or vanity searches"),
        );
    }
    let mut fields = Vec::new();
    for spec in children {
        let names: Vec<&str> = spec.split('|').collect();
        // Quantity is also a common field of <Order> (the Python SDK can only send it there).
        let value = el.text_any(&names).or_else(|| {
            (names[0] == "Quantity")
                .then(|| doc.text_of("Quantity"))
                .flatten()
        });
        if let Some(v) = value {
            fields.push((names[0].to_string(), v.to_string()));
        }
    }
    let request = if order_type == "ExistingTelephoneNumberOrderType" {
        let mut numbers = Vec::new();
        for list in el.children_named("TelephoneNumberList") {
            for t in list.children_named("TelephoneNumber") {
                if let Some(n) = errors.take(parse_tn(&t.text, "TelephoneNumber")) {
                    numbers.push(n);
                }
            }
        }
        let request = OrderRequest::Numbers(numbers);
        errors.take(request.validate().map_err(rename_numbers));
        Some(request)
    } else {
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let quantity = match field("Quantity") {
            None => Some(DEFAULT_QUANTITY),
            Some(q) => match q.parse::<u32>() {
                Ok(n) if (1..=DEFAULT_QUANTITY).contains(&n) => Some(n),
                _ => {
                    errors.push("Quantity", "must be from 1 to 5000");
                    None
                }
            },
        };
        errors.take(parse_bool(field("EnableLCA"), "EnableLCA", true));
        let ends_in = errors
            .take(parse_bool(field("EndsIn"), "EndsIn", false))
            .unwrap_or(false);
        let npa_nxx = field("NpaNxx");
        let (six, seven) = match npa_nxx {
            Some(v) if v.len() == 7 => (None, Some(v)),
            other => (other, field("NpaNxxX")),
        };
        let mut builder = SearchQuery::builder()
            .country(Some("US"), "country")
            .npa(field("AreaCode"), "AreaCode")
            .npa_nxx(six, "NpaNxx")
            .npa_nxx_x(seven, "NpaNxxX")
            .rate_center(field("RateCenter"), "RateCenter")
            .state(field("State"), "State")
            .city(field("City"), "City")
            .zip(field("Zip"), "Zip")
            .lata(field("LATA"), "LATA")
            .toll_free_pattern(field("TollFreeWildCardPattern"), "TollFreeWildCardPattern");
        if let Some(v) = field("LocalVanity") {
            let position = if ends_in {
                PatternPosition::EndsWith
            } else {
                PatternPosition::Contains
            };
            builder = builder.pattern(position, Some(v), "LocalVanity");
        }
        if let Some(v) = field("TollFreeVanity") {
            builder = builder
                .pattern(PatternPosition::Contains, Some(v), "TollFreeVanity")
                .types(
                    vec![numbers_core::number::NumberType::TollFree],
                    "TollFreeVanity",
                );
        }
        let criteria = fields
            .iter()
            .any(|(k, _)| !["Quantity", "EnableLCA", "EndsIn"].contains(&k.as_str()));
        if !criteria {
            errors.push(order_type, "names no search criteria");
        }
        let query = errors.take(builder.build());
        match (query, quantity) {
            (Some(query), Some(quantity)) => Some(OrderRequest::Search { query, quantity }),
            _ => None,
        }
    };
    errors.into_result()?;
    let request = request.ok_or_else(|| Error::invalid("Order", "is not a valid order"))?;
    Ok(ParsedOrder {
        request,
        order_type: order_type.to_string(),
        fields,
        site_id,
        peer_id,
        partial_allowed,
        backorder_requested,
        reservation_ids,
        tn_attributes,
        name,
        customer_order_id,
    })
}

/// The core names the explicit list `numbers`; Bandwidth calls it `TelephoneNumberList`.
fn rename_numbers(e: Error) -> Error {
    renamed(e, &[("numbers", "TelephoneNumberList")])
}

/// Core's names for an order's site and peer, and Bandwidth's.
const PLACEMENT_FIELDS: &[(&str, &str)] = &[("site_id", "SiteId"), ("peer_id", "PeerId")];

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
fn echo_parsed(doc: &Element) -> Option<El> {
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
fn order_el(order: &Order) -> El {
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

fn status_document(order: &Order) -> El {
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
        .leaf_child("FailedQuantity", order.failed_count())
        .leaf_child("PendingQuantity", order.pending_count())
}

fn order_id(raw: &str, area: Area) -> BwResult<OrderId> {
    raw.parse::<OrderId>()
        .map_err(|_| BwError::core(area, Error::not_found(Resource::Order, raw)))
}

pub async fn create(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(account): Path<String>,
    body: Bytes,
) -> BwResult<Response> {
    let fail = |e| BwError::core(Area::Orders, e);
    let account = authorize(&state, &headers, Some(&account))
        .await
        .map_err(fail)?;
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
    headers: HeaderMap,
    Path((account, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let fail = |e| BwError::core(Area::Orders, e);
    let account = authorize(&state, &headers, Some(&account))
        .await
        .map_err(fail)?;
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
    headers: HeaderMap,
    Path((account, id)): Path<(String, String)>,
    body: Bytes,
) -> BwResult<Response> {
    let fail = |e| BwError::core(Area::Orders, e);
    let account = authorize(&state, &headers, Some(&account))
        .await
        .map_err(fail)?;
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
    headers: HeaderMap,
    Path(account): Path<String>,
    RawQuery(raw): RawQuery,
) -> BwResult<Response> {
    let fail = |e| BwError::core(Area::Generic, e);
    let account = authorize(&state, &headers, Some(&account))
        .await
        .map_err(fail)?;
    let q = QueryPairs::parse(raw.as_deref());
    let (filter, size) = list_filter(&q).map_err(fail)?;
    let page = state
        .service
        .list_orders(account, &filter)
        .await
        .map_err(fail)?;
    let mut count_filter = OrderFilter {
        page_size: 1000,
        before: None,
        ..filter.clone()
    };
    let mut total = 0usize;
    loop {
        let more = state
            .service
            .list_orders(account, &count_filter)
            .await
            .map_err(fail)?;
        total += more.items.len();
        match (more.next_page_token, more.items.last()) {
            (Some(_), Some(last)) => count_filter.before = Some(last.id()),
            _ => break,
        }
    }
    let base = format!("/api/accounts/{account}/orders?size={size}");
    let mut links =
        El::new("Links").leaf_child("first", format!("Link=<{base}&page=1>;rel=\"first\";"));
    if let (Some(_), Some(last)) = (&page.next_page_token, page.items.last()) {
        links.push(El::leaf(
            "next",
            format!("Link=<{base}&page={}>;rel=\"next\";", last.id()),
        ));
    }
    let list = El::new("ListOrderIdUserIdDate")
        .leaf_child("TotalCount", total)
        .child(links)
        .children(page.items.iter().map(|o| {
            El::new("OrderIdUserIdDate")
                .leaf_child("CountOfTNs", o.completed_count())
                .opt("CustomerOrderId", o.new.customer_order_id.as_deref())
                .leaf_child("lastModifiedDate", time(o.updated_at))
                .leaf_child("OrderDate", time(o.new.created_at))
                .leaf_child("OrderType", "new_number")
                .leaf_child("orderId", o.id())
                .leaf_child("OrderStatus", o.status.as_str())
        }));
    Ok(xml(
        StatusCode::OK,
        &El::new("ResponseSelectWrapper").child(list),
    ))
}

/// `page` is `1` or the id of the last order of the previous page; `size` 1–1000 (default 300).
fn list_filter(q: &QueryPairs) -> Result<(OrderFilter, u32), Error> {
    q.reject_unknown(&[
        "page",
        "size",
        "status",
        "startdate",
        "enddate",
        "customerOrderId",
        "userid",
    ])?;
    let mut errors = FieldErrors::new();
    let ListQuery {
        size,
        before,
        statuses,
        created_from,
        created_to,
    } = ListQuery::<OrderId>::parse(
        q,
        1000,
        "an order id",
        "complete, partial, failed, backordered",
        &mut errors,
    );
    errors.into_result()?;
    Ok((
        OrderFilter {
            statuses,
            created_from,
            created_to,
            customer_order_id: q.get("customerOrderId").map(str::to_string),
            page_size: size,
            before,
        },
        size,
    ))
}

fn history_entry(e: &Event) -> Option<El> {
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

pub async fn history(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let fail = |e| BwError::core(Area::Generic, e);
    let account = authorize(&state, &headers, Some(&account))
        .await
        .map_err(fail)?;
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
    headers: HeaderMap,
    Path((account, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let fail = |e| BwError::core(Area::Generic, e);
    let account = authorize(&state, &headers, Some(&account))
        .await
        .map_err(fail)?;
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

pub async fn notes(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((account, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let fail = |e| BwError::core(Area::Notes, e);
    let account = authorize(&state, &headers, Some(&account))
        .await
        .map_err(fail)?;
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
    headers: HeaderMap,
    Path((account, id)): Path<(String, String)>,
    body: Bytes,
) -> BwResult<Response> {
    let fail = |e| BwError::core(Area::Notes, e);
    let account = authorize(&state, &headers, Some(&account))
        .await
        .map_err(fail)?;
    let id = order_id(&id, Area::Notes)?;
    let doc = parse_document(&body, Area::Notes, "Note")?;
    let text = NoteText::parse(doc.text_of("UserId"), doc.text_of("Description")).map_err(fail)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bandwidth::xml::parse;

    fn order(xml: &str) -> Result<ParsedOrder, Error> {
        parse_order(&parse(xml.as_bytes()).unwrap())
    }

    #[test]
    fn sdk_spellings_parse() {
        let p = order("<Order><NpanxxSearchAndOrderType><EnableLca>false</EnableLca><NpaNxx>919555</NpaNxx><Quantity>2</Quantity></NpanxxSearchAndOrderType><SiteId>1</SiteId></Order>").unwrap();
        assert_eq!(p.order_type, "NPANXXSearchAndOrderType");
        assert_eq!(
            p.fields,
            vec![
                ("NpaNxx".to_string(), "919555".to_string()),
                ("Quantity".into(), "2".into()),
                ("EnableLCA".into(), "false".into())
            ]
        );
        let p = order("<Order><LataSearchAndOrderType><Lata>224</Lata><Quantity>1</Quantity></LataSearchAndOrderType></Order>").unwrap();
        assert_eq!(p.fields[0], ("LATA".to_string(), "224".to_string()));
        assert!(p.partial_allowed, "partial fills are the default");
        let p = order("<Order><ExistingTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>9195551000</TelephoneNumber></TelephoneNumberList></ExistingTelephoneNumberOrderType><TnAttributes><TnAttribute>Protected</TnAttribute></TnAttributes></Order>").unwrap();
        assert_eq!(
            p.request,
            OrderRequest::Numbers(vec![E164::parse("+19195551000").unwrap()])
        );
        assert_eq!(p.tn_attributes, vec!["Protected"]);
    }

    #[test]
    fn invalid_orders_name_their_fields() {
        let fields = |xml: &str| match order(xml) {
            Err(Error::Validation(e)) => e.into_iter().map(|f| f.field).collect::<Vec<_>>(),
            other => panic!("{:?}", other.map(|p| p.order_type)),
        };
        assert_eq!(fields("<Order><SiteId>1</SiteId></Order>"), ["OrderType"]);
        assert_eq!(
            fields(
                "<Order><AreaCodeSearchAndOrderType><AreaCode>919</AreaCode><Quantity>0</Quantity></AreaCodeSearchAndOrderType></Order>"
            ),
            ["Quantity"]
        );
        assert_eq!(
            fields(
                "<Order><ExistingTelephoneNumberOrderType><TelephoneNumberList><TelephoneNumber>9195551000</TelephoneNumber></TelephoneNumberList></ExistingTelephoneNumberOrderType><BackOrderRequested>true</BackOrderRequested></Order>"
            ),
            ["BackOrderRequested"]
        );
        assert_eq!(
            fields(
                "<Order><AreaCodeSearchAndOrderType><AreaCode>919</AreaCode></AreaCodeSearchAndOrderType><TnAttributes><TnAttribute>Imported</TnAttribute></TnAttributes></Order>"
            ),
            ["TnAttributes"]
        );
        assert_eq!(
            fields(
                "<Order><CustomerOrderId>bad_id!</CustomerOrderId><StateSearchAndOrderType><State>NC</State></StateSearchAndOrderType></Order>"
            ),
            ["CustomerOrderId"]
        );
    }
}
