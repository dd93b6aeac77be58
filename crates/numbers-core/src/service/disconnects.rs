//! Disconnect orders: submission, reading, and the worker's processing step (one transaction per
//! disconnect, see `DisconnectStore::process_next_disconnect`).

use crate::disconnect::{Disconnect, DisconnectMode, NewDisconnect, ProtectedChange};
use crate::error::{Error, Resource, Result};
use crate::ids::{AccountId, DisconnectId};
use crate::number::E164;
use crate::page::Page;
use crate::store::DisconnectFilter;

use super::Service;

/// What a client asks to disconnect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisconnectSubmission {
    pub numbers: Vec<E164>,
    pub mode: DisconnectMode,
    pub protected: ProtectedChange,
    pub name: Option<String>,
    pub customer_order_id: Option<String>,
}

impl Service {
    /// Stores a RECEIVED disconnect and wakes the worker.
    pub async fn submit_disconnect(
        &self,
        account: AccountId,
        submission: DisconnectSubmission,
    ) -> Result<Disconnect> {
        let new = NewDisconnect {
            id: DisconnectId::new(),
            account,
            numbers: submission.numbers,
            mode: submission.mode,
            protected: submission.protected,
            name: submission.name,
            customer_order_id: submission.customer_order_id,
            created_at: self.now(),
        };
        new.validate()?;
        let disconnect = self.store.create_disconnect(&new).await?;
        self.orders_waiting.notify_one();
        Ok(disconnect)
    }

    pub async fn get_disconnect(&self, account: AccountId, id: DisconnectId) -> Result<Disconnect> {
        self.store
            .get_disconnect(account, id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Disconnect, id))
    }

    pub async fn list_disconnects(
        &self,
        account: AccountId,
        filter: &DisconnectFilter,
    ) -> Result<Page<Disconnect>> {
        let rows = self.store.list_disconnects(account, filter).await?;
        Ok(Page::from_overfetch(rows, filter.page_size, |d| {
            d.id().to_string()
        }))
    }

    /// Processes one waiting disconnect; false when there was none.
    pub async fn process_next_disconnect(&self) -> Result<bool> {
        let done = self
            .store
            .process_next_disconnect(&self.config.disconnect_aging, self.now())
            .await?;
        match done {
            Some(d) => {
                if d.new.mode == DisconnectMode::Purge && d.disconnected().next().is_some() {
                    self.inventory_changed.notify_one();
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Every number the account has disconnected (newest disconnect first, each number once).
    pub async fn disconnected_numbers(&self, account: AccountId) -> Result<Vec<E164>> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut filter = DisconnectFilter {
            page_size: 1000,
            ..Default::default()
        };
        loop {
            let page = self.store.list_disconnects(account, &filter).await?;
            let more = page.len() > filter.page_size as usize;
            for d in page.iter().take(filter.page_size as usize) {
                for e164 in d.disconnected() {
                    if seen.insert(e164.clone()) {
                        out.push(e164.clone());
                    }
                }
                filter.before = Some(d.id());
            }
            if !more {
                return Ok(out);
            }
        }
    }
}
