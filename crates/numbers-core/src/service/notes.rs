//! Notes on orders and an order's history (its events, in commit order).

use crate::account::Principal;
use crate::error::{Error, Resource, Result};
use crate::event::Event;
use crate::ids::{AccountId, OrderId};
use crate::note::{NoteText, OrderNote};
use crate::store::EventFilter;

use super::Service;
use super::numbers::MAX_EVENTS_PAGE;

impl Service {
    pub async fn add_order_note(
        &self,
        account: AccountId,
        order: OrderId,
        text: &NoteText,
    ) -> Result<OrderNote> {
        self.store
            .add_order_note(account, order, text, self.now())
            .await?
            .ok_or_else(|| Error::not_found(Resource::Order, order))
    }

    pub async fn list_order_notes(
        &self,
        account: AccountId,
        order: OrderId,
    ) -> Result<Vec<OrderNote>> {
        self.store
            .list_order_notes(account, order)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Order, order))
    }

    /// The events of one of the account's orders (at most `MAX_EVENTS_PAGE`), oldest first.
    pub async fn order_history(&self, account: AccountId, order: OrderId) -> Result<Vec<Event>> {
        self.get_order(Principal::Account(account), order).await?;
        self.store
            .list_events(&EventFilter {
                account: Some(account),
                order: Some(order),
                limit: MAX_EVENTS_PAGE,
                ..Default::default()
            })
            .await
    }
}
