//! `numbersd inventory import FILE` and `numbersd inventory generate`: stream numbers into the
//! store in batches (one transaction each), with a progress bar and a report of rejected rows.
//! A thread of its own reads (parses the CSV, or generates) the next batches while the store
//! writes the current one, so the two overlap on a multi-core machine.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use numbers_core::account::Principal;
use numbers_core::number::NewNumber;
use numbers_core::service::{MAX_IMPORT_BATCH, Service};
use numbers_inventory::{CsvImporter, RejectedRow};
use serde_json::json;

/// Numbers per transaction for generated inventory and the CLI's default: larger batches
/// amortise each commit's WAL write of the index pages the batch touched (see docs/PERFORMANCE.md).
pub const BULK_BATCH: usize = MAX_IMPORT_BATCH;

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportSummary {
    pub inserted: u64,
    pub existing: u64,
    pub rejected: Vec<RejectedRow>,
    /// The whole run: loading, then rebuilding the search indexes a bulk load set aside.
    pub seconds: f64,
    /// Of `seconds`, the time spent rebuilding the search indexes (and their statistics).
    pub index_seconds: f64,
}

impl ImportSummary {
    /// Rows read: inserted, already present or rejected.
    pub fn rows(&self) -> u64 {
        self.inserted + self.existing + self.rejected.len() as u64
    }
}

fn bar(len: Option<u64>) -> ProgressBar {
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    let style = ProgressStyle::with_template(
        "{spinner} {wide_bar} {pos}/{len} numbers ({per_sec}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

async fn flush(
    service: &Service,
    batch: &mut Vec<NewNumber>,
    summary: &mut ImportSummary,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let outcome = service
        .import_numbers(Principal::Operator, batch)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    summary.inserted += outcome.inserted;
    summary.existing += outcome.existing.len() as u64;
    bar.inc(batch.len() as u64);
    batch.clear();
    Ok(())
}

/// One batch from the reader thread: numbers to insert, and the rows rejected before them.
type Read = (Vec<NewNumber>, Vec<RejectedRow>);

/// Streams `numbers` into the store in batches of `batch_size`.
pub async fn import_stream(
    service: &Service,
    numbers: impl Iterator<Item = Result<NewNumber, RejectedRow>> + Send + 'static,
    batch_size: usize,
    expected: Option<u64>,
    show_progress: bool,
) -> anyhow::Result<ImportSummary> {
    let started = Instant::now();
    let batch_size = batch_size.clamp(1, MAX_IMPORT_BATCH);
    let bar = if show_progress {
        bar(expected)
    } else {
        ProgressBar::hidden()
    };
    let mut summary = ImportSummary::default();
    let core = |e: numbers_core::Error| anyhow::anyhow!("{e}");
    // Batches of numbers, and the rows rejected while reading them, from the reader thread. A
    // few batches ahead is enough to keep the writer busy and bounds memory.
    let (batches, mut incoming) = tokio::sync::mpsc::channel::<Read>(4);
    let reader = std::thread::Builder::new()
        .name("inventory-reader".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(batch_size);
            let mut rejected = Vec::new();
            for item in numbers {
                match item {
                    Ok(number) => {
                        batch.push(number);
                        if batch.len() >= batch_size {
                            let full =
                                std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                            // The writer stopped (a failed batch): stop reading.
                            if batches
                                .blocking_send((full, std::mem::take(&mut rejected)))
                                .is_err()
                            {
                                return;
                            }
                        }
                    }
                    Err(row) => rejected.push(row),
                }
            }
            let _ = batches.blocking_send((batch, rejected));
        })
        .context("starting the inventory reader thread")?;
    // (Should this fail, dropping `incoming` stops the reader.)
    // Into an empty inventory, the store builds its search indexes once at the end.
    let deferred = service
        .begin_bulk_import(Principal::Operator)
        .await
        .map_err(core)?;
    let loaded = async {
        while let Some((mut batch, rejected)) = incoming.recv().await {
            summary.rejected.extend(rejected);
            flush(service, &mut batch, &mut summary, &bar).await?;
        }
        anyhow::Ok(())
    }
    .await;
    // Ends the reader if the load failed half-way (its next send fails).
    drop(incoming);
    let _ = reader.join();
    bar.finish_and_clear();
    if deferred && show_progress {
        eprintln!("building the search indexes…");
    }
    // Also after a failed load: the indexes must come back either way.
    let rebuilding = Instant::now();
    let rebuilt = service
        .finish_bulk_import(Principal::Operator)
        .await
        .map_err(core);
    loaded?;
    rebuilt?;
    summary.index_seconds = rebuilding.elapsed().as_secs_f64();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

pub async fn import_file(
    service: &Service,
    path: &Path,
    batch_size: usize,
    json_out: bool,
) -> anyhow::Result<ImportSummary> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let importer = CsvImporter::new(BufReader::with_capacity(1 << 20, file))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let summary = import_stream(service, importer, batch_size, None, !json_out).await?;
    if json_out {
        println!(
            "{}",
            json!({"inserted": summary.inserted, "existing": summary.existing, "rejected": summary.rejected, "seconds": summary.seconds, "index_seconds": summary.index_seconds})
        );
    } else {
        for row in &summary.rejected {
            eprintln!("rejected {row}");
        }
        println!(
            "imported {} new numbers ({} already present, {} rejected) in {:.1}s ({:.0} rows/s; \
             search indexes {:.1}s of it)",
            summary.inserted,
            summary.existing,
            summary.rejected.len(),
            summary.seconds,
            summary.rows() as f64 / summary.seconds.max(1e-9),
            summary.index_seconds
        );
    }
    Ok(summary)
}

pub async fn generate(
    service: &Service,
    count: u64,
    seed: u64,
    batch_size: usize,
    show_progress: bool,
) -> anyhow::Result<ImportSummary> {
    let numbers = numbers_inventory::generate(count, seed).map(Ok);
    let summary = import_stream(service, numbers, batch_size, Some(count), show_progress).await?;
    Ok(summary)
}
