//! The native search vocabulary (snake_case names) as one wire type, [`SearchCriteria`], turned
//! into a `SearchQuery`. The search endpoint reads it from the query string and search orders
//! from a JSON object with the same names, so both accept exactly the same criteria with the same
//! errors, and the OpenAPI document describes both from this one type.

use numbers_core::error::{Error, FieldErrorKind, FieldErrors, Result};
use numbers_core::search::{CapabilityMatch, PatternPosition, SearchQuery, SearchQueryBuilder};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::request::{self, Values};

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Search criteria. Lists (`type`, `capabilities`) may be repeated or comma-separated.
/// Patterns take digits or keypad letters (`CAFE` = 2233); a leading `+` on `starts_with` means
/// the digits include the country code, otherwise they match the national number.
#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchCriteria {
    /// ISO 3166-1 alpha-2, e.g. US, AU.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    country: Values,
    /// MOBILE, LOCAL, TOLL_FREE, SHORT_CODE (any of).
    #[serde(default, rename = "type")]
    #[param(value_type = Option<Vec<String>>)]
    #[schema(value_type = Option<Vec<String>>)]
    number_type: Values,
    /// SMS, MMS, VOICE, FAX, TTS (all of).
    #[serde(default)]
    #[param(value_type = Option<Vec<String>>)]
    #[schema(value_type = Option<Vec<String>>)]
    capabilities: Values,
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    starts_with: Values,
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    contains: Values,
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    ends_with: Values,
    /// NANP area code, e.g. 206.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    npa: Values,
    /// e.g. 206555.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    npa_nxx: Values,
    /// e.g. 2065551.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    npa_nxx_x: Values,
    /// Rate center abbreviation; requires state.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    rate_center: Values,
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    state: Values,
    /// Requires state.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    city: Values,
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    zip: Values,
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    lata: Values,
    /// Toll-free NPA with wildcards: 8**, 87*, 800.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    toll_free_pattern: Values,
    /// GOLD, SILVER, BRONZE.
    #[serde(default)]
    #[param(value_type = Option<String>)]
    #[schema(value_type = Option<String>)]
    classification: Values,
}

/// The criteria that take several values; every other name may be given once.
pub const LISTS: &[&str] = &["type", "capabilities"];

/// Paging of the search endpoint.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SearchPage {
    /// 1 to 1000, default 50.
    #[param(value_type = Option<u32>)]
    pub page_size: Values,
    /// `next_page_token` of the previous page.
    #[param(value_type = Option<String>)]
    pub page_token: Values,
}

impl SearchCriteria {
    /// The criteria part of a search, each error named `{prefix}{field}`.
    pub fn builder(&self, prefix: &str) -> SearchQueryBuilder {
        let f = |name: &str| format!("{prefix}{name}");
        SearchQuery::builder()
            .country(self.country.first(), &f("country"))
            .type_values(self.number_type.all(), &f("type"))
            .capability_values(
                self.capabilities.all(),
                CapabilityMatch::AllOf,
                &f("capabilities"),
            )
            .pattern(
                PatternPosition::StartsWith,
                self.starts_with.first(),
                &f("starts_with"),
            )
            .pattern(
                PatternPosition::Contains,
                self.contains.first(),
                &f("contains"),
            )
            .pattern(
                PatternPosition::EndsWith,
                self.ends_with.first(),
                &f("ends_with"),
            )
            .npa(self.npa.first(), &f("npa"))
            .npa_nxx(self.npa_nxx.first(), &f("npa_nxx"))
            .npa_nxx_x(self.npa_nxx_x.first(), &f("npa_nxx_x"))
            .rate_center(self.rate_center.first(), &f("rate_center"))
            .state(self.state.first(), &f("state"))
            .city(self.city.first(), &f("city"))
            .zip(self.zip.first(), &f("zip"))
            .lata(self.lata.first(), &f("lata"))
            .toll_free_pattern(self.toll_free_pattern.first(), &f("toll_free_pattern"))
            .classification(self.classification.first(), &f("classification"))
    }
}

/// Rejects repeated single-valued names rather than silently taking the first: a query
/// parameter given twice, or a JSON array where one value goes.
pub fn reject_repeats(map: &Map<String, Value>, names: &[&str], prefix: &str) -> Result<()> {
    let mut errors = FieldErrors::new();
    for name in names {
        let given = match map.get(*name) {
            None | Some(Value::Null) => 0,
            Some(Value::Array(items)) => items.len(),
            Some(_) => 1,
        };
        if !LISTS.contains(name) && given > 1 {
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
    let known = request::field_names::<SearchCriteria>();
    let mut errors = FieldErrors::new();
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            errors.push(
                format!("{prefix}{key}"),
                format!("is not a search criterion; known: {}", known.join(", ")),
            );
        }
    }
    errors.into_result()?;
    reject_repeats(map, known, prefix)?;
    request::read::<SearchCriteria>(value)?
        .builder(prefix)
        .build()
}

#[cfg(test)]
mod tests {
    use utoipa::IntoParams;
    use utoipa::openapi::path::ParameterIn;

    use super::*;

    /// The list-valued criteria are the ones the document shows as arrays.
    #[test]
    fn lists_are_the_array_parameters() {
        let params = SearchCriteria::into_params(|| Some(ParameterIn::Query));
        let arrays: Vec<String> = params
            .iter()
            .filter(|p| {
                serde_json::to_value(&p.schema)
                    .map(|s| s.to_string().contains("\"array\""))
                    .unwrap_or(false)
            })
            .map(|p| p.name.clone())
            .collect();
        assert_eq!(arrays, LISTS);
    }
}
