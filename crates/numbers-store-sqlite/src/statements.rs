//! Running the shared statements (`numbers_store_sql::Statement`) on a rusqlite connection: the
//! text with SQLite's `?N` placeholders through the prepared-statement cache, the values as
//! rusqlite values, and each result row read through `SqlRow` into a shared row type.

use numbers_core::error::{Error, Result};
use numbers_store_sql::{FromRow, Statement, UniqueKey};
use rusqlite::{Connection, params_from_iter};

use crate::db::{DbResult, is_unique_violation, values};
use crate::rows::SqliteRow;

/// Every row `stmt` selects (or writes and returns).
pub(crate) fn query<R: FromRow>(conn: &Connection, stmt: &Statement) -> Result<Vec<R>> {
    query_with(conn, stmt, &db_error)
}

/// The first row `stmt` selects, if any.
pub(crate) fn query_opt<R: FromRow>(conn: &Connection, stmt: &Statement) -> Result<Option<R>> {
    Ok(query(conn, stmt)?.into_iter().next())
}

/// The row `stmt` writes and returns, answering `conflict()` when the write hits `key`.
pub(crate) fn query_unique<R: FromRow>(
    conn: &Connection,
    stmt: &Statement,
    key: UniqueKey,
    conflict: impl Fn() -> Error,
) -> Result<Option<R>> {
    let rows = query_with(conn, stmt, &|e| unique_error(e, key, &conflict))?;
    Ok(rows.into_iter().next())
}

/// Runs `stmt`; the number of rows it changed.
pub(crate) fn execute(conn: &Connection, stmt: &Statement) -> Result<u64> {
    execute_with(conn, stmt, &db_error)
}

/// `execute`, answering `conflict()` when the write hits the unique `key`.
pub(crate) fn execute_unique(
    conn: &Connection,
    stmt: &Statement,
    key: UniqueKey,
    conflict: impl Fn() -> Error,
) -> Result<u64> {
    execute_with(conn, stmt, &|e| unique_error(e, key, &conflict))
}

fn db_error(e: rusqlite::Error) -> Error {
    Error::internal(format!("sqlite: {e}"))
}

/// SQLite names no constraint: a violation of `key` is one whose message names its columns.
fn unique_error(e: rusqlite::Error, key: UniqueKey, conflict: &impl Fn() -> Error) -> Error {
    if is_unique_violation(&e) && e.to_string().contains(key.columns) {
        conflict()
    } else {
        db_error(e)
    }
}

fn query_with<R: FromRow>(
    conn: &Connection,
    stmt: &Statement,
    on_error: &dyn Fn(rusqlite::Error) -> Error,
) -> Result<Vec<R>> {
    let mut prepared = conn.prepare_cached(&stmt.question_numbered()).db()?;
    let mut rows = prepared
        .query(params_from_iter(values(&stmt.params)))
        .map_err(on_error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(on_error)? {
        out.push(R::from_row(&SqliteRow(row))?);
    }
    Ok(out)
}

fn execute_with(
    conn: &Connection,
    stmt: &Statement,
    on_error: &dyn Fn(rusqlite::Error) -> Error,
) -> Result<u64> {
    let mut prepared = conn.prepare_cached(&stmt.question_numbered()).db()?;
    let n = prepared
        .execute(params_from_iter(values(&stmt.params)))
        .map_err(on_error)?;
    Ok(n as u64)
}
