//! Running the shared statements (`numbers_store_sql::Statement`) on a PostgreSQL connection or
//! transaction: the text as written (`$N` placeholders), the values as typed driver values, and
//! each result row read through `SqlRow` into a shared row type.

use numbers_core::error::{Error, Result};
use numbers_store_sql::{FromRow, SqlValue, Statement, UniqueKey};
use tokio_postgres::GenericClient;

/// A connection or a transaction.
pub(crate) trait Client: GenericClient + Sync {}

impl<C: GenericClient + Sync> Client for C {}

use crate::rows::PgRow;
use crate::{Bind, binds, db_err, refs, unique_violation};

/// Every row `stmt` selects (or writes and returns).
pub(crate) async fn query<R: FromRow>(c: &impl Client, stmt: &Statement) -> Result<Vec<R>> {
    query_with(c, stmt, &db_err).await
}

/// The first row `stmt` selects, if any.
pub(crate) async fn query_opt<R: FromRow>(c: &impl Client, stmt: &Statement) -> Result<Option<R>> {
    Ok(query(c, stmt).await?.into_iter().next())
}

/// The row `stmt` writes and returns, answering `conflict()` when the write hits `key`.
pub(crate) async fn query_unique<R: FromRow>(
    c: &impl Client,
    stmt: &Statement,
    key: UniqueKey,
    conflict: impl Fn() -> Error + Sync,
) -> Result<Option<R>> {
    let rows = query_with(c, stmt, &|e| unique_error(e, key, &conflict)).await?;
    Ok(rows.into_iter().next())
}

/// Runs `stmt`; the number of rows it changed.
pub(crate) async fn execute(c: &impl Client, stmt: &Statement) -> Result<u64> {
    execute_with(c, stmt, &db_err).await
}

/// `execute`, answering `conflict()` when the write hits the unique `key`.
pub(crate) async fn execute_unique(
    c: &impl Client,
    stmt: &Statement,
    key: UniqueKey,
    conflict: impl Fn() -> Error + Sync,
) -> Result<u64> {
    execute_with(c, stmt, &|e| unique_error(e, key, &conflict)).await
}

/// The SQL text all of `stmts` share (a loop's), prepared once; None for no statements.
async fn prepare_shared(
    c: &impl Client,
    stmts: &[Statement],
) -> Result<Option<tokio_postgres::Statement>> {
    let Some(first) = stmts.first() else {
        return Ok(None);
    };
    if stmts.iter().any(|stmt| stmt.sql != first.sql) {
        return Err(Error::internal("statements prepared as one differ in text"));
    }
    c.prepare(first.sql.as_ref())
        .await
        .map(Some)
        .map_err(db_err)
}

/// Runs statements that share one SQL text, preparing it once: one round trip each instead of
/// two. The rows of each, in order.
pub(crate) async fn query_each<R: FromRow>(
    c: &impl Client,
    stmts: &[Statement],
) -> Result<Vec<Vec<R>>> {
    let Some(prepared) = prepare_shared(c, stmts).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(stmts.len());
    for stmt in stmts {
        let params = binds(stmt.params.clone());
        let rows = c.query(&prepared, &refs(&params)).await.map_err(db_err)?;
        let rows = rows.iter().map(|r| R::from_row(&PgRow(r)));
        out.push(rows.collect::<Result<Vec<R>>>()?);
    }
    Ok(out)
}

/// `query_each` for writes: the rows each changed.
pub(crate) async fn execute_each(c: &impl Client, stmts: &[Statement]) -> Result<Vec<u64>> {
    let Some(prepared) = prepare_shared(c, stmts).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(stmts.len());
    for stmt in stmts {
        let params = binds(stmt.params.clone());
        out.push(c.execute(&prepared, &refs(&params)).await.map_err(db_err)?);
    }
    Ok(out)
}

/// One column of an `UNNEST` insert, typed as its values are.
enum Array {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

/// Inserts `rows` (each one's values in `columns` order, as a shared row's values are) in one
/// round trip: `INSERT INTO table (columns) SELECT * FROM UNNEST($1::TEXT[], …) <tail>`, one
/// array per column. The rows it inserted.
pub(crate) async fn insert_unnest(
    c: &impl Client,
    table: &str,
    columns: &str,
    rows: Vec<Vec<SqlValue>>,
    tail: &str,
) -> Result<u64> {
    let Some(first) = rows.first() else {
        return Ok(0);
    };
    let mut arrays: Vec<Array> = first
        .iter()
        .map(|v| match v {
            SqlValue::Text(_) | SqlValue::Null => Array::Text(Vec::new()),
            SqlValue::Int(_) | SqlValue::NullInt => Array::Int(Vec::new()),
            SqlValue::Bool(_) => Array::Bool(Vec::new()),
        })
        .collect();
    for row in rows {
        for (array, value) in arrays.iter_mut().zip(row) {
            match (array, value) {
                (Array::Text(a), SqlValue::Text(s)) => a.push(Some(s)),
                (Array::Text(a), SqlValue::Null) => a.push(None),
                (Array::Int(a), SqlValue::Int(i)) => a.push(Some(i)),
                (Array::Int(a), SqlValue::NullInt) => a.push(None),
                (Array::Bool(a), SqlValue::Bool(b)) => a.push(Some(b)),
                (_, value) => {
                    return Err(Error::internal(format!(
                        "{table}: {value:?} does not fit its column"
                    )));
                }
            }
        }
    }
    let mut casts = Vec::with_capacity(arrays.len());
    let mut params: Vec<Bind> = Vec::with_capacity(arrays.len());
    for (i, array) in arrays.into_iter().enumerate() {
        let n = i + 1;
        match array {
            Array::Text(a) => {
                casts.push(format!("${n}::TEXT[]"));
                params.push(Box::new(a));
            }
            Array::Int(a) => {
                casts.push(format!("${n}::BIGINT[]"));
                params.push(Box::new(a));
            }
            Array::Bool(a) => {
                casts.push(format!("${n}::BOOLEAN[]"));
                params.push(Box::new(a));
            }
        }
    }
    let sql = format!(
        "INSERT INTO {table} ({columns}) SELECT * FROM UNNEST({}) {tail}",
        casts.join(", ")
    );
    c.execute(sql.as_str(), &refs(&params))
        .await
        .map_err(db_err)
}

/// `stmt` with the rows it selects locked until the transaction ends.
pub(crate) fn for_update(mut stmt: Statement) -> Statement {
    stmt.sql = format!("{} FOR UPDATE", stmt.sql).into();
    stmt
}

/// `stmt` taking only rows no other transaction holds, locked until the transaction ends.
pub(crate) fn skip_locked(mut stmt: Statement) -> Statement {
    stmt.sql = format!("{} FOR UPDATE SKIP LOCKED", stmt.sql).into();
    stmt
}

/// PostgreSQL names the constraint a write violated.
fn unique_error(e: tokio_postgres::Error, key: UniqueKey, conflict: &impl Fn() -> Error) -> Error {
    if unique_violation(&e) == Some(key.constraint) {
        conflict()
    } else {
        db_err(e)
    }
}

async fn query_with<R: FromRow>(
    c: &impl Client,
    stmt: &Statement,
    on_error: &(dyn Fn(tokio_postgres::Error) -> Error + Sync),
) -> Result<Vec<R>> {
    let params = binds(stmt.params.clone());
    let rows = c
        .query(stmt.sql.as_ref(), &refs(&params))
        .await
        .map_err(on_error)?;
    rows.iter().map(|r| R::from_row(&PgRow(r))).collect()
}

async fn execute_with(
    c: &impl Client,
    stmt: &Statement,
    on_error: &(dyn Fn(tokio_postgres::Error) -> Error + Sync),
) -> Result<u64> {
    let params = binds(stmt.params.clone());
    c.execute(stmt.sql.as_ref(), &refs(&params))
        .await
        .map_err(on_error)
}
