//! The pluggable parts of the engine, registered at start-up: a `Renderer` per wire format (the
//! native JSON webhooks here; Bandwidth's XML notifications and Sinch's callbacks in their
//! dialects), and `TargetResolver`s that add targets no subscription names (Sinch sends events
//! about a number to the callback URL set on it). The engine holds no per-format code.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::event::Event;
use crate::ids::SubscriptionId;
use crate::service::Service;

use super::delivery::Rendered;
use super::outbound::WebhookUrl;
use super::worker::BasicCredentials;

/// Where a rendered event is going.
#[derive(Debug, Clone, Copy)]
pub struct RenderTarget<'a> {
    pub url: &'a WebhookUrl,
    pub format_config: &'a Value,
    pub subscription: Option<SubscriptionId>,
}

/// One wire format of event notifications.
pub trait Renderer: Send + Sync {
    /// The name subscriptions carry in their `format` (e.g. "native", "bandwidth", "sinch").
    fn format(&self) -> &'static str;

    /// Checks (and normalises) a subscription's `format_config` when it is created or changed;
    /// errors name fields under `format_config`.
    fn check_config(&self, config: &Value) -> Result<Value> {
        Ok(config.clone())
    }

    /// The request for this event to this target, or `None` when the format has nothing to say
    /// about it (e.g. an order type the subscription filtered out). Called once, at fan-out.
    fn render(&self, event: &Event, target: &RenderTarget<'_>) -> Result<Option<Rendered>>;

    /// Credentials with which the transport answers an HTTP Basic challenge from the receiver
    /// (the first request goes out without them; see `OutgoingRequest::basic_on_challenge`).
    /// `None`, the default, answers no challenge.
    fn challenge_credentials(&self, _config: &Value) -> Option<BasicCredentials> {
        None
    }

    /// Headers that authenticate one attempt at `at`: signatures over the body with each of
    /// `secrets` (current first), Basic credentials from the config, …
    fn sign(
        &self,
        body: &str,
        secrets: &[String],
        config: &Value,
        at: Timestamp,
    ) -> Vec<(String, String)>;
}

/// A target that no subscription names.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedTarget {
    pub url: WebhookUrl,
    pub format: String,
    pub format_config: Value,
    pub signing_secret: Option<String>,
}

/// Names extra targets for an event, from the state of the resource it is about.
#[async_trait]
pub trait TargetResolver: Send + Sync {
    /// Stable name; part of the de-duplication key of the deliveries it causes.
    fn name(&self) -> &'static str;

    async fn targets(&self, event: &Event, service: &Service) -> Result<Vec<ResolvedTarget>>;
}

/// The formats and resolvers of one process.
#[derive(Clone, Default)]
pub struct Registry {
    renderers: BTreeMap<&'static str, Arc<dyn Renderer>>,
    resolvers: Vec<Arc<dyn TargetResolver>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("formats", &self.formats())
            .field(
                "resolvers",
                &self.resolvers.iter().map(|r| r.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a format; a second renderer for the same format replaces the first.
    pub fn with_renderer(mut self, renderer: Arc<dyn Renderer>) -> Self {
        self.renderers.insert(renderer.format(), renderer);
        self
    }

    pub fn with_resolver(mut self, resolver: Arc<dyn TargetResolver>) -> Self {
        self.resolvers.push(resolver);
        self
    }

    pub fn renderer(&self, format: &str) -> Option<&Arc<dyn Renderer>> {
        self.renderers.get(format)
    }

    pub fn resolvers(&self) -> &[Arc<dyn TargetResolver>] {
        &self.resolvers
    }

    pub fn formats(&self) -> Vec<&'static str> {
        self.renderers.keys().copied().collect()
    }
}
