//! `WebhookStore` on PostgreSQL, shared by several numbersd processes. The fan-out cursor is one
//! row moved by a conditional UPDATE (a second process computing the same batch blocks on the row,
//! then finds it moved and writes nothing); deliveries are claimed `FOR UPDATE SKIP LOCKED` and
//! leased, so concurrent workers never hold the same delivery; deliveries are inserted in bulk
//! with `UNNEST`.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
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
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::events::event_from_row;
use crate::rows::get;
use crate::{Bind, PostgresStore, db_err, refs};

fn subscription_from_row(row: &Row, secrets: &SecretBox) -> Result<Subscription> {
    SubscriptionRow {
        id: get(row, 0)?,
        account_id: get(row, 1)?,
        url: get(row, 2)?,
        format: get(row, 3)?,
        format_config: get(row, 4)?,
        event_types: get(row, 5)?,
        active: get(row, 6)?,
        secret: get(row, 7)?,
        previous_secret: get(row, 8)?,
        previous_secret_expires_at: get(row, 9)?,
        disabled_reason: get(row, 10)?,
        created_at: get(row, 11)?,
        updated_at: get(row, 12)?,
        version: get(row, 13)?,
    }
    .into_subscription(secrets)
}

fn delivery_from_row(row: &Row, secrets: &SecretBox) -> Result<Delivery> {
    DeliveryRow {
        id: get(row, 0)?,
        dedupe_key: get(row, 1)?,
        subscription_id: get(row, 2)?,
        account_id: get(row, 3)?,
        event_seq: get(row, 4)?,
        event_id: get(row, 5)?,
        event_type: get(row, 6)?,
        url: get(row, 7)?,
        target_key: get(row, 8)?,
        format: get(row, 9)?,
        format_config: get(row, 10)?,
        signing_secret: get(row, 11)?,
        content_type: get(row, 12)?,
        headers: get(row, 13)?,
        body: get(row, 14)?,
        status: get(row, 15)?,
        attempts: get(row, 16)?,
        next_attempt_at: get(row, 17)?,
        lease_until: get(row, 18)?,
        last_status_code: get(row, 19)?,
        last_error: get(row, 20)?,
        created_at: get(row, 21)?,
        updated_at: get(row, 22)?,
        completed_at: get(row, 23)?,
    }
    .into_delivery(secrets)
}

fn subscriptions(rows: &[Row], secrets: &SecretBox) -> Result<Vec<Subscription>> {
    rows.iter()
        .map(|row| subscription_from_row(row, secrets))
        .collect()
}

/// Column-wise arrays of delivery rows, for one `INSERT … SELECT FROM UNNEST(…)`.
#[derive(Default)]
struct DeliveryColumns {
    id: Vec<String>,
    dedupe_key: Vec<String>,
    subscription_id: Vec<Option<String>>,
    account_id: Vec<Option<String>>,
    event_seq: Vec<i64>,
    event_id: Vec<String>,
    event_type: Vec<String>,
    url: Vec<String>,
    target_key: Vec<String>,
    format: Vec<String>,
    format_config: Vec<String>,
    signing_secret: Vec<Option<String>>,
    content_type: Vec<String>,
    headers: Vec<String>,
    body: Vec<String>,
    status: Vec<String>,
    attempts: Vec<i64>,
    next_attempt_at: Vec<i64>,
    lease_until: Vec<Option<i64>>,
    last_status_code: Vec<Option<i64>>,
    last_error: Vec<Option<String>>,
    created_at: Vec<i64>,
    updated_at: Vec<i64>,
    completed_at: Vec<Option<i64>>,
}

impl DeliveryColumns {
    fn push(&mut self, r: DeliveryRow) {
        self.id.push(r.id);
        self.dedupe_key.push(r.dedupe_key);
        self.subscription_id.push(r.subscription_id);
        self.account_id.push(r.account_id);
        self.event_seq.push(r.event_seq);
        self.event_id.push(r.event_id);
        self.event_type.push(r.event_type);
        self.url.push(r.url);
        self.target_key.push(r.target_key);
        self.format.push(r.format);
        self.format_config.push(r.format_config);
        self.signing_secret.push(r.signing_secret);
        self.content_type.push(r.content_type);
        self.headers.push(r.headers);
        self.body.push(r.body);
        self.status.push(r.status);
        self.attempts.push(r.attempts);
        self.next_attempt_at.push(r.next_attempt_at);
        self.lease_until.push(r.lease_until);
        self.last_status_code.push(r.last_status_code);
        self.last_error.push(r.last_error);
        self.created_at.push(r.created_at);
        self.updated_at.push(r.updated_at);
        self.completed_at.push(r.completed_at);
    }

    fn binds(self) -> Vec<Bind> {
        vec![
            Box::new(self.id),
            Box::new(self.dedupe_key),
            Box::new(self.subscription_id),
            Box::new(self.account_id),
            Box::new(self.event_seq),
            Box::new(self.event_id),
            Box::new(self.event_type),
            Box::new(self.url),
            Box::new(self.target_key),
            Box::new(self.format),
            Box::new(self.format_config),
            Box::new(self.signing_secret),
            Box::new(self.content_type),
            Box::new(self.headers),
            Box::new(self.body),
            Box::new(self.status),
            Box::new(self.attempts),
            Box::new(self.next_attempt_at),
            Box::new(self.lease_until),
            Box::new(self.last_status_code),
            Box::new(self.last_error),
            Box::new(self.created_at),
            Box::new(self.updated_at),
            Box::new(self.completed_at),
        ]
    }
}

const INSERT_DELIVERIES: &str = "INSERT INTO webhook_deliveries (\
     id, dedupe_key, subscription_id, account_id, event_seq, event_id, event_type, url, target_key, format, \
     format_config, signing_secret, content_type, headers, body, status, attempts, next_attempt_at, lease_until, \
     last_status_code, last_error, created_at, updated_at, completed_at) \
     SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::BIGINT[], $6::TEXT[], $7::TEXT[], \
     $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::TEXT[], $13::TEXT[], $14::TEXT[], $15::TEXT[], \
     $16::TEXT[], $17::BIGINT[], $18::BIGINT[], $19::BIGINT[], $20::BIGINT[], $21::TEXT[], $22::BIGINT[], \
     $23::BIGINT[], $24::BIGINT[]) \
     ON CONFLICT (dedupe_key) DO NOTHING";

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn create_subscription(&self, s: &Subscription) -> Result<()> {
        let r = SubscriptionRow::from_subscription(s, &self.secrets)?;
        let client = self.client().await?;
        client
            .execute(
                &format!(
                    "INSERT INTO webhook_subscriptions ({SUBSCRIPTION_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
                ),
                &[
                    &r.id,
                    &r.account_id,
                    &r.url,
                    &r.format,
                    &r.format_config,
                    &r.event_types,
                    &r.active,
                    &r.secret,
                    &r.previous_secret,
                    &r.previous_secret_expires_at,
                    &r.disabled_reason,
                    &r.created_at,
                    &r.updated_at,
                    &r.version,
                ],
            )
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn get_subscription(
        &self,
        account: AccountId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1 AND account_id = $2"
                ),
                &[&id.to_string(), &account.to_string()],
            )
            .await
            .map_err(db_err)?;
        Ok(subscriptions(&rows, &self.secrets)?.into_iter().next())
    }

    async fn list_subscriptions(
        &self,
        account: AccountId,
        after: Option<SubscriptionId>,
        limit: u32,
    ) -> Result<Vec<Subscription>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions \
                     WHERE account_id = $1 AND id > $2 ORDER BY id LIMIT $3"
                ),
                &[
                    &account.to_string(),
                    &after.map(|a| a.to_string()).unwrap_or_default(),
                    &i64::from(limit),
                ],
            )
            .await
            .map_err(db_err)?;
        subscriptions(&rows, &self.secrets)
    }

    async fn update_subscription(&self, s: &Subscription) -> Result<bool> {
        let r = SubscriptionRow::from_subscription(s, &self.secrets)?;
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE webhook_subscriptions SET url = $1, format = $2, format_config = $3, \
                 event_types = $4, active = $5, secret = $6, previous_secret = $7, \
                 previous_secret_expires_at = $8, disabled_reason = $9, updated_at = $10, version = $11 \
                 WHERE id = $12 AND account_id = $13 AND version = $14",
                &[
                    &r.url,
                    &r.format,
                    &r.format_config,
                    &r.event_types,
                    &r.active,
                    &r.secret,
                    &r.previous_secret,
                    &r.previous_secret_expires_at,
                    &r.disabled_reason,
                    &r.updated_at,
                    &r.version,
                    &r.id,
                    &r.account_id,
                    &(r.version - 1),
                ],
            )
            .await
            .map_err(db_err)?;
        Ok(n == 1)
    }

    async fn delete_subscription(
        &self,
        account: AccountId,
        id: SubscriptionId,
        now: Timestamp,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let id = id.to_string();
        let n = tx
            .execute(
                "DELETE FROM webhook_subscriptions WHERE id = $1 AND account_id = $2",
                &[&id, &account.to_string()],
            )
            .await
            .map_err(db_err)?;
        if n == 1 {
            tx.execute(
                "UPDATE webhook_deliveries SET status = 'CANCELLED', completed_at = $1, updated_at = $1, \
                 lease_until = NULL WHERE subscription_id = $2 AND status = 'PENDING'",
                &[&to_millis(now), &id],
            )
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(n == 1)
    }

    async fn active_subscriptions(&self) -> Result<Vec<Subscription>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE active ORDER BY id"
                ),
                &[],
            )
            .await
            .map_err(db_err)?;
        subscriptions(&rows, &self.secrets)
    }

    async fn fanout_cursor(&self) -> Result<i64> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT last_seq FROM webhook_fanout WHERE name = 'events'",
                &[],
            )
            .await
            .map_err(db_err)?;
        match rows.first() {
            Some(row) => get(row, 0),
            None => Ok(0),
        }
    }

    async fn enqueue_deliveries(
        &self,
        advance: Option<(i64, i64)>,
        deliveries: &[Delivery],
    ) -> Result<Option<u64>> {
        let mut columns = DeliveryColumns::default();
        for d in deliveries {
            columns.push(DeliveryRow::from_delivery(d, &self.secrets)?);
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        if let Some((from, to)) = advance {
            // Blocks while another process holds the row; then sees whether it moved meanwhile.
            let moved = tx
                .execute(
                    "UPDATE webhook_fanout SET last_seq = $1 WHERE name = 'events' AND last_seq = $2",
                    &[&to, &from],
                )
                .await
                .map_err(db_err)?;
            if moved == 0 {
                return Ok(None);
            }
        }
        let inserted = if deliveries.is_empty() {
            0
        } else {
            let binds = columns.binds();
            tx.execute(INSERT_DELIVERIES, &refs(&binds))
                .await
                .map_err(db_err)?
        };
        tx.commit().await.map_err(db_err)?;
        Ok(Some(inserted))
    }

    async fn claim_deliveries(&self, claim: &DeliveryClaim) -> Result<Vec<ClaimedDelivery>> {
        let now = to_millis(claim.now);
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        // The window function picks at most `per_endpoint` per endpoint (it cannot carry a row
        // lock); the locking SELECT then takes those rows that no other worker holds and that are
        // still claimable, skipping the rest.
        let candidates: Vec<String> = tx
            .query(
                "SELECT id FROM ( \
                   SELECT d.id, d.next_attempt_at, d.event_seq, ROW_NUMBER() OVER ( \
                     PARTITION BY d.target_key ORDER BY d.next_attempt_at, d.event_seq, d.id) AS rn \
                   FROM webhook_deliveries d \
                   LEFT JOIN webhook_subscriptions s ON s.id = d.subscription_id \
                   WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1 \
                     AND (d.lease_until IS NULL OR d.lease_until <= $1) \
                     AND (d.subscription_id IS NULL OR s.active) \
                     AND NOT (d.target_key = ANY($2::TEXT[])) \
                 ) c WHERE rn <= $3 ORDER BY next_attempt_at, event_seq, id LIMIT $4",
                &[
                    &now,
                    &claim.skip_endpoints,
                    &i64::from(claim.per_endpoint),
                    &i64::from(claim.limit),
                ],
            )
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| get::<String>(r, 0))
            .collect::<Result<_>>()?;
        if candidates.is_empty() {
            tx.commit().await.map_err(db_err)?;
            return Ok(Vec::new());
        }
        let locked = tx
            .query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
                     WHERE id = ANY($1::TEXT[]) AND status = 'PENDING' \
                       AND (lease_until IS NULL OR lease_until <= $2) \
                     ORDER BY next_attempt_at, event_seq, id FOR UPDATE SKIP LOCKED"
                ),
                &[&candidates, &now],
            )
            .await
            .map_err(db_err)?;
        let deliveries: Vec<Delivery> = locked
            .iter()
            .map(|row| delivery_from_row(row, &self.secrets))
            .collect::<Result<_>>()?;
        let ids: Vec<String> = deliveries.iter().map(|d| d.id.to_string()).collect();
        tx.execute(
            "UPDATE webhook_deliveries SET lease_until = $1 WHERE id = ANY($2::TEXT[])",
            &[&to_millis(claim.lease_until), &ids],
        )
        .await
        .map_err(db_err)?;
        let subscription_ids: Vec<String> = deliveries
            .iter()
            .filter_map(|d| d.subscription.map(|s| s.to_string()))
            .collect();
        let subs = subscriptions(
            &tx.query(
                &format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = ANY($1::TEXT[])"
                ),
                &[&subscription_ids],
            )
            .await
            .map_err(db_err)?,
            &self.secrets,
        )?;
        tx.commit().await.map_err(db_err)?;
        Ok(deliveries
            .into_iter()
            .map(|delivery| {
                let subscription = delivery
                    .subscription
                    .and_then(|sid| subs.iter().find(|s| s.id == sid).cloned());
                ClaimedDelivery {
                    delivery,
                    subscription,
                }
            })
            .collect())
    }

    async fn record_attempt(
        &self,
        id: DeliveryId,
        attempt: &Attempt,
        result: AttemptResult,
    ) -> Result<()> {
        let id = id.to_string();
        let at = to_millis(attempt.at);
        let code = attempt.status_code.map(i64::from);
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        // Lock the delivery first, so two processes recording attempts for it (after a lost
        // lease) number them one after the other.
        tx.execute(
            "SELECT 1 FROM webhook_deliveries WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await
        .map_err(db_err)?;
        tx.execute(
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, latency_ms, error) \
             SELECT $1, COALESCE(MAX(attempt), 0) + 1, $2, $3, $4, $5 FROM webhook_attempts WHERE delivery_id = $1",
            &[&id, &at, &code, &attempt.latency_ms, &attempt.error],
        )
        .await
        .map_err(db_err)?;
        let (status, next, completed) = attempt_result_columns(result, attempt.at);
        tx.execute(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $1, last_error = $2, \
             updated_at = $3, lease_until = NULL, status = $4, \
             next_attempt_at = COALESCE($5, next_attempt_at), completed_at = $6 \
             WHERE id = $7 AND status = 'PENDING'",
            &[&code, &attempt.error, &at, &status, &next, &completed, &id],
        )
        .await
        .map_err(db_err)?;
        if result == AttemptResult::Gone {
            tx.execute(
                "UPDATE webhook_subscriptions SET active = FALSE, disabled_reason = $1, updated_at = $2, \
                 version = version + 1 \
                 WHERE id = (SELECT subscription_id FROM webhook_deliveries WHERE id = $3) AND active",
                &[&GONE_REASON, &at, &id],
            )
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn list_deliveries(
        &self,
        account: AccountId,
        subscription: SubscriptionId,
        filter: &DeliveryFilter,
    ) -> Result<Vec<DeliveryLog>> {
        let mut clauses = vec![
            "subscription_id = $1".to_string(),
            "account_id = $2".to_string(),
        ];
        let mut params: Vec<Bind> = vec![
            Box::new(subscription.to_string()),
            Box::new(account.to_string()),
        ];
        if let Some(status) = filter.status {
            params.push(Box::new(status.as_str().to_string()));
            clauses.push(format!("status = ${}", params.len()));
        }
        if let Some(event) = filter.event_id {
            params.push(Box::new(event.to_string()));
            clauses.push(format!("event_id = ${}", params.len()));
        }
        if let Some(before) = filter.before {
            params.push(Box::new(before.to_string()));
            clauses.push(format!("id < ${}", params.len()));
        }
        params.push(Box::new(i64::from(filter.page_size) + 1));
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE {} ORDER BY id DESC LIMIT ${}",
            clauses.join(" AND "),
            params.len()
        );
        let client = self.client().await?;
        let rows = client
            .query(sql.as_str(), &refs(&params))
            .await
            .map_err(db_err)?;
        let deliveries: Vec<Delivery> = rows
            .iter()
            .map(|row| delivery_from_row(row, &self.secrets))
            .collect::<Result<_>>()?;
        let ids: Vec<String> = deliveries.iter().map(|d| d.id.to_string()).collect();
        let attempt_rows = client
            .query(
                "SELECT delivery_id, attempt, at, status_code, latency_ms, error FROM webhook_attempts \
                 WHERE delivery_id = ANY($1::TEXT[]) ORDER BY delivery_id, attempt",
                &[&ids as &(dyn ToSql + Sync)],
            )
            .await
            .map_err(db_err)?;
        let mut attempts: Vec<(String, Attempt)> = Vec::with_capacity(attempt_rows.len());
        for r in &attempt_rows {
            attempts.push((
                get(r, 0)?,
                Attempt {
                    number: u32::try_from(get::<i64>(r, 1)?).unwrap_or(u32::MAX),
                    at: from_millis(get(r, 2)?),
                    status_code: get::<Option<i64>>(r, 3)?.and_then(|c| u16::try_from(c).ok()),
                    latency_ms: get(r, 4)?,
                    error: get(r, 5)?,
                },
            ));
        }
        Ok(deliveries
            .into_iter()
            .map(|delivery| {
                let id = delivery.id.to_string();
                let attempts = attempts
                    .iter()
                    .filter(|(d, _)| *d == id)
                    .map(|(_, a)| a.clone())
                    .collect();
                DeliveryLog { delivery, attempts }
            })
            .collect())
    }

    async fn get_event(&self, id: EventId) -> Result<Option<Event>> {
        self.sequencer.catch_up().await?;
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT seq, id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details \
                 FROM events WHERE id = $1",
                &[&id.to_string()],
            )
            .await
            .map_err(db_err)?;
        rows.first().map(event_from_row).transpose()
    }

    async fn pending_deliveries(&self) -> Result<u64> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'PENDING'",
                &[],
            )
            .await
            .map_err(db_err)?;
        Ok(get::<i64>(&row, 0)?.max(0) as u64)
    }
}
