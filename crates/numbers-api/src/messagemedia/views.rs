//! MessageMedia's JSON shapes: `DedicatedNumber`, `Assignment`, `AssignedNumber` and the
//! token-paginated list envelope. Numbers are shown by their stable id; `phone_number` is E.164
//! with its `+`; `available_after` is the number's real value (null while it is held).

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use numbers_core::number::Number;
use numbers_core::page::Page;
use serde::Serialize;

use super::params::{service_type_names, type_name};

#[derive(Debug, Serialize)]
pub struct DedicatedNumber {
    pub id: String,
    pub phone_number: String,
    pub country: String,
    #[serde(rename = "type")]
    pub number_type: &'static str,
    pub classification: &'static str,
    pub available_after: Option<String>,
    pub capabilities: Vec<&'static str>,
}

impl DedicatedNumber {
    pub fn render(n: &Number) -> Self {
        DedicatedNumber {
            id: n.id.to_string(),
            phone_number: n.e164.as_str().to_string(),
            country: n.country.clone(),
            number_type: type_name(n.number_type),
            classification: n.classification.as_str(),
            available_after: n
                .available_after
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)),
            capabilities: service_type_names(n.capabilities),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Assignment {
    pub id: String,
    pub number_id: String,
    pub label: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

impl Assignment {
    /// The assignment of a number the caller holds.
    pub fn render(n: &Number) -> Self {
        Assignment {
            id: n.assignment_id.map(|id| id.to_string()).unwrap_or_default(),
            number_id: n.id.to_string(),
            label: n.assignment.label.as_ref().map(|l| l.as_str().to_string()),
            metadata: n.assignment.metadata.pairs().clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AssignedNumber {
    pub assignment: Assignment,
    pub number: DedicatedNumber,
}

#[derive(Debug, Serialize)]
pub struct Pagination {
    /// How many results this page holds.
    pub page_size: usize,
    /// Pass back as `token` for the next page; null on the last page.
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    pub pagination: Pagination,
}

impl<T> ListResponse<T> {
    pub fn from_page(page: Page<Number>, render: impl Fn(&Number) -> T) -> Self {
        let data: Vec<T> = page.items.iter().map(render).collect();
        ListResponse {
            pagination: Pagination {
                page_size: data.len(),
                next_token: page.next_page_token,
            },
            data,
        }
    }
}
