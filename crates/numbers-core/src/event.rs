//! Every state change appends one event in the same transaction as the change: the audit history
//! of a number and of an account, and the outbox that webhook delivery reads.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::ids::{AccountId, EventId, NumberId, OrderId, ReservationId};
use crate::number::E164;

/// What happened. The string forms are the public event type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "number.imported")]
    NumberImported,
    #[serde(rename = "number.reserved")]
    NumberReserved,
    #[serde(rename = "number.reservation_released")]
    NumberReservationReleased,
    #[serde(rename = "number.reservation_expired")]
    NumberReservationExpired,
    #[serde(rename = "number.assigned")]
    NumberAssigned,
    #[serde(rename = "number.updated")]
    NumberUpdated,
    #[serde(rename = "number.released")]
    NumberReleased,
    #[serde(rename = "number.available")]
    NumberAvailable,
    /// A configuration change was scheduled (provisioning task WAITING).
    #[serde(rename = "number.provisioning_requested")]
    NumberProvisioningRequested,
    /// The operator's systems applied it; the assignment data now holds it.
    #[serde(rename = "number.provisioned")]
    NumberProvisioned,
    #[serde(rename = "number.provisioning_failed")]
    NumberProvisioningFailed,
    #[serde(rename = "order.received")]
    OrderReceived,
    #[serde(rename = "order.processing")]
    OrderProcessing,
    #[serde(rename = "order.completed")]
    OrderCompleted,
    #[serde(rename = "order.partial")]
    OrderPartial,
    #[serde(rename = "order.failed")]
    OrderFailed,
    #[serde(rename = "order.backordered")]
    OrderBackordered,
    #[serde(rename = "order.closed")]
    OrderClosed,
    #[serde(rename = "number_order.created")]
    NumberOrderCreated,
    #[serde(rename = "number_order.in_review")]
    NumberOrderInReview,
    #[serde(rename = "number_order.completed")]
    NumberOrderCompleted,
    #[serde(rename = "number_order.rejected")]
    NumberOrderRejected,
    #[serde(rename = "number_order.blocked")]
    NumberOrderBlocked,
    #[serde(rename = "number_order.expired")]
    NumberOrderExpired,
    #[serde(rename = "order.note_added")]
    OrderNoteAdded,
    #[serde(rename = "disconnect.received")]
    DisconnectReceived,
    #[serde(rename = "disconnect.completed")]
    DisconnectCompleted,
    #[serde(rename = "disconnect.partial")]
    DisconnectPartial,
    #[serde(rename = "disconnect.failed")]
    DisconnectFailed,
}

impl EventKind {
    pub const ALL: &'static [EventKind] = &[
        EventKind::NumberImported,
        EventKind::NumberReserved,
        EventKind::NumberReservationReleased,
        EventKind::NumberReservationExpired,
        EventKind::NumberAssigned,
        EventKind::NumberUpdated,
        EventKind::NumberReleased,
        EventKind::NumberAvailable,
        EventKind::NumberProvisioningRequested,
        EventKind::NumberProvisioned,
        EventKind::NumberProvisioningFailed,
        EventKind::OrderReceived,
        EventKind::OrderProcessing,
        EventKind::OrderCompleted,
        EventKind::OrderPartial,
        EventKind::OrderFailed,
        EventKind::OrderBackordered,
        EventKind::OrderClosed,
        EventKind::NumberOrderCreated,
        EventKind::NumberOrderInReview,
        EventKind::NumberOrderCompleted,
        EventKind::NumberOrderRejected,
        EventKind::NumberOrderBlocked,
        EventKind::NumberOrderExpired,
        EventKind::OrderNoteAdded,
        EventKind::DisconnectReceived,
        EventKind::DisconnectCompleted,
        EventKind::DisconnectPartial,
        EventKind::DisconnectFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::NumberImported => "number.imported",
            EventKind::NumberReserved => "number.reserved",
            EventKind::NumberReservationReleased => "number.reservation_released",
            EventKind::NumberReservationExpired => "number.reservation_expired",
            EventKind::NumberAssigned => "number.assigned",
            EventKind::NumberUpdated => "number.updated",
            EventKind::NumberReleased => "number.released",
            EventKind::NumberAvailable => "number.available",
            EventKind::NumberProvisioningRequested => "number.provisioning_requested",
            EventKind::NumberProvisioned => "number.provisioned",
            EventKind::NumberProvisioningFailed => "number.provisioning_failed",
            EventKind::OrderReceived => "order.received",
            EventKind::OrderProcessing => "order.processing",
            EventKind::OrderCompleted => "order.completed",
            EventKind::OrderPartial => "order.partial",
            EventKind::OrderFailed => "order.failed",
            EventKind::OrderBackordered => "order.backordered",
            EventKind::OrderClosed => "order.closed",
            EventKind::NumberOrderCreated => "number_order.created",
            EventKind::NumberOrderInReview => "number_order.in_review",
            EventKind::NumberOrderCompleted => "number_order.completed",
            EventKind::NumberOrderRejected => "number_order.rejected",
            EventKind::NumberOrderBlocked => "number_order.blocked",
            EventKind::NumberOrderExpired => "number_order.expired",
            EventKind::OrderNoteAdded => "order.note_added",
            EventKind::DisconnectReceived => "disconnect.received",
            EventKind::DisconnectCompleted => "disconnect.completed",
            EventKind::DisconnectPartial => "disconnect.partial",
            EventKind::DisconnectFailed => "disconnect.failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

/// An event about to be appended (the store assigns `seq`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub id: EventId,
    pub kind: EventKind,
    pub at: Timestamp,
    pub account_id: Option<AccountId>,
    pub number_id: Option<NumberId>,
    pub e164: Option<E164>,
    pub order_id: Option<OrderId>,
    pub reservation_id: Option<ReservationId>,
    /// The version of the resource after the change, so receivers can drop stale events.
    pub resource_version: i64,
    pub details: serde_json::Value,
}

impl NewEvent {
    /// The details as the APIs show them (`/v1/events` `details`, the webhook payload's `data`):
    /// always an object, `{}` for an event without details (stored as JSON null), so clients
    /// and the OpenAPI document can count on an object.
    pub fn details_object(&self) -> serde_json::Value {
        match &self.details {
            serde_json::Value::Object(_) => self.details.clone(),
            serde_json::Value::Null => serde_json::Value::Object(serde_json::Map::new()),
            other => serde_json::json!({ "value": other }),
        }
    }

    pub fn new(kind: EventKind, at: Timestamp) -> Self {
        NewEvent {
            id: EventId::new(),
            kind,
            at,
            account_id: None,
            number_id: None,
            e164: None,
            order_id: None,
            reservation_id: None,
            resource_version: 0,
            details: serde_json::Value::Null,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log: strictly increasing, the order of commit within one database.
    pub seq: i64,
    #[serde(flatten)]
    pub event: NewEvent,
}
