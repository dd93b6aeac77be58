//! Reading an order request off the wire: the `<Order>` document (order type, common fields, the
//! search terms through `search_terms`) into what the core needs plus the echo to render, and
//! the list's query into an `OrderFilter`.

use numbers_core::error::{Error, FieldErrorKind, FieldErrors};
use numbers_core::ids::{OrderId, ReservationId};
use numbers_core::order::OrderRequest;
use numbers_core::search::SearchQuery;
use numbers_core::store::OrderFilter;

use crate::bandwidth::error::{NUMBER_LIST, renamed};
use crate::bandwidth::search_terms::SearchTerms;
use crate::bandwidth::xml::Element;
use crate::bandwidth::{ListQuery, customer_order_id, order_name, parse_bool, parse_tn};
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
pub(super) struct ParsedOrder {
    pub(super) request: OrderRequest,
    pub(super) order_type: String,
    pub(super) fields: Vec<(String, String)>,
    pub(super) site_id: Option<i64>,
    pub(super) peer_id: Option<i64>,
    pub(super) partial_allowed: bool,
    pub(super) backorder_requested: bool,
    pub(super) reservation_ids: Vec<ReservationId>,
    pub(super) tn_attributes: Vec<String>,
    pub(super) name: Option<String>,
    pub(super) customer_order_id: Option<String>,
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

pub(super) fn parse_order(doc: &Element) -> Result<ParsedOrder, Error> {
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
    let name = order_name(doc, &mut errors);
    let customer_order_id = customer_order_id(doc, &mut errors);
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
    local_vanity_rules(order_type, el, &mut errors);
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
        errors.take(request.validate().map_err(|e| renamed(e, NUMBER_LIST)));
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
        let terms = SearchTerms::from_order(field);
        let checked = terms.check(&mut errors);
        let builder = terms.patterns(&checked, terms.geography(SearchQuery::builder()));
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

/// The criteria a local-vanity order may not combine with its `AreaCode`.
const NOT_WITH_LOCAL_VANITY: &[&str] = &[
    "RateCenter",
    "State",
    "NpaNxx",
    "NpaNxxX",
    "LATA",
    "City",
    "Zip",
];

/// Where Bandwidth allows a local vanity in an order: only in `CombinedSearchAndOrderType`, with
/// an `AreaCode` and no other criterion ("AreaCode is always required. No parameter combinations
/// are allowed"). Anywhere else `LocalVanity` and `EndsIn` are refused rather than ignored, so an
/// order never fills with numbers that do not match the pattern it asked for.
fn local_vanity_rules(order_type: &str, el: &Element, errors: &mut FieldErrors) {
    if order_type == "ExistingTelephoneNumberOrderType" {
        return;
    }
    if order_type != "CombinedSearchAndOrderType" {
        for name in ["LocalVanity", "EndsIn"] {
            if el.child(name).is_some() {
                errors.push_as(
                    FieldErrorKind::Unsupported,
                    name,
                    format!(
                        "is not allowed in {order_type}; order a local vanity with CombinedSearchAndOrderType and an AreaCode"
                    ),
                );
            }
        }
        return;
    }
    if el
        .text_of("LocalVanity")
        .is_none_or(|v| v.trim().is_empty())
    {
        return;
    }
    if el.text_of("AreaCode").is_none_or(|v| v.trim().is_empty()) {
        errors.push_as(
            FieldErrorKind::Unsupported,
            "LocalVanity",
            "needs an AreaCode in the same CombinedSearchAndOrderType",
        );
    }
    for name in NOT_WITH_LOCAL_VANITY {
        if el.child(name).is_some() {
            errors.push_as(
                FieldErrorKind::Unsupported,
                "LocalVanity",
                format!("cannot be combined with {name}: only AreaCode, Quantity and EndsIn"),
            );
            break;
        }
    }
}

/// Core's names for an order's site and peer, and Bandwidth's.
pub(super) const PLACEMENT_FIELDS: &[(&str, &str)] =
    &[("site_id", "SiteId"), ("peer_id", "PeerId")];

/// `page` is `1` or the id of the last order of the previous page; `size` 1–1000 (default 300).
pub(super) fn list_filter(q: &QueryPairs) -> Result<(OrderFilter, u32), Error> {
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

#[cfg(test)]
mod tests {
    use numbers_core::number::E164;

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
