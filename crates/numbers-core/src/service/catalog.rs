//! Aggregate views of the inventory: which countries and types have numbers on offer, and how
//! many numbers an account holds under a filter.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::ids::AccountId;
use crate::number::NumberType;
use crate::store::NumberFilter;

use super::Service;

impl Service {
    /// Countries with numbers on offer now, each with its types (both sorted).
    pub async fn available_regions(&self) -> Result<BTreeMap<String, Vec<NumberType>>> {
        let mut regions: BTreeMap<String, Vec<NumberType>> = BTreeMap::new();
        for (country, number_type) in self.store.available_regions(self.now()).await? {
            let types = regions.entry(country).or_default();
            if !types.contains(&number_type) {
                types.push(number_type);
            }
        }
        for types in regions.values_mut() {
            types.sort();
        }
        Ok(regions)
    }

    pub async fn count_numbers(&self, account: AccountId, filter: &NumberFilter) -> Result<u64> {
        self.store.count_account_numbers(account, filter).await
    }
}
