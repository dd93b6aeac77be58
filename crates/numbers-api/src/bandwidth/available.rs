//! `GET /accounts/{id}/availableNumbers`: Bandwidth's search parameters and their combination
//! matrix (a wire grammar: which parameters may appear together) translated into one core
//! `SearchQuery`; results as `<SearchResult>` with a plain list or, with `enableTNDetail=true`,
//! the detail list.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use numbers_core::account::Principal;
use numbers_core::error::{Error, FieldErrorKind, FieldErrors};
use numbers_core::number::Number;
use numbers_core::search::{ProtectedFilter, SearchQuery};

use super::error::BwResult;
use super::search_terms::SearchTerms;
use super::xml::El;
use super::{BwAccount, area, parse_bool, tn, xml};
use crate::ApiState;
use crate::wire::QueryPairs;

const KNOWN: &[&str] = &[
    "areaCode",
    "npaNxx",
    "npaNxxx",
    "rateCenter",
    "state",
    "city",
    "zip",
    "lata",
    "localVanity",
    "endsIn",
    "tollFreeVanity",
    "tollFreeWildCardPattern",
    "quantity",
    "enableTNDetail",
    "LCA",
    "orderBy",
    "protected",
];
const GEOGRAPHIC: &[&str] = &[
    "areaCode",
    "npaNxx",
    "npaNxxx",
    "rateCenter",
    "state",
    "city",
    "zip",
    "lata",
];
const ORDER_BY: &[&str] = &["fullNumber", "npaNxxx", "npaNxx", "areaCode"];
pub const MAX_QUANTITY: u32 = 5000;

pub async fn search(
    State(state): State<ApiState>,
    BwAccount {
        account: caller,
        fail,
        ..
    }: BwAccount<area::Search>,
    RawQuery(raw): RawQuery,
) -> BwResult<Response> {
    let q = QueryPairs::parse(raw.as_deref());
    let detail = parse_bool(q.get("enableTNDetail"), "enableTNDetail", false).map_err(fail)?;
    let query = parse_query(&q).map_err(fail)?;
    let page = state
        .service
        .search(Principal::Account(caller), &query)
        .await
        .map_err(fail)?;
    let mut root = El::new("SearchResult").leaf_child("ResultCount", page.items.len());
    if !page.items.is_empty() {
        root.push(if detail {
            El::new("TelephoneNumberDetailList").children(page.items.iter().map(detail_of))
        } else {
            El::new("TelephoneNumberList").children(
                page.items
                    .iter()
                    .map(|n| El::leaf("TelephoneNumber", tn(&n.e164))),
            )
        });
    }
    Ok(xml(StatusCode::OK, &root))
}

fn detail_of(n: &Number) -> El {
    El::new("TelephoneNumberDetail")
        .opt("City", n.location.city.as_deref())
        .opt("LATA", n.location.lata.as_deref())
        .opt("RateCenter", n.location.rate_center.as_deref())
        .opt("State", n.location.state.as_deref())
        .leaf_child("FullNumber", tn(&n.e164))
        .opt("Tier", n.tier)
        .opt("VendorId", n.vendor_id.as_deref())
        .opt("VendorName", n.vendor_name.as_deref())
}

/// The combination matrix of Bandwidth's search, then the core query. Errors name the
/// parameter (the error module turns names into 40xx codes; combinations are 4010).
fn parse_query(q: &QueryPairs) -> Result<SearchQuery, Error> {
    q.reject_unknown(KNOWN)?;
    let has = |name: &str| q.get(name).is_some_and(|v| !v.trim().is_empty());
    let present = |names: &[&'static str]| -> Vec<&'static str> {
        names.iter().copied().filter(|n| has(n)).collect()
    };
    let mut errors = FieldErrors::new();
    let combination = |errors: &mut FieldErrors, reason: String| errors.push("search", reason);
    let toll_free = present(&["tollFreeVanity", "tollFreeWildCardPattern"]);
    if !toll_free.is_empty() {
        let others: Vec<&str> = KNOWN
            .iter()
            .copied()
            .filter(|n| {
                has(n)
                    && !["quantity", "orderBy", "enableTNDetail"].contains(n)
                    && !toll_free.contains(n)
            })
            .collect();
        if toll_free.len() > 1 || !others.is_empty() {
            combination(
                &mut errors,
                format!(
                    "{} can only be combined with quantity and orderBy",
                    toll_free[0]
                ),
            );
        }
    } else if has("localVanity") {
        let allowed = [
            "localVanity",
            "state",
            "areaCode",
            "endsIn",
            "quantity",
            "protected",
            "enableTNDetail",
            "LCA",
        ];
        if let Some(other) = KNOWN.iter().find(|n| has(n) && !allowed.contains(n)) {
            combination(
                &mut errors,
                format!("localVanity cannot be combined with {other}"),
            );
        }
    } else {
        if present(GEOGRAPHIC).is_empty() {
            combination(
                &mut errors,
                "One of more required search parameters are null or empty, please refer to the api documentation".into(),
            );
        }
        let prefixes = present(&["areaCode", "npaNxx", "npaNxxx"]);
        if prefixes.len() > 1 {
            combination(
                &mut errors,
                format!("{} are mutually exclusive", prefixes.join(", ")),
            );
        }
        if has("endsIn") {
            combination(&mut errors, "endsIn is only valid with localVanity".into());
        }
        if has("LCA") && present(&["npaNxx", "npaNxxx", "rateCenter"]).is_empty() {
            combination(
                &mut errors,
                "LCA is only valid with npaNxx, npaNxxx or rateCenter".into(),
            );
        }
    }
    for (name, with) in [("rateCenter", "state"), ("city", "state")] {
        if has(name) && !has(with) {
            combination(&mut errors, format!("{with} is required with {name}"));
        }
    }
    if let Some(order_by) = q.get("orderBy").filter(|v| !v.trim().is_empty()) {
        if !ORDER_BY.contains(&order_by.trim()) {
            errors.push(
                "orderBy",
                format!("valid values are {}", ORDER_BY.join(", ")),
            );
        } else if present(&[
            "npaNxx",
            "npaNxxx",
            "rateCenter",
            "city",
            "zip",
            "tollFreeVanity",
            "tollFreeWildCardPattern",
        ])
        .is_empty()
        {
            errors.push_as(
                FieldErrorKind::Unsupported,
                "orderBy",
                "is not supported for the specified search criteria",
            );
        }
    }
    let protected = match q.get("protected").map(str::trim) {
        None | Some("") => ProtectedFilter::Mixed,
        Some(v) if v.eq_ignore_ascii_case("NONE") => ProtectedFilter::Exclude,
        Some(v) if v.eq_ignore_ascii_case("ONLY") => ProtectedFilter::Only,
        Some(v) if v.eq_ignore_ascii_case("MIXED") => ProtectedFilter::Mixed,
        Some(_) => {
            errors.push("protected", "valid values are NONE, ONLY, MIXED");
            ProtectedFilter::Mixed
        }
    };
    // `enableTNDetail` is the handler's, checked before the query is parsed.
    let terms = SearchTerms::from_query(q);
    let checked = terms.check(&mut errors);
    errors.into_result()?;
    let builder = terms
        .geography(SearchQuery::builder())
        .protected(protected)
        .page_size(q.get("quantity"), "quantity", MAX_QUANTITY, MAX_QUANTITY);
    terms.patterns(&checked, builder).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(raw: &str) -> Vec<String> {
        match parse_query(&QueryPairs::parse(Some(raw))) {
            Ok(_) => vec![],
            Err(Error::Validation(errs)) => errs.into_iter().map(|e| e.field).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_combination_matrix() {
        assert!(fields("areaCode=919&quantity=2").is_empty());
        assert!(fields("npaNxx=919555&LCA=false&orderBy=fullNumber").is_empty());
        assert!(fields("rateCenter=RALEIGH&state=NC").is_empty());
        assert!(fields("localVanity=CAFE&endsIn=true&areaCode=206").is_empty());
        assert!(fields("tollFreeWildCardPattern=8**&quantity=5").is_empty());
        assert_eq!(fields("quantity=5"), ["search"]);
        assert_eq!(fields("areaCode=919&npaNxx=919555"), ["search"]);
        assert_eq!(fields("rateCenter=RALEIGH"), ["search"]);
        assert_eq!(fields("tollFreeVanity=FLOWERS&state=NC"), ["search"]);
        assert_eq!(fields("areaCode=919&orderBy=fullNumber"), ["orderBy"]);
        assert_eq!(fields("npaNxx=919555&orderBy=random"), ["orderBy"]);
        assert_eq!(fields("areaCode=919&protected=SOME"), ["protected"]);
        assert_eq!(fields("areaCode=119"), ["areaCode"]);
        assert_eq!(fields("areaCode=919&color=red"), ["color"]);
        assert_eq!(fields("areaCode=919&quantity=5001"), ["quantity"]);
    }
}
