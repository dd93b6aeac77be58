//! `WebhookStore` on PostgreSQL, shared by several numbersd processes, through the rows and
//! statements of `numbers_store_sql::webhook_rows`. The fan-out cursor is one row moved by a
//! conditional UPDATE (a second process computing the same batch blocks on the row, then finds it
//! moved and writes nothing); deliveries are claimed `FOR UPDATE SKIP LOCKED` and leased, so
//! concurrent workers never hold the same delivery; deliveries are inserted in bulk with `UNNEST`.

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
use numbers_store_sql::webhook_rows::{
    self as sql, DELIVERY_COLUMNS, DeliveryRow, SubscriptionRow,
};
use numbers_store_sql::{Statement, placeholders};

use crate::events::event_from_row;
use crate::statements::{Client, execute, query, query_opt};
use crate::{Bind, PostgresStore, db_err, refs};

/// The subscriptions `stmt` selects, opened.
async fn subscriptions(
    c: &impl Client,
    stmt: &Statement,
    secrets: &SecretBox,
) -> Result<Vec<Subscription>> {
    let rows: Vec<SubscriptionRow> = query(c, stmt).await?;
    rows.into_iter()
        .map(|r| r.into_subscription(secrets))
        .collect()
}

/// The deliveries `stmt` selects, opened.
async fn deliveries(
    c: &impl Client,
    stmt: &Statement,
    secrets: &SecretBox,
) -> Result<Vec<Delivery>> {
    let rows: Vec<DeliveryRow> = query(c, stmt).await?;
    rows.into_iter().map(|r| r.into_delivery(secrets)).collect()
}

/// The ids of the deliveries a claim may take (`webhook_rows::claimable_sql`). The window
/// function cannot carry a row lock: `claimable_locked` takes them.
async fn claimable(c: &impl Client, claim: &DeliveryClaim) -> Result<Vec<String>> {
    let text = sql::claimable_sql("NOT (d.target_key = ANY($2::TEXT[]))");
    let rows = c
        .query(
            text.as_str(),
            &[
                &to_millis(claim.now),
                &claim.skip_endpoints,
                &i64::from(claim.per_endpoint),
                &i64::from(claim.limit),
            ],
        )
        .await
        .map_err(db_err)?;
    rows.iter().map(|r| r.try_get(0).map_err(db_err)).collect()
}

/// Those of the `candidates` that are still claimable and that no other worker holds, locked.
async fn claimable_locked(
    c: &impl Client,
    candidates: &[String],
    now: Timestamp,
    secrets: &SecretBox,
) -> Result<Vec<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
         WHERE id IN ({}) AND status = 'PENDING' AND (lease_until IS NULL OR lease_until <= ${}) \
         ORDER BY next_attempt_at, event_seq, id FOR UPDATE SKIP LOCKED",
        placeholders(candidates.len()),
        candidates.len() + 1
    );
    let select = candidates
        .iter()
        .fold(Statement::new(sql), |stmt, id| stmt.bind(id))
        .bind(to_millis(now));
    deliveries(c, &select, secrets).await
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
        let insert =
            sql::insert_subscription(SubscriptionRow::from_subscription(s, &self.secrets)?);
        execute(&**self.client().await?, &insert).await.map(drop)
    }

    async fn get_subscription(
        &self,
        account: AccountId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>> {
        let select = sql::select_subscription(account, id);
        let found = subscriptions(&**self.client().await?, &select, &self.secrets).await?;
        Ok(found.into_iter().next())
    }

    async fn list_subscriptions(
        &self,
        account: AccountId,
        after: Option<SubscriptionId>,
        limit: u32,
    ) -> Result<Vec<Subscription>> {
        let select = sql::list_subscriptions(account, after, limit);
        subscriptions(&**self.client().await?, &select, &self.secrets).await
    }

    async fn update_subscription(&self, s: &Subscription) -> Result<bool> {
        let update =
            sql::update_subscription(SubscriptionRow::from_subscription(s, &self.secrets)?);
        Ok(execute(&**self.client().await?, &update).await? == 1)
    }

    async fn delete_subscription(
        &self,
        account: AccountId,
        id: SubscriptionId,
        now: Timestamp,
    ) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let deleted = execute(&*tx, &sql::delete_subscription(account, id)).await? == 1;
        if deleted {
            execute(&*tx, &sql::cancel_pending_deliveries(id, now)).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(deleted)
    }

    async fn active_subscriptions(&self) -> Result<Vec<Subscription>> {
        subscriptions(
            &**self.client().await?,
            &sql::active_subscriptions(),
            &self.secrets,
        )
        .await
    }

    async fn fanout_cursor(&self) -> Result<i64> {
        Ok(query_opt(&**self.client().await?, &sql::fanout_cursor())
            .await?
            .unwrap_or(0))
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
        // Blocks while another process holds the row; then sees whether it moved meanwhile.
        if let Some((from, to)) = advance
            && execute(&*tx, &sql::advance_fanout(from, to)).await? == 0
        {
            return Ok(None);
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
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let candidates = claimable(&*tx, claim).await?;
        if candidates.is_empty() {
            tx.commit().await.map_err(db_err)?;
            return Ok(Vec::new());
        }
        let deliveries = claimable_locked(&*tx, &candidates, claim.now, &self.secrets).await?;
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
        let subs = match sql::subscriptions_in(&subscription_ids) {
            Some(select) => subscriptions(&*tx, &select, &self.secrets).await?,
            None => Vec::new(),
        };
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
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        // Lock the delivery first, so two processes recording attempts for it (after a lost
        // lease) number them one after the other.
        let lock = Statement::new("SELECT 1 FROM webhook_deliveries WHERE id = $1 FOR UPDATE")
            .bind(id.to_string());
        execute(&*tx, &lock).await?;
        for stmt in sql::record_attempt(id, attempt, result) {
            execute(&*tx, &stmt).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn list_deliveries(
        &self,
        account: AccountId,
        subscription: SubscriptionId,
        filter: &DeliveryFilter,
    ) -> Result<Vec<DeliveryLog>> {
        let client = self.client().await?;
        let select = sql::list_deliveries(account, subscription, filter);
        let deliveries = deliveries(&**client, &select, &self.secrets).await?;
        let attempts = match sql::attempts_of(&deliveries) {
            Some(select) => query(&**client, &select).await?,
            None => Vec::new(),
        };
        Ok(sql::delivery_logs(deliveries, attempts))
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
        let count = query_opt::<i64>(&**self.client().await?, &sql::pending_deliveries()).await?;
        Ok(count.unwrap_or(0).max(0) as u64)
    }
}
