//! The JSON shapes of the native API. Field names are snake_case; absent optional values are
//! `null`, so clients can rely on every key being present.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use numbers_core::account::{Account, ApiKey, IssuedKey, KeyOwner, Principal};
use numbers_core::event::Event;
use numbers_core::number::{Number, NumberState};
use numbers_core::order::{ItemOutcome, Order, OrderRequest};
use numbers_core::reservation::Reservation;
use numbers_core::search::{PatternPosition, SearchQuery};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn opt_ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(ts)
}

/// A list page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListView<T: ToSchema> {
    pub data: Vec<T>,
    /// Pass as `page_token` to get the next page; `null` on the last page.
    pub next_page_token: Option<String>,
}

impl<T: ToSchema> ListView<T> {
    /// A page of domain values rendered one by one.
    pub fn from_page<U>(page: &numbers_core::page::Page<U>, render: impl FnMut(&U) -> T) -> Self {
        ListView {
            data: page.items.iter().map(render).collect(),
            next_page_token: page.next_page_token.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NanpView {
    pub npa: String,
    pub nxx: String,
    pub npa_nxx: String,
    pub npa_nxx_x: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationView {
    pub rate_center: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub lata: Option<String>,
    pub zip: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceView {
    /// Decimal string, e.g. "1.00".
    pub setup: String,
    pub monthly: String,
    pub currency: String,
}

/// A telephone number.
#[derive(Debug, Serialize, ToSchema)]
pub struct NumberView {
    /// Stable id (MessageMedia's number id).
    pub id: String,
    pub e164: String,
    pub country: String,
    /// MOBILE, LOCAL, TOLL_FREE or SHORT_CODE.
    #[serde(rename = "type")]
    pub number_type: String,
    pub capabilities: Vec<String>,
    /// GOLD, SILVER or BRONZE.
    pub classification: String,
    /// AVAILABLE, RESERVED, ASSIGNED or AGING, as seen by the caller.
    pub state: String,
    /// Earliest time the number can be taken by anyone; null while held.
    pub available_after: Option<String>,
    pub nanp: Option<NanpView>,
    pub location: LocationView,
    pub price: Option<PriceView>,
    pub tier: Option<i32>,
    pub vendor_id: Option<String>,
    pub vendor_name: Option<String>,
    pub protected: bool,
    /// Owner-only fields below: null unless the caller holds the number.
    pub account_id: Option<String>,
    pub assigned_at: Option<String>,
    pub reservation_id: Option<String>,
    pub reserved_until: Option<String>,
    pub label: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub display_name: Option<String>,
    pub callback_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub sms_configuration: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub voice_configuration: Option<Value>,
    /// Increases with every change of the number.
    pub version: i64,
}

impl NumberView {
    pub fn render(n: &Number, viewer: Principal, now: DateTime<Utc>) -> Self {
        let is_holder = match viewer {
            Principal::Operator => true,
            Principal::Account(me) => n.owner == Some(me),
        };
        // Another account's expired reservation or finished aging reads as what it now is.
        let state = if !is_holder && n.is_publicly_available(now) {
            NumberState::Available
        } else {
            n.state
        };
        let a = &n.assignment;
        NumberView {
            id: n.id.to_string(),
            e164: n.e164.to_string(),
            country: n.country.clone(),
            number_type: n.number_type.as_str().into(),
            capabilities: n
                .capabilities
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
            classification: n.classification.as_str().into(),
            state: state.as_str().into(),
            available_after: opt_ts(n.available_after),
            nanp: n.nanp().map(|f| NanpView {
                npa: f.npa,
                nxx: f.nxx,
                npa_nxx: f.npa_nxx,
                npa_nxx_x: f.npa_nxx_x,
            }),
            location: LocationView {
                rate_center: n.location.rate_center.clone(),
                state: n.location.state.clone(),
                city: n.location.city.clone(),
                lata: n.location.lata.clone(),
                zip: n.location.zip.clone(),
            },
            price: n.price.as_ref().map(|p| PriceView {
                setup: p.setup_decimal(),
                monthly: p.monthly_decimal(),
                currency: p.currency.clone(),
            }),
            tier: n.tier,
            vendor_id: n.vendor_id.clone(),
            vendor_name: n.vendor_name.clone(),
            protected: n.protected,
            account_id: n.owner.filter(|_| is_holder).map(|a| a.to_string()),
            assigned_at: opt_ts(n.assigned_at).filter(|_| is_holder),
            reservation_id: n
                .reservation_id
                .filter(|_| is_holder)
                .map(|r| r.to_string()),
            reserved_until: opt_ts(n.reserved_until).filter(|_| is_holder),
            label: a
                .label
                .as_ref()
                .filter(|_| is_holder)
                .map(|l| l.as_str().to_string()),
            metadata: if is_holder {
                a.metadata.pairs().clone()
            } else {
                BTreeMap::new()
            },
            display_name: a.display_name.clone().filter(|_| is_holder),
            callback_url: a.callback_url.clone().filter(|_| is_holder),
            sms_configuration: a.sms_configuration.clone().filter(|_| is_holder),
            voice_configuration: a.voice_configuration.clone().filter(|_| is_holder),
            version: n.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReservationView {
    pub id: String,
    /// ACTIVE, RELEASED, EXPIRED or ORDERED.
    pub status: String,
    pub numbers: Vec<String>,
    pub created_at: String,
    pub expires_at: String,
}

impl ReservationView {
    pub fn render(r: &Reservation, now: DateTime<Utc>) -> Self {
        ReservationView {
            id: r.id.to_string(),
            status: r.status_at(now).as_str().into(),
            numbers: r.numbers.iter().map(|n| n.to_string()).collect(),
            created_at: ts(r.created_at),
            expires_at: ts(r.expires_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FailedNumberView {
    /// The number, or null for a shortfall of a search order.
    pub e164: Option<String>,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    /// RECEIVED, PROCESSING, COMPLETE, PARTIAL, FAILED or BACKORDERED.
    pub status: String,
    /// Explicit numbers ordered (null for a search order).
    pub numbers: Option<Vec<String>>,
    /// The search criteria of a search order (null for explicit numbers).
    #[schema(value_type = Option<Object>)]
    pub search: Option<Value>,
    pub quantity: u32,
    pub partial_allowed: bool,
    pub backorder_requested: bool,
    pub reservation_ids: Vec<String>,
    pub label: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub name: Option<String>,
    pub customer_order_id: Option<String>,
    pub completed_numbers: Vec<String>,
    pub failed_numbers: Vec<FailedNumberView>,
    pub completed_quantity: u32,
    pub failed_quantity: u32,
    pub pending_quantity: u32,
    pub created_at: String,
    pub updated_at: String,
    pub completed_at: Option<String>,
    pub version: i64,
}

impl OrderView {
    pub fn render(o: &Order) -> Self {
        let (numbers, search) = match &o.new.request {
            OrderRequest::Numbers(list) => {
                (Some(list.iter().map(|n| n.to_string()).collect()), None)
            }
            OrderRequest::Search { query, .. } => (None, Some(search_to_json(query))),
        };
        OrderView {
            id: o.id().to_string(),
            status: o.status.as_str().into(),
            numbers,
            search,
            quantity: o.new.request.requested_quantity(),
            partial_allowed: o.new.partial_allowed,
            backorder_requested: o.new.backorder_requested,
            reservation_ids: o
                .new
                .reservation_ids
                .iter()
                .map(|r| r.to_string())
                .collect(),
            label: o
                .new
                .template
                .label
                .as_ref()
                .map(|l| l.as_str().to_string()),
            metadata: o.new.template.metadata.pairs().clone(),
            name: o.new.name.clone(),
            customer_order_id: o.new.customer_order_id.clone(),
            completed_numbers: o
                .completed()
                .filter_map(|i| i.e164.as_ref().map(|e| e.to_string()))
                .collect(),
            failed_numbers: o
                .items
                .iter()
                .filter_map(|i| match &i.outcome {
                    ItemOutcome::Failed { code, message } => Some(FailedNumberView {
                        e164: i.e164.as_ref().map(|e| e.to_string()),
                        code: code.clone(),
                        message: message.clone(),
                    }),
                    ItemOutcome::Completed => None,
                })
                .collect(),
            completed_quantity: o.completed_count(),
            failed_quantity: o.failed_count(),
            pending_quantity: o.pending_count(),
            created_at: ts(o.new.created_at),
            updated_at: ts(o.updated_at),
            completed_at: opt_ts(o.completed_at),
            version: o.version,
        }
    }
}

/// A search query in the same field names the search endpoint takes.
pub fn search_to_json(q: &SearchQuery) -> Value {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k.into(), Value::String(v));
        }
    };
    put("country", q.country.clone());
    if let Some(p) = &q.pattern {
        let digits = if p.international {
            format!("+{}", p.digits)
        } else {
            p.digits.clone()
        };
        let key = match p.position {
            PatternPosition::StartsWith => "starts_with",
            PatternPosition::Contains => "contains",
            PatternPosition::EndsWith => "ends_with",
        };
        put(key, Some(digits));
    }
    if let Some(prefix) = &q.nanp_prefix {
        let key = match prefix.len() {
            3 => "npa",
            6 => "npa_nxx",
            _ => "npa_nxx_x",
        };
        put(key, Some(prefix.clone()));
    }
    put(
        "toll_free_pattern",
        q.toll_free_pattern.as_ref().map(|t| t.as_str().to_string()),
    );
    put("rate_center", q.rate_center.clone());
    put("state", q.state.clone());
    put("city", q.city.clone());
    put("zip", q.zip.clone());
    put("lata", q.lata.clone());
    put(
        "classification",
        q.classification.map(|c| c.as_str().to_string()),
    );
    if !q.types.is_empty() {
        m.insert(
            "type".into(),
            Value::from(q.types.iter().map(|t| t.as_str()).collect::<Vec<_>>()),
        );
    }
    if !q.capabilities.set.is_empty() {
        m.insert(
            "capabilities".into(),
            Value::from(
                q.capabilities
                    .set
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>(),
            ),
        );
    }
    Value::Object(m)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// Position in the log; pass as `after` to read on.
    pub seq: i64,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: String,
    pub account_id: Option<String>,
    pub number_id: Option<String>,
    pub e164: Option<String>,
    pub order_id: Option<String>,
    pub reservation_id: Option<String>,
    pub resource_version: i64,
    /// What changed, by event type; `{}` when the event has no details.
    #[schema(value_type = Object)]
    pub details: Value,
}

impl EventView {
    pub fn render(e: &Event) -> Self {
        let ev = &e.event;
        EventView {
            seq: e.seq,
            id: ev.id.to_string(),
            kind: ev.kind.as_str().into(),
            occurred_at: ts(ev.at),
            account_id: ev.account_id.map(|a| a.to_string()),
            number_id: ev.number_id.map(|n| n.to_string()),
            e164: ev.e164.as_ref().map(|e| e.to_string()),
            order_id: ev.order_id.map(|o| o.to_string()),
            reservation_id: ev.reservation_id.map(|r| r.to_string()),
            resource_version: ev.resource_version,
            details: ev.details_object(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub status: String,
    pub created_at: String,
}

impl AccountView {
    pub fn render(a: &Account) -> Self {
        AccountView {
            id: a.id.to_string(),
            name: a.name.clone(),
            status: a.status.as_str().into(),
            created_at: ts(a.created_at),
        }
    }
}

/// A key as stored: never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyView {
    pub key_id: String,
    pub account_id: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl KeyView {
    pub fn render(k: &ApiKey) -> Self {
        KeyView {
            key_id: k.key_id.clone(),
            account_id: match k.owner {
                KeyOwner::Account(a) => Some(a.to_string()),
                KeyOwner::Operator => None,
            },
            created_at: ts(k.created_at),
            revoked_at: opt_ts(k.revoked_at),
        }
    }
}

/// A key at creation: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedKeyView {
    pub key_id: String,
    pub secret: String,
}

impl IssuedKeyView {
    pub fn render(k: &IssuedKey) -> Self {
        IssuedKeyView {
            key_id: k.key_id.clone(),
            secret: k.secret.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAccountView {
    pub account: AccountView,
    pub key: IssuedKeyView,
}
