//! Connections and errors: where the database file is, how each connection is configured, the
//! single writer plus small reader pool every call runs on, and how rusqlite errors become
//! domain errors. Nothing here knows about numbers or orders.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, mpsc};
use std::time::Duration;

use tokio::sync::oneshot;

use numbers_core::error::{Error, Result};
use numbers_store_sql::SqlValue;
use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

/// Readers serve the read-only calls concurrently with the writer (WAL lets them); a handful is
/// plenty on the small machines SQLite deployments run on.
const READERS: usize = 4;
/// Each search shape is its own SQL text; keep enough of them prepared.
const STATEMENT_CACHE: usize = 128;
/// How long a connection waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);

/// `sqlite://path`, `sqlite:path` or a bare path → the file path (query string dropped).
pub fn path_from_url(url: &str) -> Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let rest = rest.split_once('?').map_or(rest, |(path, _)| path);
    if rest.is_empty() || rest == ":memory:" {
        // A memory database would be different per connection of the pool: refuse it clearly.
        return Err(Error::invalid(
            "database_url",
            "must name a database file, e.g. sqlite://data/numbersd.db",
        ));
    }
    Ok(PathBuf::from(rest))
}

fn configure(conn: &Connection, reader: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // journal_mode answers with a row, so it cannot go through execute_batch.
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(
            mode,
            "SQLite refused WAL journal mode; readers will block the writer"
        );
    }
    // NORMAL is durable in WAL mode against process crashes (only an OS crash / power loss may
    // drop the last transactions), and avoids an fsync per commit.
    conn.execute_batch(
        "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
    )?;
    if reader {
        // Belt and braces: a reader connection can never write by accident.
        conn.execute_batch("PRAGMA query_only=ON;")?;
    } else {
        // A larger page cache keeps the indexes of a bulk import in memory (256 MiB; pages are
        // allocated as they are used, so a small database never pays for it). A larger WAL
        // between checkpoints (64 MiB instead of 4) lets a page that several commits of an
        // import touch be copied into the database once, not once per commit.
        // Two sorter threads: CREATE INDEX after a bulk load sorts on both cores.
        conn.execute_batch(
            "PRAGMA cache_size=-262144; PRAGMA wal_autocheckpoint=16384; PRAGMA threads=2;",
        )?;
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

fn open_connection(path: &Path, reader: bool) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| {
        Error::Unavailable(format!(
            "cannot open SQLite database {}: {e}",
            path.display()
        ))
    })?;
    configure(&conn, reader).db()?;
    Ok(conn)
}

/// Write jobs taken into one transaction at most: a burst of concurrent writers commits
/// together, while one that waits behind a long job waits for at most this many more.
const MAX_GROUP: usize = 64;

/// A write request on its way to the writer thread: the work, type-erased, and where its result
/// goes once the transaction it ran in has committed (or failed).
struct WriteJob {
    work: Box<dyn FnOnce(&Connection) -> JobResult + Send>,
    reply: oneshot::Sender<JobResult>,
}

/// A write request's result, type-erased on its way back (`Pool::write` restores the type).
type JobResult = Result<Box<dyn Any + Send>>;

/// One writer (SQLite has one anyway; holding it in-process makes every "read, decide,
/// conditionally update" step race-free) and a few readers.
///
/// The writer is a thread of its own that commits in groups: it takes every write request
/// queued at that moment (up to `MAX_GROUP`), runs each inside a savepoint of one `BEGIN
/// IMMEDIATE` transaction — a request that fails is rolled back to its savepoint alone — and
/// commits once, then answers them all. Each request is still atomic and sees exactly what the
/// requests before it wrote, as if they ran one after another; nobody hears of a write before
/// its commit, so nothing answered is lost that a one-transaction-per-request writer would
/// have kept. What it saves is a commit (WAL frames, lock release and re-acquire) and a thread
/// hand-off per request when many arrive at once, which is what concurrent orders are.
pub(crate) struct Pool {
    pub(crate) path: PathBuf,
    jobs: mpsc::Sender<WriteJob>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// The connection of thorough searches (`read_thorough`): one at a time may read up to the
    /// thorough budget, hundreds of milliseconds, and must not hold a reader that quick reads
    /// queue for.
    thorough: Mutex<Connection>,
}

/// A panic while holding a connection leaves it usable (an open transaction rolls back when its
/// guard is dropped during unwinding), so a poisoned lock is simply taken over.
fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Pool {
    /// Opens the writer first (it creates the file and switches it to WAL), then the readers.
    pub(crate) fn open(path: PathBuf) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                Error::Unavailable(format!("cannot create directory {}: {e}", parent.display()))
            })?;
        }
        crate::files::prepare(&path)?;
        let writer = open_connection(&path, false)?;
        crate::migrate::run(&writer)?;
        // A bulk load that died half-way left its search indexes out: build them now.
        ensure_search_indexes(&writer)?;
        drop_value_samples(&writer)?;
        // No `PRAGMA optimize` here: since SQLite 3.46 it re-analyses with a small sampling limit,
        // which reads only the first entries of each index and leaves statistics that mislead
        // the planner (measured: country searches 0.7 ms → 800 ms at 1M numbers after a
        // restart). Statistics come from the full ANALYZE at the end of every bulk load
        // (`finish_bulk_load`), and the search SQL is shaped so that a plan does not hinge on
        // them (`SqlParams::unindexed`).
        let readers = (0..READERS)
            .map(|_| open_connection(&path, true).map(Mutex::new))
            .collect::<Result<Vec<_>>>()?;
        let thorough = Mutex::new(open_connection(&path, true)?);
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run_writer(writer, queue))
            .map_err(|e| Error::Unavailable(format!("cannot start the SQLite writer: {e}")))?;
        Ok(Pool {
            path,
            jobs,
            readers,
            next_reader: AtomicUsize::new(0),
            thorough,
        })
    }

    /// Runs `f` on the writer thread inside the group's transaction (see `Pool`); its result
    /// once that transaction has committed. An `Err` from `f` undoes what `f` wrote.
    pub(crate) fn write<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + use<T, F>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = WriteJob {
            work: Box::new(move |conn| f(conn).map(|out| Box::new(out) as Box<dyn Any + Send>)),
            reply,
        };
        let sent = self.jobs.send(job);
        async move {
            sent.map_err(|_| Error::Unavailable("the SQLite writer has stopped".into()))?;
            let out = answer
                .await
                .map_err(|_| Error::internal("the SQLite writer dropped a request"))??;
            out.downcast::<T>()
                .map(|out| *out)
                .map_err(|_| Error::internal("the SQLite writer answered with another type"))
        }
    }

    /// Runs `f` in a read transaction, so a call that reads several statements sees one snapshot.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        // Take a free reader if there is one, else queue on the next in turn.
        let mut guard = self.readers.iter().find_map(|m| m.try_lock().ok());
        if guard.is_none() {
            let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len().max(1);
            guard = self.readers.get(i).map(lock);
        }
        let Some(mut conn) = guard else {
            return Err(Error::internal("the SQLite store has no reader connection"));
        };
        read_in(&mut conn, f)
    }

    /// `read` on the thorough searches' own connection (see `thorough`).
    pub(crate) fn read_thorough<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        read_in(&mut lock(&self.thorough), f)
    }
}

/// Runs `f` in a read transaction on `conn`.
fn read_in<T>(conn: &mut Connection, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Deferred)
        .db()?;
    let out = f(&tx)?;
    // Nothing to commit; ending the read transaction releases the WAL snapshot.
    tx.commit().db()?;
    Ok(out)
}

/// The writer thread: one group of queued requests per transaction until the pool is dropped.
fn run_writer(conn: Connection, queue: mpsc::Receiver<WriteJob>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        run_group(&conn, group);
    }
}

fn run_group(conn: &Connection, group: Vec<WriteJob>) {
    let mut answers: Vec<(oneshot::Sender<JobResult>, JobResult)> = Vec::with_capacity(group.len());
    let mut jobs = group.into_iter();
    let outcome = (|| {
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| format!("sqlite: cannot begin a write transaction: {e}"))?;
        for job in jobs.by_ref() {
            conn.execute_batch("SAVEPOINT job")
                .map_err(|e| format!("sqlite: {e}"))?;
            // A panicking request must take neither the writer thread nor the process with it.
            let Ok(out) = std::panic::catch_unwind(AssertUnwindSafe(|| (job.work)(conn))) else {
                answers.push((job.reply, Err(Error::internal("a write request panicked"))));
                return Err("a write request panicked; its group was rolled back".to_string());
            };
            let end = if out.is_ok() {
                "RELEASE job"
            } else {
                "ROLLBACK TO job; RELEASE job"
            };
            answers.push((job.reply, out));
            conn.execute_batch(end)
                .map_err(|e| format!("sqlite: {e}"))?;
        }
        conn.execute_batch("COMMIT")
            .map_err(|e| format!("sqlite: commit failed: {e}"))
    })();
    match outcome {
        Ok(()) => {
            for (reply, out) in answers {
                let _ = reply.send(out);
            }
        }
        Err(why) => {
            // Nothing of the group was committed: everyone in it hears so, none is answered Ok.
            let _ = conn.execute_batch("ROLLBACK");
            let replies = answers.into_iter().map(|(reply, _)| reply);
            for reply in replies.chain(jobs.map(|job| job.reply)) {
                let _ = reply.send(Err(Error::internal(why.clone())));
            }
        }
    }
}

/// Creates every search index that is missing (`numbers_store_sql::search_indexes`); a no-op
/// when they all exist.
pub(crate) fn ensure_search_indexes(conn: &Connection) -> Result<()> {
    for (_, sql) in numbers_store_sql::search_indexes() {
        conn.execute_batch(&sql).db()?;
    }
    Ok(())
}

/// Keeps ANALYZE's per-index statistics (`sqlite_stat1`) but drops its value samples
/// (`sqlite_stat4`, collected because the bundled SQLite is built with STAT4). With samples, a
/// plan depends on the values bound to a range such as `e164 > ?` or `available_from <= ?`, so
/// SQLite re-parses and re-plans every cached statement of that shape on every execution: 6 % of
/// the server's CPU during the order bench, and every search. The search SQL does not need them
/// (its shapes are chosen so that the plan does not hinge on estimates).
pub(crate) fn drop_value_samples(conn: &Connection) -> Result<()> {
    let has_samples: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat4')",
            [],
            |r| r.get(0),
        )
        .db()?;
    if has_samples {
        conn.execute_batch("DELETE FROM sqlite_stat4; ANALYZE sqlite_schema;")
            .db()?;
    }
    Ok(())
}

/// rusqlite errors that are not an expected constraint violation are internal.
pub(crate) trait DbResult<T> {
    fn db(self) -> Result<T>;
}

impl<T> DbResult<T> for rusqlite::Result<T> {
    fn db(self) -> Result<T> {
        self.map_err(|e| Error::internal(format!("sqlite: {e}")))
    }
}

/// Whether the error is a UNIQUE / PRIMARY KEY violation.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => {
            f.code == ErrorCode::ConstraintViolation
                && matches!(
                    f.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                )
        }
        _ => false,
    }
}

pub(crate) fn retry(message: impl Into<String>) -> Error {
    Error::retry(message)
}

/// The shared WHERE builders' values as rusqlite values.
pub(crate) fn values(params: &[SqlValue]) -> Vec<Value> {
    params
        .iter()
        .map(|v| match v {
            SqlValue::Text(s) => Value::Text(s.clone()),
            SqlValue::Int(i) => Value::Integer(*i),
            SqlValue::Bool(b) => Value::Integer(i64::from(*b)),
            SqlValue::Null | SqlValue::NullInt => Value::Null,
        })
        .collect()
}

pub(crate) fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::internal(format!("cannot encode JSON: {e}")))
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| Error::internal(format!("stored {what} is not valid JSON: {e}")))
}

/// A stored id column back into its newtype.
pub(crate) fn parse_id<T: std::str::FromStr<Err = Error>>(what: &str, s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| Error::internal(format!("stored {what} '{s}' is not a UUID")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh pool with a table `t (x)`.
    async fn temp_pool() -> (Pool, PathBuf) {
        let dir = std::env::temp_dir().join(format!("numbersd-pool-{}", uuid::Uuid::new_v4()));
        let pool = Pool::open(dir.join("pool.db")).unwrap();
        pool.write(|c| c.execute_batch("CREATE TABLE t (x INTEGER)").db())
            .await
            .unwrap();
        (pool, dir)
    }

    fn insert(x: i64) -> impl FnOnce(&Connection) -> Result<()> + Send + 'static {
        move |conn| {
            conn.execute("INSERT INTO t (x) VALUES (?1)", [x]).db()?;
            Ok(())
        }
    }

    async fn values_of(pool: &Pool) -> Vec<i64> {
        pool.read(|tx| {
            let mut stmt = tx.prepare("SELECT x FROM t ORDER BY x").db()?;
            let rows = stmt.query_map([], |r| r.get(0)).db()?;
            rows.collect::<rusqlite::Result<Vec<i64>>>().db()
        })
        .unwrap()
    }

    #[tokio::test]
    async fn a_failed_request_undoes_only_its_own_writes() {
        let (pool, dir) = temp_pool().await;
        // Queued together (each write is sent when called), so they likely share a group.
        let a = pool.write(insert(1));
        let b = pool.write(|conn| {
            insert(2)(conn)?;
            Err::<(), _>(Error::conflict(
                numbers_core::error::ConflictKind::ConcurrentUpdate,
                "changed my mind",
            ))
        });
        let c = pool.write(insert(3));
        let (a, b, c) = tokio::join!(a, b, c);
        assert!(a.is_ok() && c.is_ok(), "{a:?} {c:?}");
        assert!(
            matches!(
                b,
                Err(Error::Conflict {
                    kind: numbers_core::error::ConflictKind::ConcurrentUpdate,
                    ..
                })
            ),
            "{b:?}"
        );
        assert_eq!(values_of(&pool).await, vec![1, 3]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_panicking_request_fails_its_group_and_the_writer_goes_on() {
        let (pool, dir) = temp_pool().await;
        let before = pool.write(insert(1));
        let boom = pool.write(|_| -> Result<()> { panic!("a bug in a store call") });
        let (before, boom) = tokio::join!(before, boom);
        assert!(boom.is_err());
        // `before` either committed in an earlier group or was rolled back with the panic's
        // group and told so: never answered Ok and then lost.
        let committed = values_of(&pool).await;
        assert_eq!(
            committed == vec![1],
            before.is_ok(),
            "{before:?} {committed:?}"
        );
        pool.write(insert(2)).await.unwrap();
        assert!(values_of(&pool).await.ends_with(&[2]));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn urls() {
        assert_eq!(
            path_from_url("sqlite://data/x.db").unwrap(),
            PathBuf::from("data/x.db")
        );
        assert_eq!(
            path_from_url("sqlite:///abs/x.db").unwrap(),
            PathBuf::from("/abs/x.db")
        );
        assert_eq!(
            path_from_url("sqlite:x.db?mode=rwc").unwrap(),
            PathBuf::from("x.db")
        );
        assert_eq!(path_from_url("x.db").unwrap(), PathBuf::from("x.db"));
        assert!(path_from_url("sqlite::memory:").is_err());
    }
}
