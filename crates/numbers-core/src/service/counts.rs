//! Totals of an account's order and disconnect lists (Bandwidth's `TotalCount`), counted by the
//! store in one query (`CountStore`).

use crate::error::Result;
use crate::ids::AccountId;
use crate::store::{Counted, DisconnectFilter, OrderFilter};

use super::Service;

impl Service {
    /// How many of the account's orders the filter matches, over all pages.
    pub async fn count_orders(&self, account: AccountId, filter: &OrderFilter) -> Result<u64> {
        self.store.count(account, Counted::Orders(filter)).await
    }

    /// How many of the account's disconnects the filter matches, over all pages.
    pub async fn count_disconnects(
        &self,
        account: AccountId,
        filter: &DisconnectFilter,
    ) -> Result<u64> {
        self.store
            .count(account, Counted::Disconnects(filter))
            .await
    }
}
