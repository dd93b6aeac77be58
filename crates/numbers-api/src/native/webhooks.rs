//! `/v1/webhooks`: an account's subscriptions (the secret is returned once, at creation and at
//! rotation), their delivery log, redelivery of one event and replay of everything since a time.
//! Parsing and rendering only; the rules are `numbers_core::webhook`'s.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use numbers_core::error::{Error, FieldErrors, Resource, Result};
use numbers_core::ids::{DeliveryId, EventId, SubscriptionId};
use numbers_core::page::decode_id_token;
use numbers_core::service::Service;
use numbers_core::webhook::{
    Attempt, DEFAULT_ROTATION_OVERLAP_SECONDS, Delivery, DeliveryFilter, DeliveryLog,
    DeliveryStatus, EventTypes, NewSubscription, Subscription, SubscriptionPatch, WebhookUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::extract::{Caller, JsonBody, Query};
use super::numbers::page_size;
use super::problem::ApiResult;
use super::request::{self, Field, StringList, Values};
use super::views::{ListView, ts};
use super::webhook_format::FORMAT as NATIVE;
use crate::ApiState;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    /// Event types delivered; `["*"]` is every type.
    pub events: Vec<String>,
    pub active: bool,
    /// Wire format of the requests (`native`; the vendor dialects register theirs).
    pub format: String,
    #[schema(value_type = Object)]
    pub format_config: Value,
    /// Why numbersd switched it off (a 410 Gone), until you switch it on again.
    pub disabled_reason: Option<String>,
    /// While set, requests carry a second signature made with the previous secret.
    pub previous_secret_expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl WebhookView {
    pub fn render(s: &Subscription) -> Self {
        WebhookView {
            id: s.id.to_string(),
            url: s.url.as_str().to_string(),
            events: s.events.names(),
            active: s.active,
            format: s.format.clone(),
            format_config: shown_config(&s.format_config),
            disabled_reason: s.disabled_reason.clone(),
            previous_secret_expires_at: s.previous_secret_expires_at.map(ts),
            created_at: ts(s.created_at),
            updated_at: ts(s.updated_at),
        }
    }
}

/// A format's configuration as shown: a `password` (the Basic credentials a `bandwidth`
/// subscription answers challenges with) is write-only, like the signing secret.
fn shown_config(config: &Value) -> Value {
    match config {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "password")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A subscription with its signing secret: only in the answers to create and rotate.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecretView {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// HMAC-SHA256 key of `Numbersd-Signature`; shown only now.
    pub secret: String,
}

impl WebhookWithSecretView {
    fn render(s: &Subscription) -> Self {
        WebhookWithSecretView {
            webhook: WebhookView::render(s),
            secret: s.secret.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub attempt: u32,
    pub at: String,
    /// The receiver's status code; `null` when there was no answer (see `error`).
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

impl AttemptView {
    fn render(a: &Attempt) -> Self {
        AttemptView {
            attempt: a.number,
            at: ts(a.at),
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            error: a.error.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub event_seq: i64,
    pub url: String,
    /// PENDING, SUCCEEDED, FAILED (given up, 410 Gone, or not sendable) or CANCELLED.
    pub status: String,
    /// When the next attempt is due (PENDING only).
    pub next_attempt_at: Option<String>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub completed_at: Option<String>,
    pub attempts: Vec<AttemptView>,
}

impl DeliveryView {
    fn render(d: &Delivery, attempts: &[Attempt]) -> Self {
        DeliveryView {
            id: d.id.to_string(),
            event_id: d.event_id.to_string(),
            event_type: d.event_type.as_str().to_string(),
            event_seq: d.event_seq,
            url: d.url.clone(),
            status: d.status.as_str().to_string(),
            next_attempt_at: (d.status == DeliveryStatus::Pending).then(|| ts(d.next_attempt_at)),
            last_status_code: d.last_status_code,
            last_error: d.last_error.clone(),
            created_at: ts(d.created_at),
            completed_at: d.completed_at.map(ts),
            attempts: attempts.iter().map(AttemptView::render).collect(),
        }
    }

    fn from_log(l: &DeliveryLog) -> Self {
        Self::render(&l.delivery, &l.attempts)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayView {
    /// Deliveries enqueued.
    pub enqueued: u64,
    /// True when more events matched than one replay sends; replay again from the last one.
    pub truncated: bool,
}

/// Body of `POST /v1/webhooks`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CreateWebhook {
    /// Absolute http(s) URL.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    url: Field<String>,
    /// Event types; `["*"]` or absent for every type.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    events: Field<StringList>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    active: Field<bool>,
    /// Default `native`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    format: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    format_config: Field<Value>,
}

/// Body of `PATCH /v1/webhooks/{id}`: absent fields are left alone.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateWebhook {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    url: Field<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    events: Field<StringList>,
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    active: Field<bool>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    format_config: Field<Value>,
}

/// Body of `POST /v1/webhooks/{id}/rotate-secret` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RotateSecret {
    /// How long the previous secret keeps signing beside the new one: 0 to 604800 seconds,
    /// default 86400.
    #[serde(default)]
    #[schema(value_type = Option<u64>)]
    overlap_seconds: Field<u64>,
}

/// Body of `POST /v1/webhooks/{id}/redeliver`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Redeliver {
    /// One of your events, sent again as a new delivery.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    event_id: Field<String>,
}

/// Body of `POST /v1/webhooks/{id}/replay`: every event of yours in the window that the
/// webhook's `events` accept, in log order, as new deliveries.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Replay {
    /// RFC 3339 time.
    #[serde(default)]
    #[schema(value_type = String, required = true)]
    since: Field<String>,
    /// RFC 3339 time (default: now).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    until: Field<String>,
}

/// Query of `GET /v1/webhooks`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListWebhooks {
    /// 1 to 1000, default 50.
    #[param(value_type = Option<u32>)]
    page_size: Values,
    #[param(value_type = Option<String>)]
    page_token: Values,
}

/// Query of `GET /v1/webhooks/{id}/deliveries`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    /// PENDING, SUCCEEDED, FAILED or CANCELLED.
    #[param(value_type = Option<String>)]
    status: Values,
    #[param(value_type = Option<String>)]
    event_id: Values,
    /// 1 to 100, default 50.
    #[param(value_type = Option<u32>)]
    page_size: Values,
    #[param(value_type = Option<String>)]
    page_token: Values,
}

impl CreateWebhook {
    /// The subscription, or every field error (with `errors`, the unknown fields).
    fn parse(&self, mut errors: FieldErrors, service: &Service) -> Result<NewSubscription> {
        if self.url.is_missing() {
            errors.push_required("url");
        }
        let url = parse_url(&self.url, &mut errors, service);
        let events = parse_events(&self.events, &mut errors).unwrap_or(EventTypes::All);
        let active = self
            .active
            .value(&mut errors, "active")
            .copied()
            .unwrap_or(true);
        let format = self
            .format
            .value(&mut errors, "format")
            .map_or(NATIVE, String::as_str)
            .to_string();
        let config = format_config(&self.format_config).unwrap_or(Value::Null);
        errors.into_result()?;
        let url = url.ok_or_else(|| Error::required("url"))?;
        Ok(NewSubscription {
            url,
            format,
            format_config: config,
            events,
            active,
        })
    }
}

impl UpdateWebhook {
    /// The patch, or every field error (with `errors`, the unknown fields).
    fn parse(&self, mut errors: FieldErrors, service: &Service) -> Result<SubscriptionPatch> {
        let patch = SubscriptionPatch {
            url: parse_url(&self.url, &mut errors, service),
            events: parse_events(&self.events, &mut errors),
            active: self.active.value(&mut errors, "active").copied(),
            format_config: format_config(&self.format_config),
        };
        errors.into_result()?;
        Ok(patch)
    }
}

impl RotateSecret {
    /// How long the previous secret keeps signing, or every field error.
    fn parse(&self, mut errors: FieldErrors) -> Result<Duration> {
        let overlap = self
            .overlap_seconds
            .value(&mut errors, "overlap_seconds")
            .map_or(DEFAULT_ROTATION_OVERLAP_SECONDS, |s| {
                i64::try_from(*s).unwrap_or(i64::MAX)
            });
        errors.into_result()?;
        Ok(Duration::seconds(overlap.min(i64::MAX / 1000)))
    }
}

impl ListDeliveries {
    /// The filter, or every field error.
    fn parse(&self) -> Result<DeliveryFilter> {
        let mut errors = FieldErrors::new();
        let status = self.status.first().and_then(|s| {
            let parsed = DeliveryStatus::parse(s);
            if parsed.is_none() {
                errors.push("status", "must be PENDING, SUCCEEDED, FAILED or CANCELLED");
            }
            parsed
        });
        let event_id = self
            .event_id
            .first()
            .and_then(|e| errors.take(e.parse::<EventId>()));
        let size = errors.take(page_size(self.page_size.first()).and_then(|n| {
            if n > 100 {
                Err(Error::invalid(
                    "page_size",
                    "must be an integer from 1 to 100",
                ))
            } else {
                Ok(n)
            }
        }));
        let before = self
            .page_token
            .first()
            .and_then(|t| errors.take(decode_id_token::<DeliveryId>(t, "page_token")));
        errors.into_result()?;
        let filter = DeliveryFilter {
            status,
            event_id,
            page_size: size.unwrap_or(50),
            before,
        };
        Ok(filter)
    }
}

impl Redeliver {
    /// The event to send again, or every field error.
    fn parse(&self, mut errors: FieldErrors) -> Result<EventId> {
        let event = match self.event_id.value(&mut errors, "event_id") {
            Some(e) => errors.take(e.parse::<EventId>()),
            None => {
                errors.push_required("event_id");
                None
            }
        };
        errors.into_result()?;
        let event = event.ok_or_else(|| Error::required("event_id"))?;
        Ok(event)
    }
}

impl Replay {
    /// The window to replay, or every field error.
    fn parse(&self, mut errors: FieldErrors) -> Result<(DateTime<Utc>, Option<DateTime<Utc>>)> {
        if self.since.is_missing() {
            errors.push_required("since");
        }
        let since = parse_time(&self.since, &mut errors, "since");
        let until = parse_time(&self.until, &mut errors, "until");
        errors.into_result()?;
        let since = since.ok_or_else(|| Error::required("since"))?;
        Ok((since, until))
    }
}

fn webhook_id(raw: &str) -> Result<SubscriptionId> {
    raw.parse()
        .map_err(|_| Error::not_found(Resource::Webhook, raw))
}

fn parse_url(
    raw: &Field<String>,
    errors: &mut FieldErrors,
    service: &Service,
) -> Option<WebhookUrl> {
    let raw = raw.value(errors, "url")?;
    errors.take(service.outbound_url(raw, "url"))
}

fn parse_events(raw: &Field<StringList>, errors: &mut FieldErrors) -> Option<EventTypes> {
    let StringList(names) = raw.value(errors, "events")?;
    errors.take(EventTypes::parse(
        names.iter().map(String::as_str),
        "events",
    ))
}

/// Absent leaves the configuration alone; `null` clears it.
fn format_config(raw: &Field<Value>) -> Option<Value> {
    match raw {
        Field::Absent => None,
        Field::Null => Some(Value::Null),
        Field::Given(v) | Field::Wrong(v) => Some(v.clone()),
    }
}

#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Subscribed. The secret is shown only in this answer.", body = WebhookWithSecretView),
        (status = 400, description = "Invalid, or a URL that points at this server or (unless allowed) a private address", body = super::problem::Problem),
    ),
    security(("basic" = []))
)]
pub async fn create(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<WebhookWithSecretView>)> {
    let account = principal.account()?;
    let (body, errors) = request::body::<CreateWebhook>(&body)?;
    let new = body.parse(errors, &state.service)?;
    let created = state.service.create_webhook(account, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookWithSecretView::render(&created)),
    ))
}

#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks",
    params(ListWebhooks),
    responses((status = 200, body = ListView<WebhookView>)),
    security(("basic" = []))
)]
pub async fn list(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Query(q): Query,
) -> ApiResult<Json<ListView<WebhookView>>> {
    let account = principal.account()?;
    let q: ListWebhooks = request::query(&q)?;
    let size = page_size(q.page_size.first())?;
    let after = q
        .page_token
        .first()
        .map(|t| decode_id_token::<SubscriptionId>(t, "page_token"))
        .transpose()?;
    let page = state.service.list_webhooks(account, after, size).await?;
    Ok(Json(ListView::from_page(&page, WebhookView::render)))
}

#[utoipa::path(
    get, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookView), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn get(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(raw): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let account = principal.account()?;
    let s = state
        .service
        .get_webhook(account, webhook_id(&raw)?)
        .await?;
    Ok(Json(WebhookView::render(&s)))
}

#[utoipa::path(
    patch, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path)),
    request_body = UpdateWebhook,
    responses((status = 200, body = WebhookView), (status = 400, body = super::problem::Problem), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn update(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<WebhookView>> {
    let account = principal.account()?;
    let id = webhook_id(&raw)?;
    let (body, errors) = request::body::<UpdateWebhook>(&body)?;
    let patch = body.parse(errors, &state.service)?;
    let s = state.service.update_webhook(account, id, patch).await?;
    Ok(Json(WebhookView::render(&s)))
}

#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted; its pending deliveries are cancelled"), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn delete(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    let account = principal.account()?;
    state
        .service
        .delete_webhook(account, webhook_id(&raw)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post, path = "/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path)),
    request_body(content = Option<RotateSecret>, description = "Optional; without a body the previous secret signs for a day"),
    responses((status = 200, description = "The new secret, shown only now", body = WebhookWithSecretView), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn rotate_secret(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<WebhookWithSecretView>> {
    let account = principal.account()?;
    let id = webhook_id(&raw)?;
    let (body, errors) = request::body::<RotateSecret>(&body)?;
    let overlap = body.parse(errors)?;
    let s = state
        .service
        .rotate_webhook_secret(account, id, overlap)
        .await?;
    Ok(Json(WebhookWithSecretView::render(&s)))
}

#[utoipa::path(
    get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), ListDeliveries),
    responses((status = 200, description = "Deliveries, newest first, each with every attempt", body = ListView<DeliveryView>), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn deliveries(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(raw): Path<String>,
    Query(q): Query,
) -> ApiResult<Json<ListView<DeliveryView>>> {
    let account = principal.account()?;
    let id = webhook_id(&raw)?;
    let q: ListDeliveries = request::query(&q)?;
    let filter = q.parse()?;
    let page = state
        .service
        .webhook_deliveries(account, id, &filter)
        .await?;
    Ok(Json(ListView::from_page(&page, DeliveryView::from_log)))
}

#[utoipa::path(
    post, path = "/v1/webhooks/{id}/redeliver", tag = "webhooks",
    params(("id" = String, Path)),
    request_body = Redeliver,
    responses((status = 202, body = DeliveryView), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn redeliver(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    let account = principal.account()?;
    let id = webhook_id(&raw)?;
    let (body, errors) = request::body::<Redeliver>(&body)?;
    let event = body.parse(errors)?;
    let d = state.service.redeliver_webhook(account, id, event).await?;
    Ok((StatusCode::ACCEPTED, Json(DeliveryView::render(&d, &[]))))
}

fn parse_time(raw: &Field<String>, errors: &mut FieldErrors, field: &str) -> Option<DateTime<Utc>> {
    let raw = raw.value(errors, field)?;
    match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            errors.push(field, "must be an RFC 3339 time, e.g. 2026-01-01T00:00:00Z");
            None
        }
    }
}

#[utoipa::path(
    post, path = "/v1/webhooks/{id}/replay", tag = "webhooks",
    params(("id" = String, Path)),
    request_body = Replay,
    responses((status = 202, body = ReplayView), (status = 404, body = super::problem::Problem)),
    security(("basic" = []))
)]
pub async fn replay(
    State(state): State<ApiState>,
    Caller(principal): Caller,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<ReplayView>)> {
    let account = principal.account()?;
    let id = webhook_id(&raw)?;
    let (body, errors) = request::body::<Replay>(&body)?;
    let (since, until) = body.parse(errors)?;
    let outcome = state
        .service
        .replay_webhook(account, id, since, until)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ReplayView {
            enqueued: outcome.enqueued,
            truncated: outcome.truncated,
        }),
    ))
}
