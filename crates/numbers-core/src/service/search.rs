//! Search over available inventory, inventory import and look-ups of single numbers.

use crate::account::Principal;
use crate::error::{Error, FieldErrorKind, Limit, Resource, Result};
use crate::ids::NumberId;
use crate::number::{E164, NewNumber, Number, NumberState};
use crate::page::Page;
use crate::search::SearchQuery;
use crate::store::{ImportOutcome, InventoryStats, SearchBudget};

use super::Service;

/// How many numbers one import call may carry; the CLI streams files in batches of this size.
pub const MAX_IMPORT_BATCH: usize = 10_000;

impl Service {
    /// A page of the numbers on offer matching `query`, searched by `caller` (an account runs a
    /// few searches at once, `search_lanes::PER_ACCOUNT_AT_ONCE`). Quick first; a search that needs more
    /// reading than that runs in the thorough lane (`search_lanes`), or is refused with 503
    /// when that lane is full, and with 400 when even a thorough budget does not fill its page.
    pub async fn search(&self, caller: Principal, query: &SearchQuery) -> Result<Page<Number>> {
        let lanes = &self.search_lanes;
        let _turn = lanes.turn(caller).await;
        let now = self.now();
        let quick = if lanes.known_expensive(query) {
            None
        } else {
            match self
                .store
                .search_available_within(query, now, SearchBudget::Quick)
                .await
            {
                Err(Error::OverLimit(Limit::SearchTooBroad)) => {
                    lanes.remember_expensive(query);
                    None
                }
                other => Some(other),
            }
        };
        let rows = match quick {
            Some(rows) => rows?,
            None => {
                lanes
                    .thorough(self.store.search_available_within(
                        query,
                        now,
                        SearchBudget::Thorough,
                    ))
                    .await?
            }
        };
        Ok(Page::from_overfetch(rows, query.page_size, |n| {
            n.e164.as_str().to_string()
        }))
    }

    /// Before importing a large batch of numbers into what may be an empty inventory (the CLI's
    /// `inventory import` / `generate`): see `BulkLoadStore`. Always pair with
    /// `finish_bulk_import`, also when the import fails.
    pub async fn begin_bulk_import(&self, principal: Principal) -> Result<bool> {
        principal.require_operator()?;
        self.store.begin_bulk_load().await
    }

    pub async fn finish_bulk_import(&self, principal: Principal) -> Result<()> {
        principal.require_operator()?;
        self.store.finish_bulk_load().await
    }

    pub async fn import_numbers(
        &self,
        principal: Principal,
        numbers: &[NewNumber],
    ) -> Result<ImportOutcome> {
        principal.require_operator()?;
        if numbers.len() > MAX_IMPORT_BATCH {
            return Err(Error::invalid_as(
                FieldErrorKind::TooMany,
                "numbers",
                format!("at most {MAX_IMPORT_BATCH} numbers per call"),
            ));
        }
        let outcome = self.store.import_numbers(numbers, self.now()).await?;
        if outcome.inserted > 0 {
            self.inventory_changed.notify_one();
        }
        Ok(outcome)
    }

    pub async fn inventory_stats(&self, principal: Principal) -> Result<InventoryStats> {
        principal.require_operator()?;
        self.store.inventory_stats().await
    }

    /// A number as its viewer may see it: the operator sees every number; an account sees numbers
    /// on offer, its own, and the ones it reserved or may still reclaim. Anything else is "not
    /// found", so tenants learn nothing about each other's numbers.
    pub async fn number_visible_to(
        &self,
        principal: Principal,
        number: Option<Number>,
        id: &str,
    ) -> Result<Number> {
        let now = self.now();
        let number = number.ok_or_else(|| Error::not_found(Resource::Number, id))?;
        let visible = match principal {
            Principal::Operator => true,
            Principal::Account(me) => {
                number.is_publicly_available(now)
                    || number.owner == Some(me)
                    || (number.state == NumberState::Aging && number.last_owner == Some(me))
            }
        };
        if visible {
            Ok(number)
        } else {
            Err(Error::not_found(Resource::Number, id))
        }
    }

    pub async fn number_by_id(&self, principal: Principal, id: NumberId) -> Result<Number> {
        let number = self.store.get_number_by_id(id).await?;
        self.number_visible_to(principal, number, &id.to_string())
            .await
    }

    pub async fn number_by_e164(&self, principal: Principal, e164: &E164) -> Result<Number> {
        let number = self.store.get_number(e164).await?;
        self.number_visible_to(principal, number, e164.as_str())
            .await
    }
}
