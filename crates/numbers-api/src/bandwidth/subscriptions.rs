//! `/accounts/{id}/subscriptions`: Bandwidth's notification subscriptions, kept as webhook-engine
//! subscriptions of the "bandwidth" format (see `notification`), so delivery, retries and the
//! delivery log are the engine's. A `<Subscription>` becomes a `NotificationConfig`; the last
//! callback result shown in `<Status>` is read from the engine's delivery log. Only this format's
//! subscriptions are visible here (native webhooks of the same account are not Bandwidth's).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use numbers_core::error::{Error, FieldErrorKind, Resource};
use numbers_core::ids::{AccountId, SubscriptionId};
use numbers_core::webhook::{
    DeliveryFilter, EventTypes, NewSubscription, Subscription, SubscriptionPatch, WebhookUrl,
};

use super::error::{Area, BwError, BwResult};
use super::notification::{FORMAT, NotificationConfig, NumberFormat, OrderType};
use super::xml::{El, Element};
use super::{BwAccount, area, created, parse_document, xml};
use crate::ApiState;
use crate::wire::QueryPairs;

/// Deliveries looked at for the last callback result (newest first; pending ones have none).
const STATUS_LOOKBACK: u32 = 20;

fn fail(e: Error) -> BwError {
    BwError::core(Area::Subscriptions, e)
}

/// What a `<Subscription>` asks for.
struct Parsed {
    url: WebhookUrl,
    order_type: OrderType,
    config: NotificationConfig,
}

fn parse_subscription(body: &Bytes, state: &ApiState) -> BwResult<Parsed> {
    let doc = parse_document(body, Area::Subscriptions, "Subscription")?;
    from_document(&doc, state).map_err(fail)
}

fn from_document(doc: &Element, state: &ApiState) -> Result<Parsed, Error> {
    let order_type = match (doc.text_of("OrderType"), doc.text_of("EventType")) {
        (Some(t), _) => OrderType::parse(t)?,
        (None, Some(e)) => {
            return Err(Error::invalid_as(
                FieldErrorKind::Unsupported,
                "EventType",
                format!("event subscriptions ('{e}') are not supported; subscribe to an OrderType"),
            ));
        }
        (None, None) => {
            return Err(Error::invalid(
                "Subscription",
                "OrderType or EventType should be specified",
            ));
        }
    };
    let Some(callback) = doc.child("CallbackSubscription") else {
        if doc.child("EmailSubscription").is_some() {
            return Err(Error::invalid_as(
                FieldErrorKind::Unsupported,
                "EmailSubscription",
                "email subscriptions are not supported; use a CallbackSubscription",
            ));
        }
        return Err(Error::required("URL"));
    };
    let raw_url = callback
        .text_of("URL")
        .ok_or_else(|| Error::required("URL"))?;
    let url = state.service.outbound_url(raw_url, "URL")?;
    // The Python SDK's legacy <User> is accepted and ignored like any unknown element.
    let credentials = callback
        .child("CallbackCredentials")
        .and_then(|c| c.child("BasicAuthentication"))
        .map(|b| (b.text_of("Username"), b.text_of("Password")));
    let config = NotificationConfig::new(
        order_type,
        doc.text_of("OrderId"),
        callback.text_of("Expiry"),
        credentials,
        NumberFormat::parse(callback.text_of("NumberFormat"))?,
        state.service.now(),
    )?;
    Ok(Parsed {
        url,
        order_type,
        config,
    })
}

fn events(order_type: OrderType) -> Result<EventTypes, Error> {
    EventTypes::parse(order_type.events().iter().map(|k| k.as_str()), "OrderType")
}

fn subscription_id(raw: &str) -> BwResult<SubscriptionId> {
    raw.parse()
        .map_err(|_| fail(Error::not_found(Resource::Subscription, raw)))
}

/// The account's subscription of this format, or 16000.
async fn own(state: &ApiState, account: AccountId, id: SubscriptionId) -> BwResult<Subscription> {
    let s = state
        .service
        .get_webhook(account, id)
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => fail(Error::not_found(Resource::Subscription, id)),
            e => fail(e),
        })?;
    if s.format == FORMAT {
        Ok(s)
    } else {
        Err(fail(Error::not_found(Resource::Subscription, id)))
    }
}

/// The last callback's result as Bandwidth shows it ("200 OK"), if one was attempted.
async fn last_status(state: &ApiState, s: &Subscription) -> Result<Option<String>, Error> {
    let page = state
        .service
        .webhook_deliveries(
            s.account,
            s.id,
            &DeliveryFilter {
                page_size: STATUS_LOOKBACK,
                ..Default::default()
            },
        )
        .await?;
    Ok(page
        .items
        .iter()
        .find_map(|log| log.attempts.last())
        .map(|a| match a.status_code {
            Some(code) => {
                let reason = StatusCode::from_u16(code)
                    .ok()
                    .and_then(|c| c.canonical_reason())
                    .unwrap_or("");
                format!("{code} {reason}").trim_end().to_string()
            }
            None => a.error.clone().unwrap_or_else(|| "not sent".into()),
        }))
}

fn subscription_el(s: &Subscription, status: Option<String>) -> Result<El, Error> {
    let config = NotificationConfig::from_value(&s.format_config)?;
    let mut callback = El::new("CallbackSubscription")
        .leaf_child("URL", s.url.as_str())
        .leaf_child("Expiry", config.expiry_seconds)
        .opt("Status", status);
    if let Some(user) = &config.username {
        // The password is never echoed.
        callback.push(
            El::new("CallbackCredentials")
                .child(El::new("BasicAuthentication").leaf_child("Username", user)),
        );
    }
    let callback = callback.leaf_child("NumberFormat", config.number_format.as_str());
    Ok(El::new("Subscription")
        .leaf_child("SubscriptionId", s.id)
        .leaf_child("OrderType", config.order_type.as_str())
        .opt("OrderId", config.order_id.as_deref())
        .child(callback))
}

fn document(items: Vec<El>) -> El {
    El::new("SubscriptionsResponse").child(El::new("Subscriptions").children(items))
}

/// Every subscription of this format of the account, with its configuration, oldest first.
async fn all_own(
    state: &ApiState,
    account: AccountId,
) -> Result<Vec<(Subscription, NotificationConfig)>, Error> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = state.service.list_webhooks(account, after, 200).await?;
        for s in page.items.iter().filter(|s| s.format == FORMAT) {
            let config = NotificationConfig::from_value(&s.format_config)?;
            out.push((s.clone(), config));
        }
        match (page.next_page_token, page.items.last()) {
            (Some(_), Some(last)) => after = Some(last.id),
            _ => break,
        }
    }
    Ok(out)
}

/// Bandwidth refuses a second subscription for the same order type, order and URL (16008):
/// the receiver would get every notification twice. An expired one sends nothing, so it does
/// not count.
async fn refuse_duplicate(state: &ApiState, account: AccountId, parsed: &Parsed) -> BwResult<()> {
    let existing = all_own(state, account).await.map_err(fail)?;
    let now = state.service.now();
    let duplicate = existing.iter().any(|(s, c)| {
        c.live_at(now)
            && c.order_type == parsed.order_type
            && c.order_id == parsed.config.order_id
            && s.url.as_str() == parsed.url.as_str()
    });
    if duplicate {
        return Err(BwError::new(
            Area::Subscriptions,
            StatusCode::BAD_REQUEST,
            16008,
            "A subscription with the same OrderType, OrderId and URL already exists",
        ));
    }
    Ok(())
}

pub async fn create(
    State(state): State<ApiState>,
    BwAccount { account, .. }: BwAccount<area::Subscriptions>,
    headers: HeaderMap,
    body: Bytes,
) -> BwResult<Response> {
    let parsed = parse_subscription(&body, &state)?;
    refuse_duplicate(&state, account, &parsed).await?;
    let s = state
        .service
        .create_webhook(
            account,
            NewSubscription {
                url: parsed.url,
                format: FORMAT.to_string(),
                format_config: parsed.config.to_value().map_err(fail)?,
                events: events(parsed.order_type).map_err(fail)?,
                active: true,
            },
        )
        .await
        .map_err(fail)?;
    // Bandwidth answers with the id in Location only; the SDKs read it from there.
    Ok(created(
        &headers,
        &format!("/api/accounts/{account}/subscriptions/{}", s.id),
        None,
    ))
}

pub async fn list(
    State(state): State<ApiState>,
    BwAccount { account, .. }: BwAccount<area::Subscriptions>,
    RawQuery(raw): RawQuery,
) -> BwResult<Response> {
    let q = QueryPairs::parse(raw.as_deref());
    let wanted = q
        .names()
        .find(|n| n.eq_ignore_ascii_case("orderType"))
        .and_then(|n| q.get(n))
        .map(OrderType::parse)
        .transpose()
        .map_err(fail)?;
    let mut items = Vec::new();
    for (s, config) in all_own(&state, account).await.map_err(fail)? {
        if wanted.is_some_and(|w| w != config.order_type) {
            continue;
        }
        let status = last_status(&state, &s).await.map_err(fail)?;
        items.push(subscription_el(&s, status).map_err(fail)?);
    }
    Ok(xml(StatusCode::OK, &document(items)))
}

pub async fn get(
    State(state): State<ApiState>,
    BwAccount { account, .. }: BwAccount<area::Subscriptions>,
    Path((_, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let s = own(&state, account, subscription_id(&id)?).await?;
    let status = last_status(&state, &s).await.map_err(fail)?;
    // One subscription, still inside <Subscriptions>: the Node SDK reads it from there.
    let el = subscription_el(&s, status).map_err(fail)?;
    Ok(xml(StatusCode::OK, &document(vec![el])))
}

pub async fn update(
    State(state): State<ApiState>,
    BwAccount { account, .. }: BwAccount<area::Subscriptions>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> BwResult<Response> {
    let s = own(&state, account, subscription_id(&id)?).await?;
    let parsed = parse_subscription(&body, &state)?;
    // A PUT replaces the subscription (same body as a create); the expiry counts from now, and
    // saving it again is the owner saying the receiver is back (after a 410).
    state
        .service
        .update_webhook(
            account,
            s.id,
            SubscriptionPatch {
                url: Some(parsed.url),
                events: Some(events(parsed.order_type).map_err(fail)?),
                active: Some(true),
                format_config: Some(parsed.config.to_value().map_err(fail)?),
            },
        )
        .await
        .map_err(fail)?;
    Ok(StatusCode::OK.into_response())
}

pub async fn delete(
    State(state): State<ApiState>,
    BwAccount { account, .. }: BwAccount<area::Subscriptions>,
    Path((_, id)): Path<(String, String)>,
) -> BwResult<Response> {
    let s = own(&state, account, subscription_id(&id)?).await?;
    state
        .service
        .delete_webhook(account, s.id)
        .await
        .map_err(fail)?;
    Ok(StatusCode::OK.into_response())
}
