//! `WebhookStore` on PostgreSQL, shared by several numbersd processes, through the rows and
//! statements of `numbers_store_sql::webhook_rows`. The fan-out cursor is one row moved by a
//! conditional UPDATE (a second process computing the same batch blocks on the row, then finds it
//! moved and writes nothing); deliveries are claimed `FOR UPDATE SKIP LOCKED` and leased, so
//! concurrent workers never hold the same delivery; deliveries are inserted in bulk
//! with `UNNEST` (`statements::insert_unnest`).

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
use crate::statements::{Client, execute, insert_unnest, query, query_opt};
use crate::{PostgresStore, db_err};

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
        let rows = deliveries
            .iter()
            .map(|d| {
                Ok(sql::delivery_values(DeliveryRow::from_delivery(
                    d,
                    &self.secrets,
                )?))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        // Blocks while another process holds the row; then sees whether it moved meanwhile.
        if let Some((from, to)) = advance
            && execute(&*tx, &sql::advance_fanout(from, to)).await? == 0
        {
            return Ok(None);
        }
        let inserted = insert_unnest(
            &*tx,
            "webhook_deliveries",
            DELIVERY_COLUMNS,
            rows,
            sql::DELIVERY_ON_CONFLICT,
        )
        .await?;
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
