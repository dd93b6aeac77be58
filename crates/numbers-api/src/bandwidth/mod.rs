//! The Bandwidth dialect: the Numbers ("Dashboard"/"Iris") XML API under `/api`, faithful enough
//! that Bandwidth's official SDKs work unchanged when pointed at `http://HOST:PORT/api`. HTTP Basic
//! with an account's key id and secret; the `{accountId}` in the path must be that account's id.
//! Every handler parses the XML (or query) into core values, calls `numbers_core::service`, and
//! renders the result in Bandwidth's documents; errors go through `error::BwError` only. Nothing
//! here decides anything about numbers: see docs/BANDWIDTH.md for the mapping and the differences.

mod account;
mod available;
mod available_npa_nxx;
mod disconnects;
mod error;
mod inventory;
pub mod notification;
mod orders;
mod reservations;
mod search_terms;
mod sites;
mod subscriptions;
mod tn_lookups;
mod xml;

use axum::Router;
use axum::http::header::{CONTENT_TYPE, HOST, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use numbers_core::clock::Timestamp;
use numbers_core::error::Error;
use numbers_core::number::E164;

use crate::ApiState;

use account::BwAccount;
use error::area;
pub use error::{Area, BwError, BwResult};
use xml::El;

pub fn routes() -> Router<ApiState> {
    let acct = "/api/accounts/{account_id}";
    Router::new()
        .route(&format!("{acct}/availableNumbers"), get(available::search))
        .route(
            &format!("{acct}/availableNpaNxx"),
            get(available_npa_nxx::search),
        )
        .route(
            &format!("{acct}/orders"),
            get(orders::list).post(orders::create),
        )
        .route(
            &format!("{acct}/orders/{{id}}"),
            get(orders::get).put(orders::update),
        )
        .route(
            &format!("{acct}/orders/{{id}}/history"),
            get(orders::history),
        )
        .route(&format!("{acct}/orders/{{id}}/tns"), get(orders::tns))
        .route(
            &format!("{acct}/orders/{{id}}/areaCodes"),
            get(orders::area_codes),
        )
        .route(
            &format!("{acct}/orders/{{id}}/npaNxx"),
            get(orders::npa_nxx),
        )
        .route(&format!("{acct}/orders/{{id}}/totals"), get(orders::totals))
        .route(
            &format!("{acct}/orders/{{id}}/notes"),
            get(orders::notes).post(orders::add_note),
        )
        .route(
            &format!("{acct}/tnreservation"),
            axum::routing::post(reservations::create),
        )
        .route(
            &format!("{acct}/tnreservation/{{id}}"),
            get(reservations::get).delete(reservations::delete),
        )
        .route(
            &format!("{acct}/disconnects"),
            get(disconnects::list).post(disconnects::create),
        )
        .route(&format!("{acct}/disconnects/{{id}}"), get(disconnects::get))
        .route(
            &format!("{acct}/inserviceNumbers"),
            get(inventory::in_service),
        )
        .route(
            &format!("{acct}/inserviceNumbers/totals"),
            get(inventory::in_service_totals),
        )
        .route(
            &format!("{acct}/inserviceNumbers/{{tn}}"),
            get(inventory::in_service_one),
        )
        .route(&format!("{acct}/discnumbers"), get(inventory::disconnected))
        .route(
            &format!("{acct}/discnumbers/totals"),
            get(inventory::disconnected_totals),
        )
        .route("/api/tns", get(inventory::tns))
        .route("/api/tns/{tn}", get(inventory::one_tn))
        .route("/api/tns/{tn}/tndetails", get(inventory::tn_details))
        .route("/api/tns/{tn}/sites", get(tn_lookups::site))
        .route("/api/tns/{tn}/sippeers", get(tn_lookups::sip_peer))
        .route("/api/tns/{tn}/ratecenter", get(tn_lookups::rate_center))
        .route("/api/tns/{tn}/lata", get(tn_lookups::lata))
        .route(
            &format!("{acct}/sites"),
            get(sites::list).post(sites::create),
        )
        .route(
            &format!("{acct}/sites/{{site_id}}"),
            get(sites::get).put(sites::update).delete(sites::delete),
        )
        .route(
            &format!("{acct}/sites/{{site_id}}/sippeers"),
            get(sites::list_peers).post(sites::create_peer),
        )
        .route(
            &format!("{acct}/sites/{{site_id}}/sippeers/{{peer_id}}"),
            get(sites::get_peer)
                .put(sites::update_peer)
                .delete(sites::delete_peer),
        )
        .route(
            &format!("{acct}/sites/{{site_id}}/sippeers/{{peer_id}}/tns"),
            get(tn_lookups::peer_tns),
        )
        .route(
            &format!("{acct}/sites/{{site_id}}/sippeers/{{peer_id}}/movetns"),
            post(tn_lookups::move_tns),
        )
        .route(
            &format!("{acct}/subscriptions"),
            get(subscriptions::list).post(subscriptions::create),
        )
        .route(
            &format!("{acct}/subscriptions/{{id}}"),
            get(subscriptions::get)
                .put(subscriptions::update)
                .delete(subscriptions::delete),
        )
}

/// The `Content-Type` of every Bandwidth answer with a body, as Bandwidth sends it (the
/// guide's examples and the notifications alike).
pub const XML_CONTENT_TYPE: &str = "application/xml; charset=utf-8";

/// 200 (or another status) with an XML document.
fn xml(status: StatusCode, root: &El) -> Response {
    (status, [(CONTENT_TYPE, XML_CONTENT_TYPE)], root.document()).into_response()
}

/// 201 with an absolute `Location` (its last segment is the new id) and an optional body.
fn created(headers: &HeaderMap, path: &str, body: Option<&El>) -> Response {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let location = format!("http://{host}{path}");
    let mut response = match body {
        Some(root) => xml(StatusCode::CREATED, root),
        None => StatusCode::CREATED.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// Bandwidth's timestamps: `2014-07-11T17:13:57.788Z`.
fn time(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The 10-digit TN of a NANP number; other numbers as their digits (Bandwidth has none).
fn tn(e164: &E164) -> String {
    e164.nanp_national()
        .map(str::to_string)
        .unwrap_or_else(|| e164.digits().to_string())
}

/// A TN as Bandwidth clients write it: 10 digits, `1` + 10 digits, or E.164.
fn parse_tn(raw: &str, field: &str) -> Result<E164, Error> {
    let digits: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let e164 = if digits.starts_with('+') {
        digits
    } else if digits.len() == 10 {
        format!("+1{digits}")
    } else if digits.len() == 11 && digits.starts_with('1') {
        format!("+{digits}")
    } else {
        return Err(Error::invalid(
            field,
            format!("'{raw}' is not a 10-digit telephone number"),
        ));
    };
    E164::parse(&e164)
        .map_err(|_| Error::invalid(field, format!("'{raw}' is not a valid telephone number")))
}

/// `true`/`false` in any case.
fn parse_bool(raw: Option<&str>, field: &str, default: bool) -> Result<bool, Error> {
    match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(Error::invalid(field, format!("'{v}' is not true or false"))),
    }
}

/// Bandwidth's list dates: `yy-mm-dd` (as documented) or `yyyy-mm-dd`, as the start of that day.
fn parse_date(raw: &str, field: &str) -> Result<Timestamp, Error> {
    let raw = raw.trim();
    let full = if raw.len() == 8 {
        format!("20{raw}")
    } else {
        raw.to_string()
    };
    chrono::NaiveDate::parse_from_str(&full, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| Error::invalid(field, "must be a date yy-mm-dd"))
}

/// Parses a request body (safely, see `xml`) that must be a `<root>` document; any other root or
/// malformed XML answers in the area's error envelope.
fn parse_document(body: &[u8], area: error::Area, root: &str) -> error::BwResult<xml::Element> {
    let doc = xml::parse(body).map_err(|e| error::BwError::malformed(area, e))?;
    if doc.is(root) {
        Ok(doc)
    } else {
        Err(error::BwError::malformed(
            area,
            format!("the root element must be <{root}>, not <{}>", doc.name),
        ))
    }
}

/// The optional `Name` of an order or disconnect: at most 50 characters.
fn order_name(doc: &xml::Element, errors: &mut numbers_core::error::FieldErrors) -> Option<String> {
    let name = doc.text_of("Name").map(str::to_string);
    if name.as_ref().is_some_and(|n| n.chars().count() > 50) {
        errors.push("Name", "must be at most 50 characters");
    }
    name
}

/// The optional `CustomerOrderId` of an order or disconnect: at most 40 letters, digits, dashes
/// and spaces.
fn customer_order_id(
    doc: &xml::Element,
    errors: &mut numbers_core::error::FieldErrors,
) -> Option<String> {
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
    customer_order_id
}

/// `<ResponseSelectWrapper>` of the order and disconnect lists: `TotalCount`, the `first` link
/// and, when there is more, the `next` one (its page is the last id shown), then the items.
fn list_document(
    base: &str,
    total: u64,
    next_after: Option<String>,
    items: impl IntoIterator<Item = El>,
) -> El {
    let mut links =
        El::new("Links").leaf_child("first", format!("Link=<{base}&page=1>;rel=\"first\";"));
    if let Some(last) = next_after {
        links.push(El::leaf(
            "next",
            format!("Link=<{base}&page={last}>;rel=\"next\";"),
        ));
    }
    let list = El::new("ListOrderIdUserIdDate")
        .leaf_child("TotalCount", total)
        .child(links)
        .children(items);
    El::new("ResponseSelectWrapper").child(list)
}

/// The paging and filtering parameters Bandwidth's order and disconnect lists share: `size`
/// (default 300), `page` (`1` or the id of the last item of the previous page — a keyset),
/// `status` (repeated or comma-separated) and the `startdate`/`enddate` pair (`yy-mm-dd`, the end
/// day included).
struct ListQuery<Id> {
    size: u32,
    before: Option<Id>,
    statuses: Vec<numbers_core::order::OrderStatus>,
    created_from: Option<Timestamp>,
    created_to: Option<Timestamp>,
}

impl<Id: std::str::FromStr> ListQuery<Id> {
    /// Errors go to `errors`; `max_size` and the wording of the valid ids and statuses differ
    /// between the lists.
    fn parse(
        q: &crate::wire::QueryPairs,
        max_size: u32,
        page_what: &str,
        valid_statuses: &str,
        errors: &mut numbers_core::error::FieldErrors,
    ) -> Self {
        let size = match q.get("size") {
            None => 300,
            Some(v) => match v.trim().parse::<u32>() {
                Ok(n) if (1..=max_size).contains(&n) => n,
                _ => {
                    errors.push("size", format!("must be from 1 to {max_size}"));
                    300
                }
            },
        };
        let before = match q.get("page").map(str::trim) {
            None | Some("1") | Some("") => None,
            Some(v) => errors.take(
                v.parse::<Id>()
                    .map_err(|_| Error::invalid("page", format!("must be 1 or {page_what}"))),
            ),
        };
        let mut statuses = Vec::new();
        for s in q.list("status") {
            match numbers_core::order::OrderStatus::parse(s) {
                Some(st) => statuses.push(st),
                None => errors.push(
                    "status",
                    format!("'{s}' is not valid; valid values: {valid_statuses}"),
                ),
            }
        }
        let created_from = q
            .get("startdate")
            .and_then(|d| errors.take(parse_date(d, "startdate")));
        let created_to = q
            .get("enddate")
            .and_then(|d| errors.take(parse_date(d, "enddate")))
            .map(|d| d + chrono::Duration::days(1) - chrono::Duration::milliseconds(1));
        ListQuery {
            size,
            before,
            statuses,
            created_from,
            created_to,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tns_and_dates() {
        assert_eq!(
            parse_tn("9195551000", "tn").unwrap().as_str(),
            "+19195551000"
        );
        assert_eq!(
            parse_tn("19195551000", "tn").unwrap().as_str(),
            "+19195551000"
        );
        assert_eq!(
            parse_tn("+19195551000", "tn").unwrap().as_str(),
            "+19195551000"
        );
        assert!(parse_tn("123", "tn").is_err());
        assert_eq!(tn(&E164::parse("+19195551000").unwrap()), "9195551000");
        assert!(parse_date("13-12-15", "d").is_ok());
        assert!(parse_date("2013-12-15", "d").is_ok());
        assert!(parse_date("x", "d").is_err());
        assert!(parse_bool(Some("TRUE"), "b", false).unwrap());
        assert!(parse_bool(Some("maybe"), "b", false).is_err());
    }
}
