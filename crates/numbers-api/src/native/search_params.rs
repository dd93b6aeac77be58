//! The native search vocabulary (snake_case names) turned into a `SearchQuery`. Used by the
//! search endpoint (query string) and by search orders (a JSON object with the same names), so
//! both accept exactly the same criteria with the same errors.

use numbers_core::error::{Error, FieldErrorKind, Result};
use numbers_core::search::{CapabilityMatch, PatternPosition, SearchQuery, SearchQueryBuilder};
use serde_json::Value;

pub const CRITERIA: &[&str] = &[
    "country",
    "type",
    "capabilities",
    "starts_with",
    "contains",
    "ends_with",
    "npa",
    "npa_nxx",
    "npa_nxx_x",
    "rate_center",
    "state",
    "city",
    "zip",
    "lata",
    "toll_free_pattern",
    "classification",
];

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Named values, each possibly repeated.
pub trait Values {
    fn all(&self, name: &str) -> Vec<String>;
    fn one(&self, name: &str) -> Option<String> {
        self.all(name).into_iter().next()
    }
}

impl Values for crate::wire::QueryPairs {
    fn all(&self, name: &str) -> Vec<String> {
        crate::wire::QueryPairs::all(self, name)
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}

/// A JSON object read as named values: arrays give several, scalars one.
pub struct JsonValues<'a>(pub &'a serde_json::Map<String, Value>);

impl Values for JsonValues<'_> {
    fn all(&self, name: &str) -> Vec<String> {
        match self.0.get(name) {
            None | Some(Value::Null) => vec![],
            Some(Value::Array(items)) => items.iter().map(scalar).collect(),
            Some(v) => vec![scalar(v)],
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The criteria part of a search, each error named `{prefix}{field}`.
pub fn criteria(values: &dyn Values, prefix: &str) -> SearchQueryBuilder {
    let f = |name: &str| format!("{prefix}{name}");
    let one = |name: &str| values.one(name);
    let types = values.all("type");
    let caps = values.all("capabilities");
    SearchQuery::builder()
        .country(one("country").as_deref(), &f("country"))
        .type_values(types.iter().map(String::as_str), &f("type"))
        .capability_values(
            caps.iter().map(String::as_str),
            CapabilityMatch::AllOf,
            &f("capabilities"),
        )
        .pattern(
            PatternPosition::StartsWith,
            one("starts_with").as_deref(),
            &f("starts_with"),
        )
        .pattern(
            PatternPosition::Contains,
            one("contains").as_deref(),
            &f("contains"),
        )
        .pattern(
            PatternPosition::EndsWith,
            one("ends_with").as_deref(),
            &f("ends_with"),
        )
        .npa(one("npa").as_deref(), &f("npa"))
        .npa_nxx(one("npa_nxx").as_deref(), &f("npa_nxx"))
        .npa_nxx_x(one("npa_nxx_x").as_deref(), &f("npa_nxx_x"))
        .rate_center(one("rate_center").as_deref(), &f("rate_center"))
        .state(one("state").as_deref(), &f("state"))
        .city(one("city").as_deref(), &f("city"))
        .zip(one("zip").as_deref(), &f("zip"))
        .lata(one("lata").as_deref(), &f("lata"))
        .toll_free_pattern(one("toll_free_pattern").as_deref(), &f("toll_free_pattern"))
        .classification(one("classification").as_deref(), &f("classification"))
}

/// Rejects repeated single-valued parameters rather than silently taking the first.
pub fn reject_repeats(values: &dyn Values, names: &[&str], prefix: &str) -> Result<()> {
    let mut errors = numbers_core::error::FieldErrors::new();
    for name in names {
        if !matches!(*name, "type" | "capabilities") && values.all(name).len() > 1 {
            errors.push_as(
                FieldErrorKind::Duplicate,
                format!("{prefix}{name}"),
                "must be given once",
            );
        }
    }
    errors.into_result()
}

/// A search from a JSON object (order criteria), field names under `prefix`.
pub fn search_from_json(value: &Value, prefix: &str) -> Result<SearchQuery> {
    let map = value.as_object().ok_or_else(|| {
        Error::invalid(
            prefix.trim_end_matches('.'),
            "must be an object of search criteria",
        )
    })?;
    let mut errors = numbers_core::error::FieldErrors::new();
    for key in map.keys() {
        if !CRITERIA.contains(&key.as_str()) {
            errors.push(
                format!("{prefix}{key}"),
                format!("is not a search criterion; known: {}", CRITERIA.join(", ")),
            );
        }
    }
    errors.into_result()?;
    let values = JsonValues(map);
    reject_repeats(&values, CRITERIA, prefix)?;
    criteria(&values, prefix).build()
}
