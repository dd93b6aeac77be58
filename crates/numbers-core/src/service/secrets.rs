//! Secrets at rest, the service side (see `sealing`): the re-seal pass that brings every stored
//! secret under the current key — at start-up, once per key (a database from before sealing has
//! its secrets in clear; a new server secret leaves values under the previous one), and on demand
//! (`numbersd secrets rotate`). It walks the sealed columns page by page, each page one
//! transaction, so it never holds a long lock and can be interrupted and run again.

use crate::error::Result;
use crate::service::Service;
use crate::store::ResealCursor;

/// Rows per re-seal transaction.
const RESEAL_PAGE: u32 = 500;

/// What a re-seal pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResealReport {
    /// The key everything is sealed with now (`None`: no server secret, nothing was done).
    pub key_id: Option<String>,
    /// False when a previous complete pass had already left everything under this key.
    pub ran: bool,
    pub examined: u64,
    /// Values found in clear and sealed.
    pub sealed: u64,
    /// Values found under a previous key and sealed with the current one.
    pub resealed: u64,
}

impl Service {
    /// Seals every stored secret with the current key. Unless `force`, skipped when a complete
    /// pass already did so for this key (the start-up case).
    pub async fn reseal_secrets(&self, force: bool) -> Result<ResealReport> {
        let Some(key_id) = self.store.sealing_key_id() else {
            return Ok(ResealReport::default());
        };
        let mut report = ResealReport {
            key_id: Some(key_id.clone()),
            ..Default::default()
        };
        if !force && self.store.secrets_sealed_with().await?.as_deref() == Some(key_id.as_str()) {
            return Ok(report);
        }
        report.ran = true;
        let mut cursor: Option<ResealCursor> = None;
        loop {
            let page = self
                .store
                .reseal_secrets(cursor.as_ref(), RESEAL_PAGE)
                .await?;
            report.examined += page.examined;
            report.sealed += page.sealed;
            report.resealed += page.resealed;
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        if report.sealed + report.resealed > 0 {
            self.store.compact_after_reseal().await?;
        }
        self.store
            .set_secrets_sealed_with(&key_id, self.now())
            .await?;
        Ok(report)
    }
}
