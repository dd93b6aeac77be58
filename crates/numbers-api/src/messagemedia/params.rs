//! MessageMedia's query vocabulary turned into core values: number types (repeated or
//! comma-separated), service types, `exact_service_types`, and the facets shared by the search and
//! the assigned-number list (`country`, `matching`, `classification`, `page_size`, `token`), parsed
//! by the core's search builder so both endpoints apply the same rules.
//!
//! Types: MOBILE → MOBILE; LANDLINE, TEN_DLC and HOSTED_TEN_DLC → LOCAL (a geographic long code);
//! TOLL_FREE and HOSTED_TOLL_FREE → TOLL_FREE; SHORT_CODE → SHORT_CODE. Service types: SMS, MMS,
//! TTS (the vendor's three).

use numbers_core::error::{Error, FieldErrors, Result};
use numbers_core::number::{Capabilities, Capability, NumberType};
use numbers_core::page::token_from_uuid;
use numbers_core::search::{CapabilityMatch, PatternPosition, SearchQuery, SearchQueryBuilder};

use crate::wire::QueryPairs;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 100;

const TYPES: &[(&str, NumberType)] = &[
    ("MOBILE", NumberType::Mobile),
    ("LANDLINE", NumberType::Local),
    ("TEN_DLC", NumberType::Local),
    ("HOSTED_TEN_DLC", NumberType::Local),
    ("TOLL_FREE", NumberType::TollFree),
    ("HOSTED_TOLL_FREE", NumberType::TollFree),
    ("SHORT_CODE", NumberType::ShortCode),
];

const SERVICE_TYPES: &[(&str, Capability)] = &[
    ("SMS", Capability::Sms),
    ("MMS", Capability::Mms),
    ("TTS", Capability::Tts),
];

/// How a core type is shown: LOCAL is LANDLINE.
pub fn type_name(t: NumberType) -> &'static str {
    match t {
        NumberType::Mobile => "MOBILE",
        NumberType::Local => "LANDLINE",
        NumberType::TollFree => "TOLL_FREE",
        NumberType::ShortCode => "SHORT_CODE",
    }
}

/// The capabilities the vendor has words for, in its order.
pub fn service_type_names(caps: Capabilities) -> Vec<&'static str> {
    SERVICE_TYPES
        .iter()
        .filter(|(_, c)| caps.contains(*c))
        .map(|(name, _)| *name)
        .collect()
}

/// Splits repeated and comma-separated values, each looked up (case-insensitively) in `table`.
fn parse_list<T: Copy + PartialEq>(
    values: &[&str],
    field: &str,
    table: &[(&str, T)],
) -> Result<Vec<T>> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for part in values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        match table
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(part))
        {
            Some((_, value)) if !out.contains(value) => out.push(*value),
            Some(_) => {}
            None => {
                let known: Vec<&str> = table.iter().map(|(name, _)| *name).collect();
                errors.push(
                    field,
                    format!(
                        "unknown value '{part}'; expected one of {}",
                        known.join(", ")
                    ),
                );
            }
        }
    }
    errors.into_result()?;
    Ok(out)
}

fn parse_bool(value: Option<&str>, field: &str) -> Result<bool> {
    match value.map(str::trim) {
        None | Some("") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(Error::invalid(field, "must be true or false")),
    }
}

/// `token` as the core reads it. MessageMedia's tokens are UUIDs (`views::next_token` issues
/// them); a base64url token from before that change is still taken as it is.
fn page_token(raw: Option<&str>) -> Result<Option<String>> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) if t.len() == 36 && t.contains('-') => token_from_uuid(t, "token").map(Some),
        Some(t) => Ok(Some(t.to_string())),
    }
}

/// The facets both list endpoints share. `type_fields` are the type parameters in precedence
/// order: the first one present wins (the assigned list ignores `type` when `types` is given).
pub fn criteria(q: &QueryPairs, type_fields: &[&str]) -> Result<SearchQuery> {
    let mut errors = FieldErrors::new();
    let type_field = type_fields
        .iter()
        .copied()
        .find(|f| !q.all(f).is_empty())
        .unwrap_or("types");
    let types = errors
        .take(parse_list(&q.all(type_field), type_field, TYPES))
        .unwrap_or_default();
    let caps: Capabilities = errors
        .take(parse_list(
            &q.all("service_types"),
            "service_types",
            SERVICE_TYPES,
        ))
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mode = match errors.take(parse_bool(
        q.get("exact_service_types"),
        "exact_service_types",
    )) {
        Some(true) => CapabilityMatch::Exactly,
        _ => CapabilityMatch::AnyOf,
    };
    let token = errors.take(page_token(q.get("token"))).flatten();
    let builder: SearchQueryBuilder = SearchQuery::builder()
        .country(q.get("country"), "country")
        .types(types, type_field)
        .capabilities(caps, mode)
        .pattern(PatternPosition::Contains, q.get("matching"), "matching")
        .classification(q.get("classification"), "classification")
        .page_size(
            q.get("page_size"),
            "page_size",
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
        )
        .page_token(token.as_deref(), "token");
    let query = errors.take(builder.build());
    errors.into_result()?;
    query.ok_or_else(|| Error::internal("search criteria missing after validation"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_repeated_or_comma_separated_and_mapped() {
        let q = QueryPairs::parse(Some(
            "types=MOBILE,TEN_DLC&types=hosted_toll_free&types=LANDLINE",
        ));
        let query = criteria(&q, &["types"]).unwrap();
        assert_eq!(
            query.types,
            vec![NumberType::Mobile, NumberType::Local, NumberType::TollFree]
        );
        let q = QueryPairs::parse(Some("type=MOBILE&types=LANDLINE"));
        assert_eq!(
            criteria(&q, &["types", "type"]).unwrap().types,
            vec![NumberType::Local],
            "types wins over type"
        );
        let q = QueryPairs::parse(Some("types=LOCAL&service_types=VOICE&page_size=101"));
        match criteria(&q, &["types"]).unwrap_err() {
            Error::Validation(errs) => {
                let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, vec!["types", "service_types", "page_size"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn service_types_any_of_unless_exact() {
        let q = QueryPairs::parse(Some("service_types=SMS&service_types=MMS"));
        let query = criteria(&q, &["types"]).unwrap();
        assert_eq!(query.capabilities.mode, CapabilityMatch::AnyOf);
        assert_eq!(
            service_type_names(query.capabilities.set),
            vec!["SMS", "MMS"]
        );
        let q = QueryPairs::parse(Some("service_types=SMS&exact_service_types=true"));
        assert_eq!(
            criteria(&q, &["types"]).unwrap().capabilities.mode,
            CapabilityMatch::Exactly
        );
        assert_eq!(
            criteria(&QueryPairs::default(), &["types"])
                .unwrap()
                .page_size,
            50
        );
    }

    #[test]
    fn matching_is_contained_digits_and_a_plus_anchors_at_the_start() {
        let q = QueryPairs::parse(Some("matching=2233"));
        let p = criteria(&q, &["types"]).unwrap().pattern.unwrap();
        assert_eq!(
            (p.position, p.digits.as_str()),
            (PatternPosition::Contains, "2233")
        );
        let q = QueryPairs::parse(Some("matching=+614"));
        let p = criteria(&q, &["types"]).unwrap().pattern.unwrap();
        assert_eq!(
            (p.position, p.international),
            (PatternPosition::StartsWith, true)
        );
        let q = QueryPairs::parse(Some("matching=%5E61.*"));
        assert!(criteria(&q, &["types"]).is_err(), "no regular expressions");
    }
}
