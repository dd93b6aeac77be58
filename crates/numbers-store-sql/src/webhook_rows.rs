//! The webhook tables (migration 0002) for both stores: their rows as plain values, the mapping
//! to the domain's `Subscription`, `Delivery` and `Attempt` and back, and the statements of the
//! `WebhookStore` calls that both databases run alike. The secret columns (`sealed_fields`) are
//! sealed on the way into a row and opened on the way out: a row never holds a secret in clear.
//! What differs stays in the stores: how a claim excludes other workers, and how a batch of
//! deliveries is inserted.

use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::EventKind;
use numbers_core::ids::{AccountId, DeliveryId, SubscriptionId};
use numbers_core::sealing::SecretBox;
use numbers_core::webhook::{
    Attempt, AttemptResult, Delivery, DeliveryFilter, DeliveryLog, DeliveryStatus, EventTypes,
    Rendered, Subscription, WebhookUrl,
};

use crate::SqlValue;
use crate::statement::{FromRow, SqlRow, Statement, insert_sql, placeholders};

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
fn attempt_result_columns(
    result: AttemptResult,
    at: Timestamp,
) -> (&'static str, Option<i64>, Option<i64>) {
    match result {
        AttemptResult::Succeeded => ("SUCCEEDED", None, Some(to_millis(at))),
        AttemptResult::Retry { next_attempt_at } => {
            ("PENDING", Some(to_millis(next_attempt_at)), None)
        }
        AttemptResult::GaveUp | AttemptResult::Gone => ("FAILED", None, Some(to_millis(at))),
    }
}

/// The reason a subscription is switched off after a 410 Gone.
const GONE_REASON: &str = "the receiver answered 410 Gone";

impl FromRow for SubscriptionRow {
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(SubscriptionRow {
            id: row.text(0)?,
            account_id: row.text(1)?,
            url: row.text(2)?,
            format: row.text(3)?,
            format_config: row.text(4)?,
            event_types: row.text(5)?,
            active: row.bool(6)?,
            secret: row.text(7)?,
            previous_secret: row.opt_text(8)?,
            previous_secret_expires_at: row.opt_int(9)?,
            disabled_reason: row.opt_text(10)?,
            created_at: row.int(11)?,
            updated_at: row.int(12)?,
            version: row.int(13)?,
        })
    }
}

impl FromRow for DeliveryRow {
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(DeliveryRow {
            id: row.text(0)?,
            dedupe_key: row.text(1)?,
            subscription_id: row.opt_text(2)?,
            account_id: row.opt_text(3)?,
            event_seq: row.int(4)?,
            event_id: row.text(5)?,
            event_type: row.text(6)?,
            url: row.text(7)?,
            target_key: row.text(8)?,
            format: row.text(9)?,
            format_config: row.text(10)?,
            signing_secret: row.opt_text(11)?,
            content_type: row.text(12)?,
            headers: row.text(13)?,
            body: row.text(14)?,
            status: row.text(15)?,
            attempts: row.int(16)?,
            next_attempt_at: row.int(17)?,
            lease_until: row.opt_int(18)?,
            last_status_code: row.opt_int(19)?,
            last_error: row.opt_text(20)?,
            created_at: row.int(21)?,
            updated_at: row.int(22)?,
            completed_at: row.opt_int(23)?,
        })
    }
}

/// One `webhook_attempts` row: the delivery it belongs to and the attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempt: Attempt,
}

impl FromRow for AttemptRow {
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(AttemptRow {
            delivery_id: row.text(0)?,
            attempt: Attempt {
                number: u32::try_from(row.int(1)?).unwrap_or(u32::MAX),
                at: from_millis(row.int(2)?),
                status_code: row.opt_int(3)?.and_then(|c| u16::try_from(c).ok()),
                latency_ms: row.int(4)?,
                error: row.opt_text(5)?,
            },
        })
    }
}

/// Binds what a subscription's owner may change, in the order `insert_subscription` and
/// `update_subscription` name the columns.
fn bind_settings(stmt: Statement, r: SubscriptionRow) -> Statement {
    stmt.bind(r.url)
        .bind(r.format)
        .bind(r.format_config)
        .bind(r.event_types)
        .bind(r.active)
        .bind(r.secret)
        .bind(r.previous_secret)
        .bind(r.previous_secret_expires_at)
        .bind(r.disabled_reason)
}

pub fn insert_subscription(r: SubscriptionRow) -> Statement {
    let stmt = Statement::new(insert_sql("webhook_subscriptions", SUBSCRIPTION_COLUMNS))
        .bind(&r.id)
        .bind(&r.account_id);
    let (created_at, updated_at, version) = (r.created_at, r.updated_at, r.version);
    bind_settings(stmt, r)
        .bind(created_at)
        .bind(updated_at)
        .bind(version)
}

/// Writes a subscription whose `version` is already the new one, if the row is still at the
/// previous version.
pub fn update_subscription(r: SubscriptionRow) -> Statement {
    let stmt = Statement::new(
        "UPDATE webhook_subscriptions SET url = $3, format = $4, format_config = $5, \
         event_types = $6, active = $7, secret = $8, previous_secret = $9, \
         previous_secret_expires_at = $10, disabled_reason = $11, updated_at = $12, version = $13 \
         WHERE id = $1 AND account_id = $2 AND version = $14",
    )
    .bind(&r.id)
    .bind(&r.account_id);
    let (updated_at, version) = (r.updated_at, r.version);
    bind_settings(stmt, r)
        .bind(updated_at)
        .bind(version)
        .bind(version - 1)
}

fn select_subscriptions(tail: &str) -> Statement {
    Statement::new(format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE {tail}"
    ))
}

/// `account`'s subscription `id`.
pub fn select_subscription(account: AccountId, id: SubscriptionId) -> Statement {
    select_subscriptions("id = $1 AND account_id = $2")
        .bind(id.to_string())
        .bind(account.to_string())
}

/// Subscription `id`, whoever owns it.
pub fn subscription_by_id(id: SubscriptionId) -> Statement {
    select_subscriptions("id = $1").bind(id.to_string())
}

/// The subscriptions with these ids, whoever owns them; None for no ids.
pub fn subscriptions_in(ids: &[String]) -> Option<Statement> {
    let tail = format!("id IN ({})", placeholders(ids.len()));
    (!ids.is_empty()).then(|| {
        ids.iter()
            .fold(select_subscriptions(&tail), |stmt, id| stmt.bind(id))
    })
}

/// A page of `account`'s subscriptions after `after`, by id.
pub fn list_subscriptions(
    account: AccountId,
    after: Option<SubscriptionId>,
    limit: u32,
) -> Statement {
    select_subscriptions("account_id = $1 AND id > $2 ORDER BY id LIMIT $3")
        .bind(account.to_string())
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .bind(i64::from(limit))
}

pub fn active_subscriptions() -> Statement {
    select_subscriptions("active ORDER BY id")
}

pub fn delete_subscription(account: AccountId, id: SubscriptionId) -> Statement {
    Statement::new("DELETE FROM webhook_subscriptions WHERE id = $1 AND account_id = $2")
        .bind(id.to_string())
        .bind(account.to_string())
}

/// Cancels what a deleted subscription still had to deliver.
pub fn cancel_pending_deliveries(subscription: SubscriptionId, now: Timestamp) -> Statement {
    Statement::new(
        "UPDATE webhook_deliveries SET status = 'CANCELLED', completed_at = $1, updated_at = $1, \
         lease_until = NULL WHERE subscription_id = $2 AND status = 'PENDING'",
    )
    .bind(to_millis(now))
    .bind(subscription.to_string())
}

/// The seq of the last event fanned out (one BIGINT; no row before the first fan-out).
pub fn fanout_cursor() -> Statement {
    Statement::new("SELECT last_seq FROM webhook_fanout WHERE name = 'events'")
}

/// Moves the fan-out cursor from `from` to `to`, unless another fan-out moved it first.
pub fn advance_fanout(from: i64, to: i64) -> Statement {
    Statement::new(
        "UPDATE webhook_fanout SET last_seq = $1 WHERE name = 'events' AND last_seq = $2",
    )
    .bind(to)
    .bind(from)
}

/// A delivery's values in `DELIVERY_COLUMNS` order.
pub fn delivery_values(r: DeliveryRow) -> Vec<SqlValue> {
    Statement::new("")
        .bind(r.id)
        .bind(r.dedupe_key)
        .bind(r.subscription_id)
        .bind(r.account_id)
        .bind(r.event_seq)
        .bind(r.event_id)
        .bind(r.event_type)
        .bind(r.url)
        .bind(r.target_key)
        .bind(r.format)
        .bind(r.format_config)
        .bind(r.signing_secret)
        .bind(r.content_type)
        .bind(r.headers)
        .bind(r.body)
        .bind(r.status)
        .bind(r.attempts)
        .bind(r.next_attempt_at)
        .bind(r.lease_until)
        .bind(r.last_status_code)
        .bind(r.last_error)
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(r.completed_at)
        .params
}

/// What a delivery insert does when its dedupe key is taken: nothing (fan-out is at least once).
pub const DELIVERY_ON_CONFLICT: &str = "ON CONFLICT (dedupe_key) DO NOTHING";

/// Inserts one delivery unless its dedupe key is taken.
pub fn insert_delivery(r: DeliveryRow) -> Statement {
    Statement {
        sql: format!(
            "{} {DELIVERY_ON_CONFLICT}",
            insert_sql("webhook_deliveries", DELIVERY_COLUMNS)
        )
        .into(),
        params: delivery_values(r),
    }
}

/// The ids of the deliveries a claim may take (bind: now, the endpoints to skip, per endpoint,
/// limit): due, not leased, of an active subscription (or none), at most `per_endpoint` per
/// endpoint, none of the endpoints `skip` excludes — the one clause the databases write
/// differently (SQLite reads a JSON array, PostgreSQL an array parameter).
pub fn claimable_sql(skip: &str) -> String {
    format!(
        "SELECT id FROM ( \
           SELECT d.id, d.next_attempt_at, d.event_seq, ROW_NUMBER() OVER ( \
             PARTITION BY d.target_key ORDER BY d.next_attempt_at, d.event_seq, d.id) AS rn \
           FROM webhook_deliveries d \
           LEFT JOIN webhook_subscriptions s ON s.id = d.subscription_id \
           WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1 \
             AND (d.lease_until IS NULL OR d.lease_until <= $1) \
             AND (d.subscription_id IS NULL OR s.active) \
             AND {skip} \
         ) c WHERE rn <= $3 ORDER BY next_attempt_at, event_seq, id LIMIT $4"
    )
}

pub fn select_delivery(id: &str) -> Statement {
    Statement::new(format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1"
    ))
    .bind(id)
}

/// Leases a claimed delivery to its worker until `lease_until`.
pub fn lease_delivery(id: &str, lease_until: Timestamp) -> Statement {
    Statement::new("UPDATE webhook_deliveries SET lease_until = $1 WHERE id = $2")
        .bind(to_millis(lease_until))
        .bind(id)
}

/// A page of the deliveries of `account`'s `subscription` matching `filter`, newest first, one
/// more than the page size (whether there is a next page).
pub fn list_deliveries(
    account: AccountId,
    subscription: SubscriptionId,
    filter: &DeliveryFilter,
) -> Statement {
    let mut stmt = Statement::new("")
        .bind(subscription.to_string())
        .bind(account.to_string());
    let mut clauses = vec![
        "subscription_id = $1".to_string(),
        "account_id = $2".to_string(),
    ];
    let mut add = |clause: &str, value: String| {
        stmt.params.push(value.into());
        clauses.push(format!("{clause} ${}", stmt.params.len()));
    };
    if let Some(status) = filter.status {
        add("status =", status.as_str().to_string());
    }
    if let Some(event) = filter.event_id {
        add("event_id =", event.to_string());
    }
    if let Some(before) = filter.before {
        add("id <", before.to_string());
    }
    let stmt = stmt.bind(i64::from(filter.page_size) + 1);
    Statement {
        sql: format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE {} ORDER BY id DESC LIMIT ${}",
            clauses.join(" AND "),
            stmt.params.len()
        )
        .into(),
        params: stmt.params,
    }
}

/// Every attempt of these deliveries (`AttemptRow`s), in order; None for no deliveries.
pub fn attempts_of(deliveries: &[Delivery]) -> Option<Statement> {
    if deliveries.is_empty() {
        return None;
    }
    let sql = format!(
        "SELECT delivery_id, attempt, at, status_code, latency_ms, error FROM webhook_attempts \
         WHERE delivery_id IN ({}) ORDER BY delivery_id, attempt",
        placeholders(deliveries.len())
    );
    let stmt = deliveries
        .iter()
        .fold(Statement::new(sql), |stmt, d| stmt.bind(d.id.to_string()));
    Some(stmt)
}

/// Each delivery with its attempts.
pub fn delivery_logs(deliveries: Vec<Delivery>, attempts: Vec<AttemptRow>) -> Vec<DeliveryLog> {
    deliveries
        .into_iter()
        .map(|delivery| {
            let id = delivery.id.to_string();
            let attempts = attempts
                .iter()
                .filter(|a| a.delivery_id == id)
                .map(|a| a.attempt.clone())
                .collect();
            DeliveryLog { delivery, attempts }
        })
        .collect()
}

/// The statements recording an attempt of delivery `id` and its `result`: the attempt
/// (numbered from what is stored, not from what the worker read: if two processes both
/// attempted after a lost lease, both attempts are logged), the delivery's new state, and after
/// a 410 Gone, switching its subscription off.
pub fn record_attempt(id: DeliveryId, attempt: &Attempt, result: AttemptResult) -> Vec<Statement> {
    let id = id.to_string();
    let at = to_millis(attempt.at);
    let code = attempt.status_code.map(i64::from);
    let (status, next, completed) = attempt_result_columns(result, attempt.at);
    let mut statements = vec![
        Statement::new(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, latency_ms, error) \
             SELECT $1, COALESCE(MAX(attempt), 0) + 1, $2, $3, $4, $5 FROM webhook_attempts \
             WHERE delivery_id = $1",
        )
        .bind(&id)
        .bind(at)
        .bind(code)
        .bind(attempt.latency_ms)
        .bind(attempt.error.clone()),
        Statement::new(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $1, \
             last_error = $2, updated_at = $3, lease_until = NULL, status = $4, \
             next_attempt_at = COALESCE($5, next_attempt_at), completed_at = $6 \
             WHERE id = $7 AND status = 'PENDING'",
        )
        .bind(code)
        .bind(attempt.error.clone())
        .bind(at)
        .bind(status)
        .bind(next)
        .bind(completed)
        .bind(&id),
    ];
    if result == AttemptResult::Gone {
        statements.push(
            Statement::new(
                "UPDATE webhook_subscriptions SET active = FALSE, disabled_reason = $1, \
                 updated_at = $2, version = version + 1 \
                 WHERE id = (SELECT subscription_id FROM webhook_deliveries WHERE id = $3) \
                 AND active",
            )
            .bind(GONE_REASON)
            .bind(at)
            .bind(id),
        );
    }
    statements
}

/// How many deliveries are waiting (one BIGINT).
pub fn pending_deliveries() -> Statement {
    Statement::new("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'PENDING'")
}
