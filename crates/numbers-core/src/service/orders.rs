//! Orders: submission (with idempotency), the fulfilment attempts the worker makes, and the
//! synchronous "order and wait" that Sinch's rent and MessageMedia's assignment need.

use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::account::Principal;
use crate::error::{ConflictKind, Error, Resource, Result};
use crate::ids::{AccountId, OrderId, ReservationId};
use crate::number::AssignmentData;
use crate::order::{NewOrder, Order, OrderRequest};
use crate::page::Page;
use crate::store::{CreatedOrder, OrderFilter};

use super::Service;

pub const IDEMPOTENCY_KEY_MAX_CHARS: usize = 255;
/// A fulfilment that lost a race is retried this many times before giving up for this round
/// (the worker will come back to it).
const FULFIL_ATTEMPTS: usize = 20;

/// What a client asks for, before the service gives it an id and a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderSubmission {
    pub request: OrderRequest,
    pub partial_allowed: bool,
    pub backorder_requested: bool,
    pub reservation_ids: Vec<ReservationId>,
    pub template: AssignmentData,
    pub name: Option<String>,
    pub customer_order_id: Option<String>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
    pub dialect_data: serde_json::Value,
}

impl OrderSubmission {
    pub fn new(request: OrderRequest) -> Self {
        OrderSubmission {
            request,
            partial_allowed: false,
            backorder_requested: false,
            reservation_ids: Vec::new(),
            template: AssignmentData::default(),
            name: None,
            customer_order_id: None,
            idempotency_key: None,
            dialect_data: serde_json::Value::Null,
        }
    }

    fn fingerprint(&self) -> String {
        let body = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl Service {
    /// Stores a RECEIVED order and starts its fulfilment (`start_fulfilment`). Returns the order
    /// as stored and whether it is new (false: an idempotent retry that returns the original).
    pub async fn submit_order(
        &self,
        account: AccountId,
        submission: OrderSubmission,
    ) -> Result<(Order, bool)> {
        let (order, created) = self.store_order(account, submission).await?;
        if created {
            self.start_fulfilment(order.id());
        }
        Ok((order, created))
    }

    async fn store_order(
        &self,
        account: AccountId,
        submission: OrderSubmission,
    ) -> Result<(Order, bool)> {
        submission.request.validate()?;
        self.check_callback_url(submission.template.callback_url.as_deref())?;
        if let Some(key) = &submission.idempotency_key
            && (key.is_empty() || key.chars().count() > IDEMPOTENCY_KEY_MAX_CHARS)
        {
            return Err(Error::invalid(
                "Idempotency-Key",
                format!("must be 1 to {IDEMPOTENCY_KEY_MAX_CHARS} characters"),
            ));
        }
        let new = NewOrder {
            id: OrderId::new(),
            account,
            request_fingerprint: submission.fingerprint(),
            request: submission.request,
            partial_allowed: submission.partial_allowed,
            backorder_requested: submission.backorder_requested,
            reservation_ids: submission.reservation_ids,
            template: submission.template,
            name: submission.name,
            customer_order_id: submission.customer_order_id,
            idempotency_key: submission.idempotency_key,
            dialect_data: submission.dialect_data,
            created_at: self.now(),
        };
        match self.store.create_order(&new).await? {
            CreatedOrder::Created(order) => Ok((order, true)),
            CreatedOrder::Existing(order) => Ok((order, false)),
        }
    }

    /// Fulfils a just-stored order on its own task, without waiting for the order worker, which
    /// handles one order at a time and claims each (a transaction of its own) before fulfilling
    /// it: concurrent submissions are then fulfilled concurrently, and an order goes through
    /// PROCESSING to its outcome in one transaction after the one that stored it (see
    /// `Order::begin_processing`). The order is durable
    /// before this starts, so if the process dies first, the worker of this or any other process
    /// finds it RECEIVED and fulfils it. Fulfilling is safe to race with the worker: the
    /// transaction that finds the order final does nothing. When too many are in flight the
    /// worker is woken instead.
    fn start_fulfilment(&self, id: OrderId) {
        let Ok(permit) = Arc::clone(&self.immediate_fulfilments).try_acquire_owned() else {
            self.orders_waiting.notify_one();
            return;
        };
        let service = self.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = service.fulfil(id).await {
                // The order stays RECEIVED; the worker's next pass retries it.
                tracing::warn!(order = %id, error = %e, "immediate fulfilment failed");
                service.orders_waiting.notify_one();
            }
        });
    }

    /// Submits and fulfils at once, for the dialects whose "order" is synchronous to the caller.
    pub async fn order_now(
        &self,
        account: AccountId,
        submission: OrderSubmission,
    ) -> Result<Order> {
        let (order, _) = self.store_order(account, submission).await?;
        self.fulfil(order.id()).await
    }

    /// One fulfilment attempt, retried while it loses races with other transactions.
    pub async fn fulfil(&self, id: OrderId) -> Result<Order> {
        let mut last = None;
        for _ in 0..FULFIL_ATTEMPTS {
            match self.store.fulfil_order(id, self.now()).await {
                Err(Error::Conflict {
                    kind: ConflictKind::Retry,
                    message,
                }) => last = Some(message),
                other => return other,
            }
            tokio::task::yield_now().await;
        }
        Err(Error::Unavailable(format!(
            "order {id} kept losing races: {}",
            last.unwrap_or_default()
        )))
    }

    pub async fn get_order(&self, principal: Principal, id: OrderId) -> Result<Order> {
        self.store
            .get_order(principal.scope(), id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Order, id))
    }

    pub async fn list_orders(
        &self,
        account: AccountId,
        filter: &OrderFilter,
    ) -> Result<Page<Order>> {
        let rows = self.store.list_orders(account, filter).await?;
        Ok(Page::from_overfetch(rows, filter.page_size, |o| {
            o.id().to_string()
        }))
    }

    pub async fn close_backorder(&self, account: AccountId, id: OrderId) -> Result<Order> {
        self.store
            .close_backorder(account, id, self.now())
            .await?
            .ok_or_else(|| Error::not_found(Resource::Order, id))
    }
}
