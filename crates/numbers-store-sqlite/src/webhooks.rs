//! `WebhookStore` on SQLite: subscriptions, the fan-out cursor, deliveries and attempts, through
//! the rows and statements of `numbers_store_sql::webhook_rows`. The one writer connection (and
//! `BEGIN IMMEDIATE` against other processes) serialises the claim, so a conditional lease
//! update is all the exclusion a claim needs here; deliveries are inserted one statement each.

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
use numbers_store_sql::Statement;
use numbers_store_sql::webhook_rows::{self as sql, DeliveryRow, SubscriptionRow};
use rusqlite::{Connection, OptionalExtension};

use crate::SqliteStore;
use crate::db::{DbResult, to_json};
use crate::rows::{EVENT_COLUMNS, event_from_raw, raw_event};
use crate::statements::{execute, query, query_opt};

/// The subscriptions `stmt` selects, opened.
fn subscriptions(
    conn: &Connection,
    stmt: &Statement,
    secrets: &SecretBox,
) -> Result<Vec<Subscription>> {
    let rows: Vec<SubscriptionRow> = query(conn, stmt)?;
    rows.into_iter()
        .map(|r| r.into_subscription(secrets))
        .collect()
}

/// The deliveries `stmt` selects, opened.
fn deliveries(conn: &Connection, stmt: &Statement, secrets: &SecretBox) -> Result<Vec<Delivery>> {
    let rows: Vec<DeliveryRow> = query(conn, stmt)?;
    rows.into_iter().map(|r| r.into_delivery(secrets)).collect()
}

/// The ids of the deliveries a claim takes (`webhook_rows::claimable_sql`).
fn claimable(conn: &Connection, claim: &DeliveryClaim) -> Result<Vec<String>> {
    let skip = "d.target_key NOT IN (SELECT value FROM json_each($2))";
    let stmt = Statement::new(sql::claimable_sql(skip))
        .bind(to_millis(claim.now))
        .bind(to_json(&claim.skip_endpoints)?)
        .bind(i64::from(claim.per_endpoint))
        .bind(i64::from(claim.limit));
    query(conn, &stmt)
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_subscription(&self, s: &Subscription) -> Result<()> {
        let insert =
            sql::insert_subscription(SubscriptionRow::from_subscription(s, &self.secrets)?);
        self.write(move |tx| execute(tx, &insert).map(drop)).await
    }

    async fn get_subscription(
        &self,
        account: AccountId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>> {
        let secrets = self.secrets.clone();
        let select = sql::select_subscription(account, id);
        self.read(move |tx| Ok(subscriptions(tx, &select, &secrets)?.into_iter().next()))
            .await
    }

    async fn list_subscriptions(
        &self,
        account: AccountId,
        after: Option<SubscriptionId>,
        limit: u32,
    ) -> Result<Vec<Subscription>> {
        let secrets = self.secrets.clone();
        let select = sql::list_subscriptions(account, after, limit);
        self.read(move |tx| subscriptions(tx, &select, &secrets))
            .await
    }

    async fn update_subscription(&self, s: &Subscription) -> Result<bool> {
        let update =
            sql::update_subscription(SubscriptionRow::from_subscription(s, &self.secrets)?);
        self.write(move |tx| Ok(execute(tx, &update)? == 1)).await
    }

    async fn delete_subscription(
        &self,
        account: AccountId,
        id: SubscriptionId,
        now: Timestamp,
    ) -> Result<bool> {
        self.write(move |tx| {
            let deleted = execute(tx, &sql::delete_subscription(account, id))? == 1;
            if deleted {
                execute(tx, &sql::cancel_pending_deliveries(id, now))?;
            }
            Ok(deleted)
        })
        .await
    }

    async fn active_subscriptions(&self) -> Result<Vec<Subscription>> {
        let secrets = self.secrets.clone();
        self.read(move |tx| subscriptions(tx, &sql::active_subscriptions(), &secrets))
            .await
    }

    async fn fanout_cursor(&self) -> Result<i64> {
        self.read(|tx| Ok(query_opt(tx, &sql::fanout_cursor())?.unwrap_or(0)))
            .await
    }

    async fn enqueue_deliveries(
        &self,
        advance: Option<(i64, i64)>,
        deliveries: &[Delivery],
    ) -> Result<Option<u64>> {
        // Sealed here, off the writer thread.
        let inserts = deliveries
            .iter()
            .map(|d| {
                Ok(sql::insert_delivery(DeliveryRow::from_delivery(
                    d,
                    &self.secrets,
                )?))
            })
            .collect::<Result<Vec<_>>>()?;
        self.write(move |tx| {
            if let Some((from, to)) = advance
                && execute(tx, &sql::advance_fanout(from, to))? == 0
            {
                return Ok(None);
            }
            let mut inserted = 0;
            for insert in &inserts {
                inserted += execute(tx, insert)?;
            }
            Ok(Some(inserted))
        })
        .await
    }

    async fn claim_deliveries(&self, claim: &DeliveryClaim) -> Result<Vec<ClaimedDelivery>> {
        let claim = claim.clone();
        let secrets = self.secrets.clone();
        self.write(move |tx| {
            let ids = claimable(tx, &claim)?;
            let mut claimed = Vec::with_capacity(ids.len());
            for id in ids {
                execute(tx, &sql::lease_delivery(&id, claim.lease_until))?;
                let Some(delivery) = deliveries(tx, &sql::select_delivery(&id), &secrets)?
                    .into_iter()
                    .next()
                else {
                    continue;
                };
                let subscription = match delivery.subscription {
                    Some(sid) => subscriptions(tx, &sql::subscription_by_id(sid), &secrets)?
                        .into_iter()
                        .next(),
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
        let statements = sql::record_attempt(id, attempt, result);
        self.write(move |tx| {
            for stmt in &statements {
                execute(tx, stmt)?;
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
        let select = sql::list_deliveries(account, subscription, filter);
        let secrets = self.secrets.clone();
        self.read(move |tx| {
            let deliveries = deliveries(tx, &select, &secrets)?;
            let attempts = match sql::attempts_of(&deliveries) {
                Some(select) => query(tx, &select)?,
                None => Vec::new(),
            };
            Ok(sql::delivery_logs(deliveries, attempts))
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
            Ok(query_opt::<i64>(tx, &sql::pending_deliveries())?
                .unwrap_or(0)
                .max(0) as u64)
        })
        .await
    }
}
