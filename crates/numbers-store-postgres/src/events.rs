//! The event log: appending the events of a step inside its transaction, numbering them after
//! they commit, and listing them.
//!
//! `seq` must follow commit order, or a reader paging with `after_seq` could skip an event that
//! commits after a higher `seq` was already read. Handing `seq` out inside each step's
//! transaction needs those transactions to commit one at a time (an advisory lock from the
//! append to COMMIT): one WAL flush at a time, which held orders to ~400/s. Instead a step
//! appends its events to `event_queue` (migration 0012), unnumbered and without any lock, and
//! commits. The sequencer then moves every committed queued event into `events`, in queue order,
//! in one transaction that holds the sequencer lock (an advisory lock, so across processes too):
//! numbering transactions run one at a time, each hands out numbers above those of every one
//! committed before it, and readers only ever read `events`, so what they see is a prefix of the
//! log that only grows at its end. `qid` keeps a step's own events in order, and a step that
//! waited for another's row locks appends after that one committed, so its events come later.
//!
//! When numbering happens: after a commit that appended events the store nudges its background
//! task, which numbers whatever is queued (many steps' events per pass); and every read of the
//! log (`list_events`, `get_event`) first catches up: it waits for a pass that began after the
//! read was asked for, so a caller reads its own events and those of every step that committed
//! before, in any process. Events left queued by a process that died are numbered by the next
//! pass of any process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use deadpool_postgres::Pool;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::event::{Event, EventKind, NewEvent};
use numbers_core::ids::{AccountId, EventId};
use numbers_core::number::{E164, Number};
use numbers_core::store::{EventFilter, EventStore};
use tokio::sync::Notify;
use tokio_postgres::{Row, Transaction};

use crate::rows::get;
use crate::{Bind, PostgresStore, checkout, db_err, refs};

/// Arbitrary constant naming the sequencer lock among the server's advisory locks.
const EVENT_LOCK_KEY: i64 = 0x6e75_6d62_6576_6e74; // "numbevnt"

/// How often the background task vacuums `event_queue` (see `Sequencer::tidy`).
const VACUUM_EVERY: Duration = Duration::from_secs(1);

const EVENT_COLUMNS: &str = "id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details";

/// The import watermark of the digit index (`numbers_store_sql::digit_index`) for this store:
/// the seq of the latest numbered import, or -1 while an import's event is still queued (its
/// numbers are committed but the watermark cannot name them yet), which never matches an index.
pub(crate) const IMPORT_WATERMARK_SQL: &str = "SELECT CASE \
    WHEN EXISTS (SELECT 1 FROM event_queue WHERE kind = 'number.imported') THEN -1 \
    ELSE (SELECT COALESCE(MAX(seq), 0) FROM events WHERE kind = 'number.imported') END";

/// Numbers the events that `Sequencer` passes move from the queue into the log.
pub(crate) struct Sequencer {
    pool: Pool,
    /// Catch-up requests made so far; a pass covers every request made before it started.
    asked: AtomicU64,
    /// The latest request a finished pass covers.
    covered: AtomicU64,
    /// One pass at a time in this process; the advisory lock serialises processes.
    pass: tokio::sync::Mutex<()>,
    nudge: Arc<Notify>,
    /// When `tidy` last vacuumed the queue.
    vacuumed: Mutex<Instant>,
}

impl Sequencer {
    /// A sequencer with its background task (which ends when the sequencer is dropped).
    pub(crate) fn start(pool: Pool) -> Arc<Sequencer> {
        let sequencer = Arc::new(Sequencer {
            pool,
            asked: AtomicU64::new(0),
            covered: AtomicU64::new(0),
            pass: tokio::sync::Mutex::new(()),
            nudge: Arc::new(Notify::new()),
            vacuumed: Mutex::new(Instant::now()),
        });
        let nudge = Arc::clone(&sequencer.nudge);
        let weak: Weak<Sequencer> = Arc::downgrade(&sequencer);
        tokio::spawn(async move {
            loop {
                nudge.notified().await;
                let Some(sequencer) = weak.upgrade() else {
                    break;
                };
                // A failed pass loses nothing: the events stay queued for the next one.
                if let Err(e) = sequencer.catch_up().await {
                    tracing::warn!(error = %e, "numbering queued events failed");
                }
                sequencer.tidy().await;
            }
        });
        sequencer
    }

    /// Something was queued: number it soon (nudges during a pass make one more pass).
    pub(crate) fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// Returns once every event committed before the call is numbered. Concurrent callers share
    /// passes: whoever waited for the running one is covered by the next, run once for them all.
    pub(crate) async fn catch_up(&self) -> Result<()> {
        let ticket = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let _pass = self.pass.lock().await;
        if self.covered.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        let covers = self.asked.load(Ordering::SeqCst);
        number_queued(&self.pool).await?;
        self.covered.store(covers, Ordering::SeqCst);
        Ok(())
    }
}

impl Sequencer {
    /// Vacuums `event_queue` at most every `VACUUM_EVERY`. Every queued row is deleted a few
    /// milliseconds after it was written, and a pass scans the whole heap (dead rows included)
    /// to find what is queued: left to autovacuum, which looks at a table once a minute, the
    /// dead rows of a busy minute made each pass read megabytes. Vacuumed every second the
    /// table stays a few pages. Runs on the background task, never on a reader's path.
    async fn tidy(&self) {
        {
            let mut last = self
                .vacuumed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.elapsed() < VACUUM_EVERY {
                return;
            }
            *last = Instant::now();
        }
        let vacuumed = match checkout(&self.pool).await {
            Ok(client) => client
                .batch_execute("VACUUM event_queue")
                .await
                .map_err(db_err),
            Err(e) => Err(e),
        };
        if let Err(e) = vacuumed {
            tracing::warn!(error = %e, "vacuuming the event queue failed");
        }
    }
}

impl Drop for Sequencer {
    fn drop(&mut self) {
        // Wakes the background task, which then finds the sequencer gone and ends.
        self.nudge.notify_one();
    }
}

/// One pass: every queued event the pass can see, into `events` in queue order.
async fn number_queued(pool: &Pool) -> Result<()> {
    let mut client = checkout(pool).await?;
    // A snapshot taken now sees every step committed before the caller asked; when none of
    // their events is queued, all of them are numbered already (the pass that moved them
    // committed first), and a read needs no write transaction.
    let queued: bool = client
        .query_one("SELECT EXISTS (SELECT 1 FROM event_queue)", &[])
        .await
        .map_err(db_err)?
        .try_get(0)
        .map_err(db_err)?;
    if !queued {
        return Ok(());
    }
    let tx = client.transaction().await.map_err(db_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&EVENT_LOCK_KEY])
        .await
        .map_err(db_err)?;
    // Its snapshot is taken after the lock: it sees what every earlier pass moved.
    tx.execute(
        format!(
            "WITH moved AS (DELETE FROM event_queue RETURNING qid, {EVENT_COLUMNS}) \
             INSERT INTO events ({EVENT_COLUMNS}) SELECT {EVENT_COLUMNS} FROM moved ORDER BY qid"
        )
        .as_str(),
        &[],
    )
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}

/// An event about one number, carrying its new version.
pub(crate) fn number_event(
    kind: EventKind,
    at: Timestamp,
    n: &Number,
    account: Option<AccountId>,
) -> NewEvent {
    NewEvent {
        account_id: account,
        number_id: Some(n.id),
        e164: Some(n.e164.clone()),
        resource_version: n.version,
        ..NewEvent::new(kind, at)
    }
}

impl PostgresStore {
    /// Queues `events` in order and commits, then has them numbered (see the module comment).
    /// Must be the last thing a step does, after every row lock it takes.
    pub(crate) async fn append_and_commit(
        &self,
        tx: deadpool_postgres::Transaction<'_>,
        events: &[NewEvent],
    ) -> Result<()> {
        append(&tx, events).await?;
        tx.commit().await.map_err(db_err)?;
        if !events.is_empty() {
            self.sequencer.nudge();
        }
        Ok(())
    }
}

async fn append(tx: &Transaction<'_>, events: &[NewEvent]) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let n = events.len();
    let mut ids = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut ats = Vec::with_capacity(n);
    let mut accounts = Vec::with_capacity(n);
    let mut numbers = Vec::with_capacity(n);
    let mut e164s = Vec::with_capacity(n);
    let mut orders = Vec::with_capacity(n);
    let mut reservations = Vec::with_capacity(n);
    let mut versions = Vec::with_capacity(n);
    let mut details = Vec::with_capacity(n);
    for e in events {
        ids.push(e.id.to_string());
        kinds.push(e.kind.as_str().to_string());
        ats.push(to_millis(e.at));
        accounts.push(e.account_id.map(|v| v.to_string()));
        numbers.push(e.number_id.map(|v| v.to_string()));
        e164s.push(e.e164.as_ref().map(|v| v.as_str().to_string()));
        orders.push(e.order_id.map(|v| v.to_string()));
        reservations.push(e.reservation_id.map(|v| v.to_string()));
        versions.push(e.resource_version);
        details.push(serde_json::to_string(&e.details).map_err(Error::internal)?);
    }
    let params: Vec<Bind> = vec![
        Box::new(ids),
        Box::new(kinds),
        Box::new(ats),
        Box::new(accounts),
        Box::new(numbers),
        Box::new(e164s),
        Box::new(orders),
        Box::new(reservations),
        Box::new(versions),
        Box::new(details),
    ];
    // ORDER BY the array position so `qid` (and so `seq`) follows the order the step produced
    // the events in.
    tx.execute(
        "INSERT INTO event_queue (id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details) \
         SELECT id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details \
         FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], \
                     $9::BIGINT[], $10::TEXT[]) \
              WITH ORDINALITY AS u(id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details, pos) \
         ORDER BY pos",
        &refs(&params),
    )
    .await
    .map_err(db_err)?;
    Ok(())
}

fn parse_id<T: std::str::FromStr<Err = Error>>(what: &str, s: Option<String>) -> Result<Option<T>> {
    s.map(|v| {
        v.parse::<T>()
            .map_err(|_| Error::internal(format!("stored event {what} '{v}' is not a UUID")))
    })
    .transpose()
}

pub(crate) fn event_from_row(row: &Row) -> Result<Event> {
    let kind: String = get(row, 2)?;
    let details: String = get(row, 10)?;
    let id: String = get(row, 1)?;
    Ok(Event {
        seq: get(row, 0)?,
        event: NewEvent {
            id: id
                .parse::<EventId>()
                .map_err(|_| Error::internal(format!("stored event id '{id}' is not a UUID")))?,
            kind: EventKind::parse(&kind)
                .ok_or_else(|| Error::internal(format!("stored event kind '{kind}' is unknown")))?,
            at: from_millis(get(row, 3)?),
            account_id: parse_id("account_id", get(row, 4)?)?,
            number_id: parse_id("number_id", get(row, 5)?)?,
            e164: get::<Option<String>>(row, 6)?.map(E164::from_trusted),
            order_id: parse_id("order_id", get(row, 7)?)?,
            reservation_id: parse_id("reservation_id", get(row, 8)?)?,
            resource_version: get(row, 9)?,
            details: serde_json::from_str(&details)
                .map_err(|e| Error::internal(format!("stored event details: {e}")))?,
        },
    })
}

#[async_trait]
impl EventStore for PostgresStore {
    async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>> {
        self.sequencer.catch_up().await?;
        let mut clauses = Vec::new();
        let mut params: Vec<Bind> = Vec::new();
        let mut push = |clause: &str, value: Bind| {
            params.push(value);
            clauses.push(format!("{clause} ${}", params.len()));
        };
        if let Some(a) = filter.account {
            push("account_id =", Box::new(a.to_string()));
        }
        if let Some(e) = &filter.e164 {
            push("e164 =", Box::new(e.as_str().to_string()));
        }
        if let Some(o) = filter.order {
            push("order_id =", Box::new(o.to_string()));
        }
        if let Some(after) = filter.after_seq {
            push("seq >", Box::new(after));
        }
        let where_clause = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        params.push(Box::new(i64::from(filter.limit)));
        let sql = format!(
            "SELECT seq, id, kind, at, account_id, number_id, e164, order_id, reservation_id, resource_version, details \
             FROM events {where_clause} ORDER BY seq LIMIT ${}",
            params.len()
        );
        let client = self.client().await?;
        let rows = client
            .query(sql.as_str(), &refs(&params))
            .await
            .map_err(db_err)?;
        rows.iter().map(event_from_row).collect()
    }
}
