//! `WebhookStore` on SQLite: subscriptions, the fan-out cursor, deliveries and attempts. The one
//! writer connection (and `BEGIN IMMEDIATE` against other processes) serialises the claim, so a
//! conditional lease update is all the exclusion a claim needs here.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::error::Result;
use numbers_core::event::Event;
use numbers_core::ids::{AccountId, DeliveryId, EventId, SubscriptionId};
use numbers_core::sealing::SecretBox;
use numbers_core::webhook::{
    Attempt, AttemptResult, ClaimedDelivery, Delivery, DeliveryClaim, DeliveryFilter, DeliveryLog,
    Subscription, WebhookStore,
};
use numbers_store_sql::{
    DELIVERY_COLUMNS, DeliveryRow, GONE_REASON, SUBSCRIPTION_COLUMNS, SubscriptionRow,
    attempt_result_columns,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::SqliteStore;
use crate::db::{DbResult, to_json};
use crate::rows::{EVENT_COLUMNS, event_from_raw, raw_event};

fn subscription_row(r: &Row<'_>) -> rusqlite::Result<SubscriptionRow> {
    Ok(SubscriptionRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        url: r.get(2)?,
        format: r.get(3)?,
        format_config: r.get(4)?,
        event_types: r.get(5)?,
        active: r.get(6)?,
        secret: r.get(7)?,
        previous_secret: r.get(8)?,
        previous_secret_expires_at: r.get(9)?,
        disabled_reason: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
        version: r.get(13)?,
    })
}

fn delivery_row(r: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: r.get(0)?,
        dedupe_key: r.get(1)?,
        subscription_id: r.get(2)?,
        account_id: r.get(3)?,
        event_seq: r.get(4)?,
        event_id: r.get(5)?,
        event_type: r.get(6)?,
        url: r.get(7)?,
        target_key: r.get(8)?,
        format: r.get(9)?,
        format_config: r.get(10)?,
        signing_secret: r.get(11)?,
        content_type: r.get(12)?,
        headers: r.get(13)?,
        body: r.get(14)?,
        status: r.get(15)?,
        attempts: r.get(16)?,
        next_attempt_at: r.get(17)?,
        lease_until: r.get(18)?,
        last_status_code: r.get(19)?,
        last_error: r.get(20)?,
        created_at: r.get(21)?,
        updated_at: r.get(22)?,
        completed_at: r.get(23)?,
    })
}

fn select_subscriptions(
    conn: &Connection,
    tail: &str,
    args: Vec<Value>,
    secrets: &SecretBox,
) -> Result<Vec<Subscription>> {
    let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE {tail}");
    let mut stmt = conn.prepare_cached(&sql).db()?;
    let rows = stmt
        .query_map(params_from_iter(args), subscription_row)
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    rows.into_iter()
        .map(|r| r.into_subscription(secrets))
        .collect()
}

fn select_deliveries(
    conn: &Connection,
    tail: &str,
    args: Vec<Value>,
    secrets: &SecretBox,
) -> Result<Vec<Delivery>> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE {tail}");
    let mut stmt = conn.prepare_cached(&sql).db()?;
    let rows = stmt
        .query_map(params_from_iter(args), delivery_row)
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    rows.into_iter().map(|r| r.into_delivery(secrets)).collect()
}

fn text(s: impl ToString) -> Value {
    Value::Text(s.to_string())
}

fn insert_delivery(conn: &Connection, r: &DeliveryRow) -> Result<bool> {
    let placeholders: Vec<String> = (1..=24).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) VALUES ({}) ON CONFLICT (dedupe_key) DO NOTHING",
        placeholders.join(", ")
    );
    let mut stmt = conn.prepare_cached(&sql).db()?;
    let n = stmt
        .execute(params![
            r.id,
            r.dedupe_key,
            r.subscription_id,
            r.account_id,
            r.event_seq,
            r.event_id,
            r.event_type,
            r.url,
            r.target_key,
            r.format,
            r.format_config,
            r.signing_secret,
            r.content_type,
            r.headers,
            r.body,
            r.status,
            r.attempts,
            r.next_attempt_at,
            r.lease_until,
            r.last_status_code,
            r.last_error,
            r.created_at,
            r.updated_at,
            r.completed_at,
        ])
        .db()?;
    Ok(n == 1)
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_subscription(&self, s: &Subscription) -> Result<()> {
        let r = SubscriptionRow::from_subscription(s, &self.secrets)?;
        self.write(move |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO webhook_subscriptions ({SUBSCRIPTION_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ),
                params![
                    r.id,
                    r.account_id,
                    r.url,
                    r.format,
                    r.format_config,
                    r.event_types,
                    r.active,
                    r.secret,
                    r.previous_secret,
                    r.previous_secret_expires_at,
                    r.disabled_reason,
                    r.created_at,
                    r.updated_at,
                    r.version
                ],
            )
            .db()?;
            Ok(())
        })
        .await
    }

    async fn get_subscription(
        &self,
        account: AccountId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>> {
        let secrets = self.secrets.clone();
        self.read(move |tx| {
            Ok(select_subscriptions(
                tx,
                "id = ?1 AND account_id = ?2",
                vec![text(id), text(account)],
                &secrets,
            )?
            .into_iter()
            .next())
        })
        .await
    }

    async fn list_subscriptions(
        &self,
        account: AccountId,
        after: Option<SubscriptionId>,
        limit: u32,
    ) -> Result<Vec<Subscription>> {
        let secrets = self.secrets.clone();
        self.read(move |tx| {
            select_subscriptions(
                tx,
                "account_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                vec![
                    text(account),
                    text(after.map(|a| a.to_string()).unwrap_or_default()),
                    Value::Integer(i64::from(limit)),
                ],
                &secrets,
            )
        })
        .await
    }

    async fn update_subscription(&self, s: &Subscription) -> Result<bool> {
        let r = SubscriptionRow::from_subscription(s, &self.secrets)?;
        self.write(move |tx| {
            let n = tx
                .execute(
                    "UPDATE webhook_subscriptions SET url = ?1, format = ?2, format_config = ?3, \
                     event_types = ?4, active = ?5, secret = ?6, previous_secret = ?7, \
                     previous_secret_expires_at = ?8, disabled_reason = ?9, updated_at = ?10, version = ?11 \
                     WHERE id = ?12 AND account_id = ?13 AND version = ?14",
                    params![
                        r.url,
                        r.format,
                        r.format_config,
                        r.event_types,
                        r.active,
                        r.secret,
                        r.previous_secret,
                        r.previous_secret_expires_at,
                        r.disabled_reason,
                        r.updated_at,
                        r.version,
                        r.id,
                        r.account_id,
                        r.version - 1
                    ],
                )
                .db()?;
            Ok(n == 1)
        })
        .await
    }

    async fn delete_subscription(
        &self,
        account: AccountId,
        id: SubscriptionId,
        now: Timestamp,
    ) -> Result<bool> {
        self.write(move |tx| {
            let n = tx
                .execute(
                    "DELETE FROM webhook_subscriptions WHERE id = ?1 AND account_id = ?2",
                    params![id.to_string(), account.to_string()],
                )
                .db()?;
            if n == 1 {
                tx.execute(
                    "UPDATE webhook_deliveries SET status = 'CANCELLED', completed_at = ?1, updated_at = ?1, \
                     lease_until = NULL WHERE subscription_id = ?2 AND status = 'PENDING'",
                    params![to_millis(now), id.to_string()],
                )
                .db()?;
            }
            Ok(n == 1)
        })
        .await
    }

    async fn active_subscriptions(&self) -> Result<Vec<Subscription>> {
        let secrets = self.secrets.clone();
        self.read(move |tx| select_subscriptions(tx, "active ORDER BY id", vec![], &secrets))
            .await
    }

    async fn fanout_cursor(&self) -> Result<i64> {
        self.read(|tx| {
            Ok(tx
                .query_row(
                    "SELECT last_seq FROM webhook_fanout WHERE name = 'events'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .optional()
                .db()?
                .unwrap_or(0))
        })
        .await
    }

    async fn enqueue_deliveries(
        &self,
        advance: Option<(i64, i64)>,
        deliveries: &[Delivery],
    ) -> Result<Option<u64>> {
        // Sealed here, off the writer thread.
        let rows = deliveries
            .iter()
            .map(|d| DeliveryRow::from_delivery(d, &self.secrets))
            .collect::<Result<Vec<_>>>()?;
        self.write(move |tx| {
            if let Some((from, to)) = advance {
                let moved = tx
                    .execute(
                        "UPDATE webhook_fanout SET last_seq = ?1 WHERE name = 'events' AND last_seq = ?2",
                        params![to, from],
                    )
                    .db()?;
                if moved == 0 {
                    return Ok(None);
                }
            }
            let mut inserted = 0;
            for r in &rows {
                if insert_delivery(tx, r)? {
                    inserted += 1;
                }
            }
            Ok(Some(inserted))
        })
        .await
    }

    async fn claim_deliveries(&self, claim: &DeliveryClaim) -> Result<Vec<ClaimedDelivery>> {
        let claim = claim.clone();
        let secrets = self.secrets.clone();
        self.write(move |tx| {
            let now = to_millis(claim.now);
            let ids: Vec<String> = {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT id FROM ( \
                           SELECT d.id, d.next_attempt_at, d.event_seq, ROW_NUMBER() OVER ( \
                             PARTITION BY d.target_key ORDER BY d.next_attempt_at, d.event_seq, d.id) AS rn \
                           FROM webhook_deliveries d \
                           LEFT JOIN webhook_subscriptions s ON s.id = d.subscription_id \
                           WHERE d.status = 'PENDING' AND d.next_attempt_at <= ?1 \
                             AND (d.lease_until IS NULL OR d.lease_until <= ?1) \
                             AND (d.subscription_id IS NULL OR s.active) \
                             AND d.target_key NOT IN (SELECT value FROM json_each(?2)) \
                         ) WHERE rn <= ?3 ORDER BY next_attempt_at, event_seq, id LIMIT ?4",
                    )
                    .db()?;
                stmt.query_map(
                    params![
                        now,
                        to_json(&claim.skip_endpoints)?,
                        i64::from(claim.per_endpoint),
                        i64::from(claim.limit)
                    ],
                    |r| r.get::<_, String>(0),
                )
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?
            };
            let mut claimed = Vec::with_capacity(ids.len());
            for id in ids {
                tx.execute(
                    "UPDATE webhook_deliveries SET lease_until = ?1 WHERE id = ?2",
                    params![to_millis(claim.lease_until), id],
                )
                .db()?;
                let Some(delivery) = select_deliveries(tx, "id = ?1", vec![text(&id)], &secrets)?
                    .into_iter()
                    .next()
                else {
                    continue;
                };
                let subscription = match delivery.subscription {
                    Some(sid) => {
                        select_subscriptions(tx, "id = ?1", vec![text(sid)], &secrets)?
                            .into_iter()
                            .next()
                    }
                    None => None,
                };
                claimed.push(ClaimedDelivery {
                    delivery,
                    subscription,
                });
            }
            Ok(claimed)
        })
        .await
    }

    async fn record_attempt(
        &self,
        id: DeliveryId,
        attempt: &Attempt,
        result: AttemptResult,
    ) -> Result<()> {
        let attempt = attempt.clone();
        self.write(move |tx| {
            let id = id.to_string();
            let at = to_millis(attempt.at);
            // Numbered from what is stored, not from what the worker read: if two processes both
            // attempted after a lost lease, both attempts are logged.
            tx.execute(
                "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, latency_ms, error) \
                 SELECT ?1, COALESCE(MAX(attempt), 0) + 1, ?2, ?3, ?4, ?5 FROM webhook_attempts WHERE delivery_id = ?1",
                params![
                    id,
                    at,
                    attempt.status_code.map(i64::from),
                    attempt.latency_ms,
                    attempt.error
                ],
            )
            .db()?;
            let (status, next, completed) = attempt_result_columns(result, attempt.at);
            tx.execute(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = ?1, last_error = ?2, \
                 updated_at = ?3, lease_until = NULL, status = ?4, \
                 next_attempt_at = COALESCE(?5, next_attempt_at), completed_at = ?6 \
                 WHERE id = ?7 AND status = 'PENDING'",
                params![
                    attempt.status_code.map(i64::from),
                    attempt.error,
                    at,
                    status,
                    next,
                    completed,
                    id
                ],
            )
            .db()?;
            if result == AttemptResult::Gone {
                tx.execute(
                    "UPDATE webhook_subscriptions SET active = FALSE, disabled_reason = ?1, updated_at = ?2, \
                     version = version + 1 \
                     WHERE id = (SELECT subscription_id FROM webhook_deliveries WHERE id = ?3) AND active",
                    params![GONE_REASON, at, id],
                )
                .db()?;
            }
            Ok(())
        })
        .await
    }

    async fn list_deliveries(
        &self,
        account: AccountId,
        subscription: SubscriptionId,
        filter: &DeliveryFilter,
    ) -> Result<Vec<DeliveryLog>> {
        let filter = filter.clone();
        let secrets = self.secrets.clone();
        self.read(move |tx| {
            let mut clauses = vec![
                "subscription_id = ?1".to_string(),
                "account_id = ?2".to_string(),
            ];
            let mut args = vec![text(subscription), text(account)];
            if let Some(status) = filter.status {
                args.push(text(status.as_str()));
                clauses.push(format!("status = ?{}", args.len()));
            }
            if let Some(event) = filter.event_id {
                args.push(text(event));
                clauses.push(format!("event_id = ?{}", args.len()));
            }
            if let Some(before) = filter.before {
                args.push(text(before));
                clauses.push(format!("id < ?{}", args.len()));
            }
            args.push(Value::Integer(i64::from(filter.page_size) + 1));
            let tail = format!(
                "{} ORDER BY id DESC LIMIT ?{}",
                clauses.join(" AND "),
                args.len()
            );
            let deliveries = select_deliveries(tx, &tail, args, &secrets)?;
            let mut stmt = tx
                .prepare_cached(
                    "SELECT attempt, at, status_code, latency_ms, error FROM webhook_attempts \
                     WHERE delivery_id = ?1 ORDER BY attempt",
                )
                .db()?;
            let mut logs = Vec::with_capacity(deliveries.len());
            for delivery in deliveries {
                let attempts = stmt
                    .query_map([delivery.id.to_string()], |r| {
                        Ok(Attempt {
                            number: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(u32::MAX),
                            at: numbers_core::clock::from_millis(r.get(1)?),
                            status_code: r
                                .get::<_, Option<i64>>(2)?
                                .and_then(|c| u16::try_from(c).ok()),
                            latency_ms: r.get(3)?,
                            error: r.get(4)?,
                        })
                    })
                    .db()?
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .db()?;
                logs.push(DeliveryLog { delivery, attempts });
            }
            Ok(logs)
        })
        .await
    }

    async fn get_event(&self, id: EventId) -> Result<Option<Event>> {
        self.read(move |tx| {
            let raw = tx
                .query_row(
                    &format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"),
                    [id.to_string()],
                    raw_event,
                )
                .optional()
                .db()?;
            raw.map(event_from_raw).transpose()
        })
        .await
    }

    async fn pending_deliveries(&self) -> Result<u64> {
        self.read(|tx| {
            tx.query_row(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'PENDING'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .db()
            .map(|n| n.max(0) as u64)
        })
        .await
    }
}
