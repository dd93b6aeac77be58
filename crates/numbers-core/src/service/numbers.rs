//! An account's own numbers: list, read, update assignment data, release into aging, history.

use crate::account::Principal;
use crate::error::{Error, Resource, Result};
use crate::event::Event;
use crate::ids::AccountId;
use crate::number::assignment::AssignmentPatch;
use crate::number::{E164, Number};
use crate::page::Page;
use crate::store::{EventFilter, NumberFilter};

use super::Service;

pub const MAX_EVENTS_PAGE: u32 = 1000;

/// How a release treats the number afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseMode {
    /// Into aging for the configured period; the releasing account may reclaim it meanwhile.
    Normal,
    /// Back on offer at once (Bandwidth's purge disconnect).
    Purge,
}

impl Service {
    pub async fn list_numbers(
        &self,
        account: AccountId,
        filter: &NumberFilter,
    ) -> Result<Page<Number>> {
        let rows = self.store.list_account_numbers(account, filter).await?;
        Ok(Page::from_overfetch(rows, filter.page_size, |n| {
            n.e164.as_str().to_string()
        }))
    }

    /// A number ASSIGNED to the account; anything else is not found.
    pub async fn owned_number(&self, account: AccountId, e164: &E164) -> Result<Number> {
        match self.store.get_number(e164).await? {
            Some(n) if n.is_assigned_to(account) => Ok(n),
            _ => Err(Error::not_found(Resource::Number, e164)),
        }
    }

    pub async fn update_number(
        &self,
        account: AccountId,
        e164: &E164,
        patch: &AssignmentPatch,
    ) -> Result<Number> {
        self.check_callback_url(patch.callback_url.as_ref().and_then(Option::as_deref))?;
        if patch.is_empty() {
            return self.owned_number(account, e164).await;
        }
        self.store
            .update_assignment(account, e164, patch, self.now())
            .await
    }

    pub async fn release_number(
        &self,
        account: AccountId,
        e164: &E164,
        mode: ReleaseMode,
    ) -> Result<Number> {
        let number = self.owned_number(account, e164).await?;
        let now = self.now();
        let available_after = match mode {
            ReleaseMode::Normal => {
                now + self
                    .config
                    .aging
                    .period_for(&number.country, number.number_type)
            }
            ReleaseMode::Purge => now,
        };
        let released = self
            .store
            .release_number(account, e164, available_after, now)
            .await?;
        if mode == ReleaseMode::Purge {
            self.inventory_changed.notify_one();
        }
        Ok(released)
    }

    /// The history of one number. A tenant sees only the events of its own time with the number
    /// (and nothing at all of a number it never held); the operator sees everything.
    pub async fn number_history(
        &self,
        principal: Principal,
        e164: &E164,
        after_seq: Option<i64>,
        limit: u32,
    ) -> Result<Page<Event>> {
        let filter = EventFilter {
            account: principal.scope(),
            e164: Some(e164.clone()),
            after_seq,
            ..Default::default()
        };
        let page = self.event_page(filter, limit).await?;
        if page.items.is_empty() && after_seq.is_none() && principal.scope().is_some() {
            return Err(Error::not_found(Resource::Number, e164));
        }
        Ok(page)
    }

    /// Events of an account (or every event, for the operator), in commit order.
    pub async fn events(
        &self,
        principal: Principal,
        after_seq: Option<i64>,
        limit: u32,
    ) -> Result<Page<Event>> {
        let filter = EventFilter {
            account: principal.scope(),
            after_seq,
            ..Default::default()
        };
        self.event_page(filter, limit).await
    }

    /// One page of the filtered log (`limit` clamped to 1..=MAX_EVENTS_PAGE).
    async fn event_page(&self, mut filter: EventFilter, limit: u32) -> Result<Page<Event>> {
        let limit = limit.clamp(1, MAX_EVENTS_PAGE);
        filter.limit = limit + 1;
        let events = self.store.list_events(&filter).await?;
        Ok(Page::from_overfetch(events, limit, |e| e.seq.to_string()))
    }
}
