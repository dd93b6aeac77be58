//! The steps the background workers repeat: take the next order, retry backorders, expire
//! number orders and reservations, end aging. Each is one or a few store transactions, safe to run from several
//! processes at once, so a crash loses nothing that was committed.

use crate::error::Result;

use super::Service;

const SWEEP_BATCH: u32 = 500;
const BACKORDER_BATCH: u32 = 100;

/// What one maintenance pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    pub reservations_expired: u32,
    pub numbers_aged: u32,
    pub backorders_retried: u32,
    pub number_orders_expired: u32,
    pub provisioning_tasks_run: u32,
    pub access_tokens_pruned: u32,
}

impl Service {
    /// Claims and fulfils one waiting order; false when there was none.
    pub async fn process_next_order(&self) -> Result<bool> {
        let now = self.now();
        let Some(id) = self
            .store
            .claim_next_order(now, now + self.config.order_lease)
            .await?
        else {
            return Ok(false);
        };
        self.fulfil(id).await?;
        Ok(true)
    }

    pub async fn retry_backorders(&self) -> Result<u32> {
        let ids = self.store.backordered_orders(BACKORDER_BATCH).await?;
        for id in &ids {
            self.fulfil(*id).await?;
        }
        Ok(ids.len() as u32)
    }

    /// Runs every sweep once, until each has nothing left to do at the current time.
    pub async fn run_maintenance(&self) -> Result<MaintenanceReport> {
        // Number orders first, so numbers held by one are released as that order's expiry (its
        // reservation expires at the same instant).
        let mut report = MaintenanceReport {
            number_orders_expired: self.expire_number_orders().await?,
            ..MaintenanceReport::default()
        };
        loop {
            let n = self
                .store
                .expire_reservations(self.now(), SWEEP_BATCH)
                .await?;
            report.reservations_expired += n;
            if n < SWEEP_BATCH {
                break;
            }
        }
        loop {
            let n = self.store.age_numbers(self.now(), SWEEP_BATCH).await?;
            report.numbers_aged += n;
            if n < SWEEP_BATCH {
                break;
            }
        }
        if report.reservations_expired > 0 || report.numbers_aged > 0 {
            self.inventory_changed.notify_one();
        }
        report.backorders_retried = self.retry_backorders().await?;
        while self.process_next_provisioning().await? {
            report.provisioning_tasks_run += 1;
        }
        report.access_tokens_pruned = self.prune_access_tokens().await?;
        Ok(report)
    }
}
