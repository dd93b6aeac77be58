//! The "bandwidth" webhook format: Bandwidth's `<Notification>` callbacks, rendered by the one
//! webhook engine for subscriptions created through `/accounts/{id}/subscriptions`. This module
//! owns the format's configuration (what a `<Subscription>` says: order type, optional order id,
//! expiry, the receiver's Basic credentials, number format), the choice of events it reports
//! (orders reaching COMPLETE / PARTIAL / BACKORDERED / FAILED, disconnects reaching COMPLETE /
//! PARTIAL / FAILED), and the document itself. Everything it needs is in the event: the stores
//! put the completed numbers and the customer's order id in the outcome events' details.
//! Bandwidth sends the credentials only when challenged; the engine's transport does that from
//! `challenge_credentials`, so there is no delivery code here.

use numbers_core::clock::Timestamp;
use numbers_core::error::{Error, Result};
use numbers_core::event::{Event, EventKind};
use numbers_core::number::E164;
use numbers_core::webhook::signature::EVENT_ID_HEADER;
use numbers_core::webhook::worker::BasicCredentials;
use numbers_core::webhook::{RenderTarget, Rendered, Renderer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::xml::El;
use super::{time, tn};

pub const FORMAT: &str = "bandwidth";
/// Bandwidth's default lifetime of a subscription, in seconds.
pub const DEFAULT_EXPIRY_SECONDS: i64 = 86_400;
/// About 300 years: enough for "never" (Bandwidth's own examples show 4283455101), small enough
/// that adding it to a timestamp cannot overflow.
pub const MAX_EXPIRY_SECONDS: i64 = 10_000_000_000;

/// The order types numbersd reports on (Bandwidth has more: port-ins, E911…, refused with 14500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderType {
    Orders,
    Disconnects,
}

impl OrderType {
    pub fn parse(raw: &str) -> Result<Self> {
        match raw.trim() {
            v if v.eq_ignore_ascii_case("orders") => Ok(OrderType::Orders),
            v if v.eq_ignore_ascii_case("disconnects") => Ok(OrderType::Disconnects),
            v => Err(Error::invalid(
                "OrderType",
                format!("'{v}' is not supported; use orders or disconnects"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Orders => "orders",
            OrderType::Disconnects => "disconnects",
        }
    }

    /// The core events a subscription of this type is told about.
    pub fn events(self) -> &'static [EventKind] {
        match self {
            OrderType::Orders => &[
                EventKind::OrderCompleted,
                EventKind::OrderPartial,
                EventKind::OrderBackordered,
                EventKind::OrderFailed,
            ],
            OrderType::Disconnects => &[
                EventKind::DisconnectCompleted,
                EventKind::DisconnectPartial,
                EventKind::DisconnectFailed,
            ],
        }
    }
}

/// How the completed numbers are written: 10 digits for NANP (LEGACY) or E.164.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum NumberFormat {
    #[default]
    Legacy,
    E164,
}

impl NumberFormat {
    pub fn parse(raw: Option<&str>) -> Result<Self> {
        match raw.map(str::trim) {
            None | Some("") => Ok(NumberFormat::Legacy),
            Some(v) if v.eq_ignore_ascii_case("LEGACY") => Ok(NumberFormat::Legacy),
            Some(v) if v.eq_ignore_ascii_case("E164") => Ok(NumberFormat::E164),
            Some(v) => Err(Error::invalid(
                "NumberFormat",
                format!("'{v}' is not LEGACY or E164"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NumberFormat::Legacy => "LEGACY",
            NumberFormat::E164 => "E164",
        }
    }
}

/// A bandwidth subscription's `format_config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationConfig {
    pub order_type: OrderType,
    /// Only this order (or disconnect); every one of the type when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// The lifetime as the client gave it (echoed in `<Expiry>`).
    pub expiry_seconds: i64,
    /// When it stops delivering: the create (or last update) time plus `expiry_seconds`, in
    /// epoch milliseconds.
    pub expires_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default)]
    pub number_format: NumberFormat,
}

impl NotificationConfig {
    /// From what a `<Subscription>` said, at `now` (the expiry counts from here). Errors name
    /// Bandwidth's elements.
    pub fn new(
        order_type: OrderType,
        order_id: Option<&str>,
        expiry: Option<&str>,
        credentials: Option<(Option<&str>, Option<&str>)>,
        number_format: NumberFormat,
        now: Timestamp,
    ) -> Result<Self> {
        let expiry_seconds = match expiry.map(str::trim) {
            None | Some("") => DEFAULT_EXPIRY_SECONDS,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|s| (1..=MAX_EXPIRY_SECONDS).contains(s))
                .ok_or_else(|| {
                    Error::invalid(
                        "Expiry",
                        format!(
                            "'{raw}' is not a number of seconds from 1 to {MAX_EXPIRY_SECONDS}"
                        ),
                    )
                })?,
        };
        let (username, password) = match credentials {
            None => (None, None),
            Some((user, password)) => (
                Some(user.unwrap_or_default().trim().to_string()),
                Some(password.unwrap_or_default().to_string()),
            ),
        };
        let config = NotificationConfig {
            order_type,
            order_id: order_id
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string),
            expiry_seconds,
            expires_at_ms: now.timestamp_millis() + expiry_seconds * 1000,
            username,
            password,
            number_format,
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<()> {
        match (&self.username, &self.password) {
            (None, None) => {}
            (Some(u), Some(p)) if !u.trim().is_empty() && !p.trim().is_empty() => {}
            _ => {
                return Err(Error::invalid(
                    "BasicAuthentication",
                    "Basic authentication must contain both a non-blank username and password",
                ));
            }
        }
        if !(1..=MAX_EXPIRY_SECONDS).contains(&self.expiry_seconds) {
            return Err(Error::invalid(
                "Expiry",
                format!("must be from 1 to {MAX_EXPIRY_SECONDS} seconds"),
            ));
        }
        Ok(())
    }

    pub fn from_value(config: &Value) -> Result<Self> {
        let parsed: NotificationConfig = serde_json::from_value(config.clone()).map_err(|e| {
            Error::invalid(
                "format_config",
                format!("not a bandwidth subscription configuration: {e}"),
            )
        })?;
        parsed.validate()?;
        Ok(parsed)
    }

    pub fn to_value(&self) -> Result<Value> {
        serde_json::to_value(self)
            .map_err(|e| Error::internal(format!("cannot encode a subscription config: {e}")))
    }

    /// Whether it still delivers an event that happened at `at`.
    pub fn live_at(&self, at: Timestamp) -> bool {
        at.timestamp_millis() <= self.expires_at_ms
    }
}

/// The `<Status>` and `<Message>` of an outcome event, or `None` for events this format does
/// not report. Bandwidth's wording ("OrderStatus" sentences of its error catalogue) where it has
/// one.
fn outcome(kind: EventKind) -> Option<(OrderType, &'static str, &'static str)> {
    Some(match kind {
        EventKind::OrderCompleted => (OrderType::Orders, "COMPLETE", "Order successful."),
        EventKind::OrderPartial => (
            OrderType::Orders,
            "PARTIAL",
            "Order partially succeeded. Please check error list in the response for further details.",
        ),
        EventKind::OrderBackordered => (
            OrderType::Orders,
            "BACKORDERED",
            "Order backordered - awaiting additional numbers",
        ),
        EventKind::OrderFailed => (
            OrderType::Orders,
            "FAILED",
            "Order failed. Please check error list in the response for further details.",
        ),
        EventKind::DisconnectCompleted => {
            (OrderType::Disconnects, "COMPLETE", "Disconnect successful.")
        }
        EventKind::DisconnectPartial => (
            OrderType::Disconnects,
            "PARTIAL",
            "Disconnect partially succeeded. Please check error list in the response for further details.",
        ),
        EventKind::DisconnectFailed => (
            OrderType::Disconnects,
            "FAILED",
            "Disconnect failed. Please check error list in the response for further details.",
        ),
        _ => return None,
    })
}

pub struct BandwidthRenderer;

impl Renderer for BandwidthRenderer {
    fn format(&self) -> &'static str {
        FORMAT
    }

    fn check_config(&self, config: &Value) -> Result<Value> {
        NotificationConfig::from_value(config)?.to_value()
    }

    fn render(&self, event: &Event, target: &RenderTarget<'_>) -> Result<Option<Rendered>> {
        let config = NotificationConfig::from_value(target.format_config)?;
        let e = &event.event;
        let Some((order_type, status, message)) = outcome(e.kind) else {
            return Ok(None);
        };
        let order_id = match order_type {
            OrderType::Orders => e.order_id.map(|o| o.to_string()),
            OrderType::Disconnects => e.details["disconnect_id"].as_str().map(str::to_string),
        };
        let Some(order_id) = order_id else {
            return Ok(None);
        };
        let wanted = order_type == config.order_type
            && config
                .order_id
                .as_deref()
                .is_none_or(|only| only.eq_ignore_ascii_case(&order_id))
            && config.live_at(e.at);
        if !wanted {
            return Ok(None);
        }
        let numbers: Vec<El> = e.details["numbers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|n| E164::parse(n).ok())
            .map(|n| {
                let written = match config.number_format {
                    NumberFormat::Legacy => tn(&n),
                    NumberFormat::E164 => n.as_str().to_string(),
                };
                El::leaf("TelephoneNumber", written)
            })
            .collect();
        let mut root = El::new("Notification")
            .opt("SubscriptionId", target.subscription)
            .leaf_child("OrderType", order_type.as_str())
            .leaf_child("OrderId", &order_id)
            .opt("CustomerOrderId", e.details["customer_order_id"].as_str())
            .leaf_child("Status", status)
            .leaf_child("Message", message);
        if !numbers.is_empty() {
            root.push(El::new("CompletedTelephoneNumbers").children(numbers));
        }
        let root = root.leaf_child("LastModifiedDate", time(e.at));
        Ok(Some(Rendered {
            content_type: "application/xml; charset=utf-8".into(),
            // Not Bandwidth's: our deliveries are at least once, and this is what to de-duplicate on.
            headers: vec![(EVENT_ID_HEADER.into(), e.id.to_string())],
            body: root.document(),
        }))
    }

    fn challenge_credentials(&self, config: &Value) -> Option<BasicCredentials> {
        let config = NotificationConfig::from_value(config).ok()?;
        Some(BasicCredentials {
            username: config.username?,
            password: config.password?,
        })
    }

    /// Bandwidth signs nothing; its only authentication is the Basic challenge above.
    fn sign(
        &self,
        _body: &str,
        _secrets: &[String],
        _config: &Value,
        _at: Timestamp,
    ) -> Vec<(String, String)> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use numbers_core::event::NewEvent;
    use numbers_core::ids::{OrderId, SubscriptionId};
    use numbers_core::webhook::WebhookUrl;

    fn at(s: i64) -> Timestamp {
        Utc.timestamp_opt(1_767_225_600 + s, 0).unwrap()
    }

    fn config(order_type: OrderType, format: NumberFormat) -> Value {
        NotificationConfig::new(order_type, None, Some("60"), None, format, at(0))
            .unwrap()
            .to_value()
            .unwrap()
    }

    fn order_event(kind: EventKind, when: Timestamp) -> Event {
        let mut e = NewEvent::new(kind, when);
        e.order_id = Some(OrderId::new());
        e.details = serde_json::json!({
            "completed": 2, "failed": 0,
            "numbers": ["+19195551212", "+442071838750"],
            "customer_order_id": "c-1",
        });
        Event { seq: 1, event: e }
    }

    fn render(config: &Value, event: &Event) -> Option<Rendered> {
        let url = WebhookUrl::parse("https://hooks.example.com/bw", "url").unwrap();
        BandwidthRenderer
            .render(
                event,
                &RenderTarget {
                    url: &url,
                    format_config: config,
                    subscription: Some(SubscriptionId::new()),
                },
            )
            .unwrap()
    }

    #[test]
    fn renders_order_outcomes_in_either_number_format() {
        let event = order_event(EventKind::OrderCompleted, at(1));
        let legacy = render(&config(OrderType::Orders, NumberFormat::Legacy), &event).unwrap();
        assert_eq!(legacy.content_type, "application/xml; charset=utf-8");
        assert!(legacy.body.contains("<Status>COMPLETE</Status>"));
        assert!(legacy.body.contains("<Message>Order successful.</Message>"));
        assert!(
            legacy
                .body
                .contains("<CustomerOrderId>c-1</CustomerOrderId>")
        );
        assert!(
            legacy
                .body
                .contains("<TelephoneNumber>9195551212</TelephoneNumber>")
        );
        let e164 = render(&config(OrderType::Orders, NumberFormat::E164), &event).unwrap();
        assert!(
            e164.body
                .contains("<TelephoneNumber>+19195551212</TelephoneNumber>")
        );
    }

    #[test]
    fn skips_other_types_other_orders_and_expired_subscriptions() {
        let orders = config(OrderType::Orders, NumberFormat::Legacy);
        assert!(render(&orders, &order_event(EventKind::OrderReceived, at(1))).is_none());
        assert!(
            render(
                &config(OrderType::Disconnects, NumberFormat::Legacy),
                &order_event(EventKind::OrderCompleted, at(1))
            )
            .is_none()
        );
        assert!(render(&orders, &order_event(EventKind::OrderFailed, at(60))).is_some());
        assert!(
            render(&orders, &order_event(EventKind::OrderFailed, at(61))).is_none(),
            "expired after 60 s"
        );
        let only = NotificationConfig::new(
            OrderType::Orders,
            Some(&OrderId::new().to_string()),
            None,
            None,
            NumberFormat::Legacy,
            at(0),
        )
        .unwrap()
        .to_value()
        .unwrap();
        assert!(render(&only, &order_event(EventKind::OrderCompleted, at(1))).is_none());
        let event = order_event(EventKind::OrderCompleted, at(1));
        let mine = serde_json::json!({
            "order_type": "orders",
            "order_id": event.event.order_id.unwrap().to_string(),
            "expiry_seconds": 60,
            "expires_at_ms": (at(0) + Duration::seconds(60)).timestamp_millis(),
        });
        assert!(render(&mine, &event).is_some());
    }

    #[test]
    fn credentials_must_be_both_non_blank() {
        let make = |u: Option<&str>, p: Option<&str>| {
            NotificationConfig::new(
                OrderType::Orders,
                None,
                None,
                Some((u, p)),
                NumberFormat::Legacy,
                at(0),
            )
        };
        assert!(make(Some("u"), Some("p")).is_ok());
        for (u, p) in [(Some(" "), Some("p")), (Some("u"), None), (None, None)] {
            match make(u, p) {
                Err(Error::Validation(f)) => assert_eq!(f[0].field, "BasicAuthentication"),
                other => panic!("{other:?}"),
            }
        }
        let c = make(Some("u"), Some("p")).unwrap().to_value().unwrap();
        let creds = BandwidthRenderer.challenge_credentials(&c).unwrap();
        assert_eq!(
            (creds.username.as_str(), creds.password.as_str()),
            ("u", "p")
        );
        assert!(
            BandwidthRenderer
                .challenge_credentials(&config(OrderType::Orders, NumberFormat::Legacy))
                .is_none()
        );
        assert!(
            BandwidthRenderer
                .check_config(&serde_json::json!({"order_type": "portins"}))
                .is_err()
        );
        assert!(
            NotificationConfig::new(
                OrderType::Orders,
                None,
                Some("0"),
                None,
                NumberFormat::Legacy,
                at(0)
            )
            .is_err()
        );
    }
}
