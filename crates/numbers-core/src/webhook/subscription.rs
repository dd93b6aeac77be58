//! A subscription: an account's standing request to be told about some event types at one URL,
//! in one format, signed with its secret. Signing needs the secret itself (unlike API keys, which
//! only need verifying), so the stores keep it sealed (`sealing`) rather than hashed; a rotation
//! keeps the previous secret signing beside the new one until its overlap window ends.

use chrono::Duration;
use serde_json::Value;

use crate::account::random_token;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::ids::{AccountId, SubscriptionId};

use super::outbound::WebhookUrl;

pub const DEFAULT_ROTATION_OVERLAP_SECONDS: i64 = 24 * 3600;
pub const MAX_ROTATION_OVERLAP_SECONDS: i64 = 7 * 24 * 3600;

/// A fresh signing secret: `whsec_` and 32 random alphanumerics. The whole string is the HMAC key.
pub fn generate_secret() -> String {
    format!("whsec_{}", random_token(32))
}

/// Which event types a subscription wants: all of them (`"*"`) or the ones listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTypes {
    All,
    Only(Vec<EventKind>),
}

impl EventTypes {
    /// `["*"]` (or nothing) is every type; otherwise each name must be a known event type.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>, field: &str) -> Result<Self> {
        let mut kinds = Vec::new();
        let mut all = false;
        let mut unknown = Vec::new();
        for name in names {
            let name = name.trim();
            if name == "*" {
                all = true;
            } else if let Some(kind) = EventKind::parse(name) {
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            } else {
                unknown.push(name.to_string());
            }
        }
        if !unknown.is_empty() {
            let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
            return Err(Error::invalid(
                field,
                format!(
                    "unknown event type(s) {}; known: *, {}",
                    unknown.join(", "),
                    known.join(", ")
                ),
            ));
        }
        if all || kinds.is_empty() {
            return Ok(EventTypes::All);
        }
        kinds.sort_by_key(|k| k.as_str());
        Ok(EventTypes::Only(kinds))
    }

    pub fn matches(&self, kind: EventKind) -> bool {
        match self {
            EventTypes::All => true,
            EventTypes::Only(kinds) => kinds.contains(&kind),
        }
    }

    /// The wire and stored form: `["*"]` or the type names.
    pub fn names(&self) -> Vec<String> {
        match self {
            EventTypes::All => vec!["*".to_string()],
            EventTypes::Only(kinds) => kinds.iter().map(|k| k.as_str().to_string()).collect(),
        }
    }
}

/// What a caller asks for when subscribing (the service adds id, secret and times).
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscription {
    pub url: WebhookUrl,
    pub format: String,
    /// Format-specific settings, checked by the format's `Renderer::check_config`.
    pub format_config: Value,
    pub events: EventTypes,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub account: AccountId,
    pub url: WebhookUrl,
    pub format: String,
    pub format_config: Value,
    pub events: EventTypes,
    pub active: bool,
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<Timestamp>,
    /// Why the engine switched it off (a 410 Gone), until its owner switches it on again.
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl Subscription {
    pub fn new(account: AccountId, new: NewSubscription, now: Timestamp) -> Self {
        Subscription {
            id: SubscriptionId::new(),
            account,
            url: new.url,
            format: new.format,
            format_config: new.format_config,
            events: new.events,
            active: new.active,
            secret: generate_secret(),
            previous_secret: None,
            previous_secret_expires_at: None,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Whether the fan-out owes it this event: its own account's, of a wanted type, and not from
    /// before it existed (history is what replay is for).
    pub fn accepts(&self, event: &Event) -> bool {
        self.active
            && event.event.account_id == Some(self.account)
            && self.events.matches(event.event.kind)
            && event.event.at >= self.created_at
    }

    /// The secrets an attempt at `now` is signed with: the current one first, then the previous
    /// one while its overlap window lasts.
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<String> {
        let mut secrets = vec![self.secret.clone()];
        if let (Some(previous), Some(until)) =
            (&self.previous_secret, self.previous_secret_expires_at)
            && until > now
        {
            secrets.push(previous.clone());
        }
        secrets
    }

    /// The subscription after a rotation: a new secret, the current one kept for `overlap`.
    pub fn rotated(&self, overlap: Duration, now: Timestamp) -> Result<Self> {
        if overlap < Duration::zero() || overlap > Duration::seconds(MAX_ROTATION_OVERLAP_SECONDS) {
            return Err(Error::invalid(
                "overlap_seconds",
                format!("must be from 0 to {MAX_ROTATION_OVERLAP_SECONDS}"),
            ));
        }
        let mut next = self.clone();
        next.previous_secret = (overlap > Duration::zero()).then(|| self.secret.clone());
        next.previous_secret_expires_at = (overlap > Duration::zero()).then(|| now + overlap);
        next.secret = generate_secret();
        next.updated_at = now;
        next.version += 1;
        Ok(next)
    }

    /// Switched off by the engine (the receiver said 410 Gone).
    pub fn disabled(&self, reason: &str, now: Timestamp) -> Self {
        let mut next = self.clone();
        next.active = false;
        next.disabled_reason = Some(reason.to_string());
        next.updated_at = now;
        next.version += 1;
        next
    }
}

/// A partial update: `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubscriptionPatch {
    pub url: Option<WebhookUrl>,
    pub events: Option<EventTypes>,
    pub active: Option<bool>,
    pub format_config: Option<Value>,
}

impl SubscriptionPatch {
    pub fn apply(&self, s: &Subscription, now: Timestamp) -> Subscription {
        let mut next = s.clone();
        if let Some(url) = &self.url {
            next.url = url.clone();
        }
        if let Some(events) = &self.events {
            next.events = events.clone();
        }
        if let Some(config) = &self.format_config {
            next.format_config = config.clone();
        }
        if let Some(active) = self.active {
            next.active = active;
            if active {
                // Switching it on again is the owner saying the receiver is back.
                next.disabled_reason = None;
            }
        }
        next.updated_at = now;
        next.version += 1;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::NewEvent;

    fn sub(now: Timestamp) -> Subscription {
        Subscription::new(
            AccountId::new(),
            NewSubscription {
                url: WebhookUrl::parse("https://hooks.example.com/n", "url").unwrap(),
                format: "native".into(),
                format_config: Value::Null,
                events: EventTypes::parse(["order.completed"], "events").unwrap(),
                active: true,
            },
            now,
        )
    }

    #[test]
    fn event_types_parse_and_match() {
        assert_eq!(EventTypes::parse(["*"], "e").unwrap(), EventTypes::All);
        assert_eq!(
            EventTypes::parse(Vec::<&str>::new(), "e").unwrap(),
            EventTypes::All
        );
        let only =
            EventTypes::parse(["order.failed", "number.assigned", "order.failed"], "e").unwrap();
        assert_eq!(only.names(), vec!["number.assigned", "order.failed"]);
        assert!(only.matches(EventKind::OrderFailed));
        assert!(!only.matches(EventKind::OrderCompleted));
        match EventTypes::parse(["order.done"], "events") {
            Err(Error::Validation(e)) => assert!(e[0].reason.contains("order.done")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn accepts_only_its_account_types_and_time() {
        let now = chrono::Utc::now();
        let s = sub(now);
        let mut e = NewEvent::new(EventKind::OrderCompleted, now);
        e.account_id = Some(s.account);
        let event = Event { seq: 1, event: e };
        assert!(s.accepts(&event));
        let mut other = event.clone();
        other.event.account_id = Some(AccountId::new());
        assert!(!s.accepts(&other));
        let mut older = event.clone();
        older.event.at = now - Duration::seconds(1);
        assert!(!s.accepts(&older));
        let mut kind = event.clone();
        kind.event.kind = EventKind::OrderFailed;
        assert!(!s.accepts(&kind));
        let off = SubscriptionPatch {
            active: Some(false),
            ..Default::default()
        }
        .apply(&s, now);
        assert!(!off.accepts(&event));
        assert_eq!(off.version, 2);
    }

    #[test]
    fn rotation_signs_with_both_secrets_during_the_overlap() {
        let now = chrono::Utc::now();
        let s = sub(now);
        let r = s.rotated(Duration::hours(1), now).unwrap();
        assert_ne!(r.secret, s.secret);
        assert_eq!(
            r.signing_secrets(now),
            vec![r.secret.clone(), s.secret.clone()]
        );
        assert_eq!(
            r.signing_secrets(now + Duration::hours(1)),
            vec![r.secret.clone()]
        );
        let immediate = s.rotated(Duration::zero(), now).unwrap();
        assert_eq!(
            immediate.signing_secrets(now),
            vec![immediate.secret.clone()]
        );
        assert!(s.rotated(Duration::days(8), now).is_err());
    }
}
