//! MessageMedia's JSON shapes: `DedicatedNumber`, `Assignment`, `AssignedNumber` and the
//! token-paginated list envelope, shaped as MessageMedia's published schema types them (typed
//! clients generated from it refuse anything else). Numbers are shown by their stable id;
//! `phone_number` is E.164 with its `+`; `available_after` is always a date-time (see
//! `available_after`); `next_token` is a UUID standing for the core's keyset token.

use std::collections::BTreeMap;

use chrono::SecondsFormat;
use numbers_core::clock::Timestamp;
use numbers_core::number::{Number, NumberState};
use numbers_core::page::{Page, uuid_token};
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
    pub available_after: String,
    pub capabilities: Vec<&'static str>,
}

/// "Earliest time this number can be assigned", a date-time in the schema, never null. On
/// offer or aging, the core's `available_after`. Held numbers have none in the core (the end of
/// an assignment is unknown), so: an assigned number shows when its assignment began (it could
/// be assigned then, and MessageMedia too shows a past instant on assigned numbers); a reserved
/// one shows when the reservation lapses, the earliest instant it can return to offer.
fn available_after(n: &Number) -> Timestamp {
    n.available_after
        .or(match n.state {
            NumberState::Assigned => n.assigned_at,
            NumberState::Reserved => n.reserved_until,
            _ => None,
        })
        .unwrap_or(n.updated_at)
}

impl DedicatedNumber {
    pub fn render(n: &Number) -> Self {
        DedicatedNumber {
            id: n.id.to_string(),
            phone_number: n.e164.as_str().to_string(),
            country: n.country.clone(),
            number_type: type_name(n.number_type),
            classification: n.classification.as_str(),
            available_after: available_after(n).to_rfc3339_opts(SecondsFormat::Millis, true),
            capabilities: service_type_names(n.capabilities),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Assignment {
    pub id: String,
    pub number_id: String,
    /// Omitted when unset: the schema types it as a string, and the vendor's own create answer
    /// (the guide) shows no label.
    #[serde(skip_serializing_if = "Option::is_none")]
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
    /// Pass back as `token` for the next page; omitted on the last page (the schema: "Omit or
    /// null", and a null is no `string` to a typed client). A UUID, as the schema types it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The UUID form of the core's token (`numbers_core::page::uuid_token`). Number listings key on
/// E.164 numbers, which always fit; were one not to, ending the listing beats a token a typed
/// client cannot parse.
fn next_token(token: Option<String>) -> Option<String> {
    token.as_deref().and_then(uuid_token)
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
                next_token: next_token(page.next_page_token),
            },
            data,
        }
    }
}
