//! Sinch's Numbers callbacks through the webhook engine: the "sinch" `Renderer` turns the core's
//! provisioning events (`number.provisioned` / `number.provisioning_failed`) and number-order
//! state events (`number_order.in_review|completed|rejected|blocked|expired`) into Sinch's
//! `CallbackPayload` JSON and signs each attempt with `X-Sinch-Signature` (lowercase hex
//! HMAC-SHA1 of the raw body, keyed with the project's `hmacSecret`); `SinchCallbackTargets`
//! names where they go — the active number's `callbackUrl`, or the number order's — so no
//! subscription is needed. Delivery, retries and the log are the engine's; nothing here sends.

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use numbers_core::clock::Timestamp;
use numbers_core::error::{Error, Result};
use numbers_core::event::{Event, EventKind};
use numbers_core::service::Service;
use numbers_core::webhook::WebhookUrl;
use numbers_core::webhook::{RenderTarget, Rendered, Renderer, ResolvedTarget, TargetResolver};
use serde_json::{Map, Value, json};
use sha1::Sha1;

use super::views::time;

pub const FORMAT: &str = "sinch";
pub const SIGNATURE_HEADER: &str = "X-Sinch-Signature";

/// Lowercase hex HMAC-SHA1 of `body` keyed with the secret's UTF-8 bytes: what Sinch's SDK
/// validators recompute over the raw body.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sinch's `eventType` of a provisioning outcome, from the event's channel and action.
fn provisioning_event_type(details: &Value) -> Option<&'static str> {
    let channel = details.get("channel").and_then(Value::as_str)?;
    let action = details.get("action").and_then(Value::as_str)?;
    Some(match (channel, action) {
        ("SMS", "PROVISION") => "PROVISIONING_TO_SMS_PLATFORM",
        ("SMS", "DEPROVISION") => "DEPROVISIONING_FROM_SMS_PLATFORM",
        ("VOICE", "PROVISION") => "PROVISIONING_TO_VOICE_PLATFORM",
        ("VOICE", "DEPROVISION") => "DEPROVISIONING_FROM_VOICE_PLATFORM",
        _ => return None,
    })
}

/// Whether Sinch has a callback for this kind of event.
fn has_callback(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::NumberProvisioned
            | EventKind::NumberProvisioningFailed
            | EventKind::NumberOrderInReview
            | EventKind::NumberOrderCompleted
            | EventKind::NumberOrderRejected
            | EventKind::NumberOrderBlocked
            | EventKind::NumberOrderExpired
    )
}

/// The `CallbackPayload` of an event, or `None` when Sinch has no callback for it.
pub fn payload(event: &Event) -> Option<Value> {
    let e = &event.event;
    if !has_callback(e.kind) {
        return None;
    }
    let project = e.account_id?;
    let mut doc = Map::new();
    doc.insert("eventId".into(), json!(e.id.to_string()));
    doc.insert("timestamp".into(), json!(time(e.at)));
    doc.insert("projectId".into(), json!(project.to_string()));
    match e.kind {
        EventKind::NumberProvisioned | EventKind::NumberProvisioningFailed => {
            let failed = e.kind == EventKind::NumberProvisioningFailed;
            doc.insert("resourceType".into(), json!("ACTIVE_NUMBER"));
            doc.insert("resourceId".into(), json!(e.e164.as_ref()?.as_str()));
            doc.insert(
                "eventType".into(),
                json!(provisioning_event_type(&e.details)?),
            );
            doc.insert(
                "status".into(),
                json!(if failed { "FAILED" } else { "SUCCEEDED" }),
            );
            // Sinch sends one failure code; the hook's first code is the reason it gave first.
            let first_code = e
                .details
                .get("error_codes")
                .and_then(Value::as_array)
                .and_then(|codes| codes.first())
                .and_then(Value::as_str);
            if let (true, Some(code)) = (failed, first_code) {
                doc.insert("failureCode".into(), json!(code));
            }
        }
        _ => {
            let id = e.details.get("number_order_id").and_then(Value::as_str)?;
            let state = e.details.get("state").and_then(Value::as_str)?;
            doc.insert("resourceType".into(), json!("NUMBER_ORDER"));
            doc.insert("resourceId".into(), json!(id));
            doc.insert("eventType".into(), json!("NUMBER_ORDER_PROCESSING"));
            doc.insert("status".into(), json!(state));
        }
    }
    Some(Value::Object(doc))
}

pub struct SinchRenderer;

impl Renderer for SinchRenderer {
    fn format(&self) -> &'static str {
        FORMAT
    }

    fn check_config(&self, config: &Value) -> Result<Value> {
        match config {
            Value::Null => Ok(Value::Object(Default::default())),
            Value::Object(map) if map.is_empty() => Ok(config.clone()),
            _ => Err(Error::invalid(
                "format_config",
                "the sinch format takes no configuration; send {} or leave it out",
            )),
        }
    }

    fn render(&self, event: &Event, _target: &RenderTarget<'_>) -> Result<Option<Rendered>> {
        let Some(doc) = payload(event) else {
            return Ok(None);
        };
        let body = serde_json::to_string(&doc)
            .map_err(|e| Error::internal(format!("cannot encode Sinch callback: {e}")))?;
        Ok(Some(Rendered {
            content_type: "application/json".into(),
            headers: Vec::new(),
            body,
        }))
    }

    /// Sinch signs with the one project secret and no timestamp; a project without a secret
    /// gets unsigned callbacks (no header), which Sinch's validators refuse.
    fn sign(
        &self,
        body: &str,
        secrets: &[String],
        _config: &Value,
        _at: Timestamp,
    ) -> Vec<(String, String)> {
        secrets
            .first()
            .map(|secret| {
                (
                    SIGNATURE_HEADER.to_string(),
                    signature(secret, body.as_bytes()),
                )
            })
            .into_iter()
            .collect()
    }
}

/// Sends an active number's provisioning outcomes to its `callbackUrl` (as set when the
/// fan-out runs) and a number order's state changes to the order's `callbackUrl`, signed with
/// the project's `hmacSecret` (read at fan-out).
pub struct SinchCallbackTargets;

#[async_trait]
impl TargetResolver for SinchCallbackTargets {
    fn name(&self) -> &'static str {
        "sinch-callback-url"
    }

    async fn targets(&self, event: &Event, service: &Service) -> Result<Vec<ResolvedTarget>> {
        let e = &event.event;
        let (Some(account), true) = (e.account_id, has_callback(e.kind)) else {
            return Ok(Vec::new());
        };
        let url = match (e.kind, &e.e164) {
            (EventKind::NumberProvisioned | EventKind::NumberProvisioningFailed, Some(e164)) => {
                match service.owned_number(account, e164).await {
                    Ok(n) => n.assignment.callback_url,
                    // Released since: no longer the project's number, nobody to tell.
                    Err(Error::NotFound { .. }) => None,
                    Err(other) => return Err(other),
                }
            }
            _ => e
                .details
                .get("callback_url")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        let Some(url) = url.filter(|u| !u.is_empty()) else {
            return Ok(Vec::new());
        };
        let url = match WebhookUrl::parse(&url, "callbackUrl") {
            Ok(url) => url,
            Err(error) => {
                // Stored before the engine's stricter rules; skipping it beats blocking fan-out.
                tracing::warn!(%url, %error, "skipping an unusable Sinch callbackUrl");
                return Ok(Vec::new());
            }
        };
        let secret = service.callback_secret(account).await?;
        Ok(vec![ResolvedTarget {
            url,
            format: FORMAT.into(),
            format_config: json!({}),
            signing_secret: secret.map(|s| s.as_str().to_string()),
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // `printf '{"a":1}' | openssl dgst -sha1 -hmac key-0123456789`, computed independently.
        assert_eq!(
            signature("key-0123456789", br#"{"a":1}"#),
            "7df11800cd7600a389ae463d9e7cbd0d4e1890f4"
        );
    }

    #[test]
    fn failed_provisioning_carries_the_first_code() {
        let mut e = numbers_core::event::NewEvent::new(
            EventKind::NumberProvisioningFailed,
            chrono::Utc::now(),
        );
        e.account_id = Some(numbers_core::ids::AccountId::new());
        e.e164 = Some(numbers_core::number::E164::parse("+12065550100").unwrap());
        e.details = json!({"channel": "VOICE", "action": "DEPROVISION",
                           "error_codes": ["PARTNER_SERVICE_UNAVAILABLE", "X"]});
        let doc = payload(&Event {
            seq: 1,
            event: e.clone(),
        })
        .unwrap();
        assert_eq!(doc["eventType"], "DEPROVISIONING_FROM_VOICE_PLATFORM");
        assert_eq!(doc["status"], "FAILED");
        assert_eq!(doc["failureCode"], "PARTNER_SERVICE_UNAVAILABLE");
        assert!(doc["timestamp"].as_str().unwrap().ends_with('Z'));
        e.kind = EventKind::NumberUpdated;
        assert!(payload(&Event { seq: 2, event: e }).is_none());
    }

    #[test]
    fn no_secret_no_header() {
        assert!(
            SinchRenderer
                .sign("{}", &[], &json!({}), chrono::Utc::now())
                .is_empty()
        );
        let signed = SinchRenderer.sign("{}", &["s".into()], &json!({}), chrono::Utc::now());
        assert_eq!(signed[0].0, SIGNATURE_HEADER);
        assert_eq!(signed[0].1.len(), 40);
    }
}
