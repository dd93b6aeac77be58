//! The native webhook format ("native"): what a receiver gets for each event — a JSON document
//! with a stable `event_id`, the `type`, `occurred_at`, `account_id`, the log position `seq`, the
//! `resource` the event is about with its version after the change (receivers drop an event whose
//! version is not newer than one they have seen; ordering is not promised), and the event's
//! `data` — signed per attempt with `Numbersd-Timestamp` and `Numbersd-Signature`
//! (see `numbers_core::webhook::signature`).

use numbers_core::clock::Timestamp;
use numbers_core::error::{Error, Result};
use numbers_core::event::Event;
use numbers_core::webhook::signature::{
    EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header,
};
use numbers_core::webhook::{RenderTarget, Rendered, Renderer};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::views::ts;

pub const FORMAT: &str = "native";

/// The resource an event is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceRef {
    /// `number`, `order`, `reservation` or `inventory`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: Option<String>,
    pub e164: Option<String>,
    /// The resource's version right after this change.
    pub version: i64,
}

/// The body of a native webhook request.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPayload {
    /// Stable across retries, redeliveries and replays: de-duplicate on it.
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: String,
    pub account_id: Option<String>,
    /// The event's position in the log (`GET /v1/events?after=`).
    pub seq: i64,
    pub resource: ResourceRef,
    pub number_id: Option<String>,
    pub e164: Option<String>,
    pub order_id: Option<String>,
    pub reservation_id: Option<String>,
    /// The event's details; `{}` when it has none.
    #[schema(value_type = Object)]
    pub data: Value,
}

impl WebhookPayload {
    pub fn render(event: &Event) -> Self {
        let e = &event.event;
        let (kind, id) = if let Some(n) = e.number_id {
            ("number", Some(n.to_string()))
        } else if let Some(o) = e.order_id {
            ("order", Some(o.to_string()))
        } else if let Some(r) = e.reservation_id {
            ("reservation", Some(r.to_string()))
        } else {
            ("inventory", None)
        };
        WebhookPayload {
            event_id: e.id.to_string(),
            kind: e.kind.as_str().to_string(),
            occurred_at: ts(e.at),
            account_id: e.account_id.map(|a| a.to_string()),
            seq: event.seq,
            resource: ResourceRef {
                kind,
                id,
                e164: e.e164.as_ref().map(|n| n.to_string()),
                version: e.resource_version,
            },
            number_id: e.number_id.map(|n| n.to_string()),
            e164: e.e164.as_ref().map(|n| n.to_string()),
            order_id: e.order_id.map(|o| o.to_string()),
            reservation_id: e.reservation_id.map(|r| r.to_string()),
            data: e.details_object(),
        }
    }
}

pub struct NativeRenderer;

impl Renderer for NativeRenderer {
    fn format(&self) -> &'static str {
        FORMAT
    }

    fn check_config(&self, config: &Value) -> Result<Value> {
        match config {
            Value::Null => Ok(Value::Object(Default::default())),
            Value::Object(map) if map.is_empty() => Ok(config.clone()),
            _ => Err(Error::invalid(
                "format_config",
                "the native format takes no configuration; send {} or leave it out",
            )),
        }
    }

    fn render(&self, event: &Event, _target: &RenderTarget<'_>) -> Result<Option<Rendered>> {
        let body = serde_json::to_string(&WebhookPayload::render(event))
            .map_err(|e| Error::internal(format!("cannot encode webhook payload: {e}")))?;
        Ok(Some(Rendered {
            content_type: "application/json".into(),
            headers: vec![(EVENT_ID_HEADER.into(), event.event.id.to_string())],
            body,
        }))
    }

    fn sign(
        &self,
        body: &str,
        secrets: &[String],
        _config: &Value,
        at: Timestamp,
    ) -> Vec<(String, String)> {
        let timestamp = at.timestamp();
        vec![
            (TIMESTAMP_HEADER.into(), timestamp.to_string()),
            (
                SIGNATURE_HEADER.into(),
                signature_header(secrets, timestamp, body.as_bytes()),
            ),
        ]
    }
}
