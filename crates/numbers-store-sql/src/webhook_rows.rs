//! Rows of the webhook tables as plain values, and their mapping to the domain's `Subscription`
//! and `Delivery` and back, so both stores read and write them the same way (they only differ in
//! how they bind and fetch the values). The secret columns (`sealed_fields`) are sealed on the way
//! into a row and opened on the way out: a row never holds a secret in clear.

use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::EventKind;
use numbers_core::sealing::SecretBox;
use numbers_core::webhook::{
    Delivery, DeliveryStatus, EventTypes, Rendered, Subscription, WebhookUrl,
};

use crate::sealed_fields::{
    DELIVERY_FORMAT_CONFIG, DELIVERY_SIGNING_SECRET, SUBSCRIPTION_FORMAT_CONFIG,
    SUBSCRIPTION_PREVIOUS_SECRET, SUBSCRIPTION_SECRET,
};

pub const SUBSCRIPTION_COLUMNS: &str = "id, account_id, url, format, format_config, event_types, active, secret, \
     previous_secret, previous_secret_expires_at, disabled_reason, created_at, updated_at, version";

pub const DELIVERY_COLUMNS: &str = "id, dedupe_key, subscription_id, account_id, event_seq, event_id, event_type, url, \
     target_key, format, format_config, signing_secret, content_type, headers, body, status, attempts, \
     next_attempt_at, lease_until, last_status_code, last_error, created_at, updated_at, completed_at";

fn uuid<T: std::str::FromStr>(what: &str, s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| Error::internal(format!("stored {what} '{s}' is not a UUID")))
}

fn json(what: &str, s: &str) -> Result<serde_json::Value> {
    serde_json::from_str(s)
        .map_err(|e| Error::internal(format!("stored {what} is not valid JSON: {e}")))
}

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::internal(format!("cannot encode JSON: {e}")))
}

/// One `webhook_subscriptions` row, columns in `SUBSCRIPTION_COLUMNS` order.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRow {
    pub id: String,
    pub account_id: String,
    pub url: String,
    pub format: String,
    pub format_config: String,
    pub event_types: String,
    pub active: bool,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub disabled_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

impl SubscriptionRow {
    pub fn from_subscription(s: &Subscription, secrets: &SecretBox) -> Result<Self> {
        Ok(SubscriptionRow {
            id: s.id.to_string(),
            account_id: s.account.to_string(),
            url: s.url.as_str().to_string(),
            format: s.format.clone(),
            format_config: secrets.seal(
                &to_json(&s.format_config)?,
                SUBSCRIPTION_FORMAT_CONFIG.purpose,
            )?,
            event_types: to_json(&s.events.names())?,
            active: s.active,
            secret: secrets.seal(&s.secret, SUBSCRIPTION_SECRET.purpose)?,
            previous_secret: secrets.seal_opt(
                s.previous_secret.as_deref(),
                SUBSCRIPTION_PREVIOUS_SECRET.purpose,
            )?,
            previous_secret_expires_at: s.previous_secret_expires_at.map(to_millis),
            disabled_reason: s.disabled_reason.clone(),
            created_at: to_millis(s.created_at),
            updated_at: to_millis(s.updated_at),
            version: s.version,
        })
    }

    pub fn into_subscription(self, secrets: &SecretBox) -> Result<Subscription> {
        let names: Vec<String> = serde_json::from_str(&self.event_types)
            .map_err(|e| Error::internal(format!("stored event types: {e}")))?;
        Ok(Subscription {
            id: uuid("webhook id", &self.id)?,
            account: uuid("webhook account", &self.account_id)?,
            url: WebhookUrl::from_stored(&self.url),
            format: self.format,
            format_config: json(
                "format_config",
                &secrets.open(&self.format_config, SUBSCRIPTION_FORMAT_CONFIG.purpose)?,
            )?,
            events: EventTypes::parse(names.iter().map(String::as_str), "event_types")
                .map_err(|e| Error::internal(format!("stored event types: {e}")))?,
            active: self.active,
            secret: secrets.open(&self.secret, SUBSCRIPTION_SECRET.purpose)?,
            previous_secret: secrets.open_opt(
                self.previous_secret.as_deref(),
                SUBSCRIPTION_PREVIOUS_SECRET.purpose,
            )?,
            previous_secret_expires_at: self.previous_secret_expires_at.map(from_millis),
            disabled_reason: self.disabled_reason,
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
            version: self.version,
        })
    }
}

/// One `webhook_deliveries` row, columns in `DELIVERY_COLUMNS` order.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    pub id: String,
    pub dedupe_key: String,
    pub subscription_id: Option<String>,
    pub account_id: Option<String>,
    pub event_seq: i64,
    pub event_id: String,
    pub event_type: String,
    pub url: String,
    pub target_key: String,
    pub format: String,
    pub format_config: String,
    pub signing_secret: Option<String>,
    pub content_type: String,
    pub headers: String,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub lease_until: Option<i64>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
}

impl DeliveryRow {
    pub fn from_delivery(d: &Delivery, secrets: &SecretBox) -> Result<Self> {
        Ok(DeliveryRow {
            id: d.id.to_string(),
            dedupe_key: d.dedupe_key.clone(),
            subscription_id: d.subscription.map(|s| s.to_string()),
            account_id: d.account.map(|a| a.to_string()),
            event_seq: d.event_seq,
            event_id: d.event_id.to_string(),
            event_type: d.event_type.as_str().to_string(),
            url: d.url.clone(),
            target_key: d.target_key.clone(),
            format: d.format.clone(),
            format_config: secrets
                .seal(&to_json(&d.format_config)?, DELIVERY_FORMAT_CONFIG.purpose)?,
            signing_secret: secrets
                .seal_opt(d.signing_secret.as_deref(), DELIVERY_SIGNING_SECRET.purpose)?,
            content_type: d.request.content_type.clone(),
            headers: to_json(&d.request.headers)?,
            body: d.request.body.clone(),
            status: d.status.as_str().to_string(),
            attempts: i64::from(d.attempts),
            next_attempt_at: to_millis(d.next_attempt_at),
            lease_until: None,
            last_status_code: d.last_status_code.map(i64::from),
            last_error: d.last_error.clone(),
            created_at: to_millis(d.created_at),
            updated_at: to_millis(d.updated_at),
            completed_at: d.completed_at.map(to_millis),
        })
    }

    pub fn into_delivery(self, secrets: &SecretBox) -> Result<Delivery> {
        let headers: Vec<(String, String)> = serde_json::from_str(&self.headers)
            .map_err(|e| Error::internal(format!("stored delivery headers: {e}")))?;
        Ok(Delivery {
            id: uuid("delivery id", &self.id)?,
            dedupe_key: self.dedupe_key,
            subscription: self
                .subscription_id
                .as_deref()
                .map(|s| uuid("delivery webhook", s))
                .transpose()?,
            account: self
                .account_id
                .as_deref()
                .map(|s| uuid("delivery account", s))
                .transpose()?,
            event_seq: self.event_seq,
            event_id: uuid("delivery event", &self.event_id)?,
            event_type: EventKind::parse(&self.event_type).ok_or_else(|| {
                Error::internal(format!(
                    "stored event type '{}' is unknown",
                    self.event_type
                ))
            })?,
            url: self.url,
            target_key: self.target_key,
            format: self.format,
            format_config: json(
                "delivery format_config",
                &secrets.open(&self.format_config, DELIVERY_FORMAT_CONFIG.purpose)?,
            )?,
            signing_secret: secrets.open_opt(
                self.signing_secret.as_deref(),
                DELIVERY_SIGNING_SECRET.purpose,
            )?,
            request: Rendered {
                content_type: self.content_type,
                headers,
                body: self.body,
            },
            status: DeliveryStatus::parse(&self.status).ok_or_else(|| {
                Error::internal(format!(
                    "stored delivery status '{}' is unknown",
                    self.status
                ))
            })?,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            next_attempt_at: from_millis(self.next_attempt_at),
            last_status_code: self.last_status_code.and_then(|c| u16::try_from(c).ok()),
            last_error: self.last_error,
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
            completed_at: self.completed_at.map(from_millis),
        })
    }
}

/// The columns `record_attempt` writes for a result: (status, next_attempt_at, completed_at).
pub fn attempt_result_columns(
    result: numbers_core::webhook::AttemptResult,
    at: Timestamp,
) -> (&'static str, Option<i64>, Option<i64>) {
    use numbers_core::webhook::AttemptResult;
    match result {
        AttemptResult::Succeeded => ("SUCCEEDED", None, Some(to_millis(at))),
        AttemptResult::Retry { next_attempt_at } => {
            ("PENDING", Some(to_millis(next_attempt_at)), None)
        }
        AttemptResult::GaveUp | AttemptResult::Gone => ("FAILED", None, Some(to_millis(at))),
    }
}

/// The reason a subscription is switched off after a 410 Gone.
pub const GONE_REASON: &str = "the receiver answered 410 Gone";
