//! Reading and writing `numbers` rows: the whole-row SELECT list, the mapping of a driver row to
//! a domain `Number` through `numbers_store_sql::NumberRow`, and the batched conditional UPDATE
//! that writes changed lifecycle columns (`number_state_columns`) for many numbers in one round
//! trip, refusing the whole batch if any row's version moved.

use numbers_core::error::Result;
use numbers_core::event::NewEvent;
use numbers_core::number::{Number, NumberChange};
use numbers_store_sql::SqlRow;
use numbers_store_sql::{NUMBER_COLUMNS, NumberRow, SqlValue, number_state_columns};
use tokio_postgres::types::FromSql;
use tokio_postgres::{Row, Transaction};

use crate::{Bind, db_err, refs, retry};

pub(crate) fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T> {
    row.try_get(idx).map_err(db_err)
}

/// `SELECT <every number column> FROM numbers`; callers append WHERE / ORDER BY / locking.
pub(crate) fn select_numbers() -> String {
    format!("SELECT {NUMBER_COLUMNS} FROM numbers")
}

/// A tokio-postgres row as the shared row mappings read it (`numbers_store_sql::SqlRow`).
pub(crate) struct PgRow<'a>(pub &'a Row);

impl SqlRow for PgRow<'_> {
    fn text(&self, i: usize) -> Result<String> {
        get(self.0, i)
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        get(self.0, i)
    }
    fn int(&self, i: usize) -> Result<i64> {
        get(self.0, i)
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        get(self.0, i)
    }
    fn bool(&self, i: usize) -> Result<bool> {
        get(self.0, i)
    }
}

pub(crate) fn number_from_row(row: &Row) -> Result<Number> {
    NumberRow::read(&PgRow(row))?.into_number()
}

pub(crate) fn numbers_from_rows(rows: &[Row]) -> Result<Vec<Number>> {
    rows.iter().map(number_from_row).collect()
}

/// One column of values for an UNNEST, typed as the column is.
enum Column {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<bool>),
}

impl Column {
    /// The empty column for a lifecycle column: epoch milliseconds are BIGINT, `protected`
    /// BOOLEAN, the rest TEXT.
    fn for_name(column: &str) -> Self {
        match column {
            "reserved_until" | "available_after" | "assigned_at" | "available_from"
            | "updated_at" => Column::Int(Vec::new()),
            "protected" => Column::Bool(Vec::new()),
            _ => Column::Text(Vec::new()),
        }
    }
}

/// Writes the lifecycle columns and the version of every changed number, where the stored
/// version is still `number.version - 1` (each change bumps it by one). The rows are locked by
/// the caller, so a mismatch means a concurrent writer got in anyway: the whole step is retried.
pub(crate) async fn update_numbers(tx: &Transaction<'_>, changed: &[Number]) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    let names = number_state_columns();
    let mut columns: Vec<Column> = names.iter().map(|c| Column::for_name(c)).collect();
    let mut ids = Vec::with_capacity(changed.len());
    let mut versions = Vec::with_capacity(changed.len());
    for n in changed {
        ids.push(n.id.to_string());
        versions.push(n.version);
        for (column, value) in columns.iter_mut().zip(NumberRow::state_values(n)?) {
            match (column, value) {
                (Column::Text(v), SqlValue::Text(s)) => v.push(Some(s)),
                (Column::Text(v), _) => v.push(None),
                (Column::Int(v), SqlValue::Int(i)) => v.push(Some(i)),
                (Column::Int(v), _) => v.push(None),
                (Column::Bool(v), value) => v.push(value == SqlValue::Bool(true)),
            }
        }
    }
    let mut params: Vec<Bind> = vec![Box::new(ids), Box::new(versions)];
    let mut arrays = vec!["$1::TEXT[]".to_string(), "$2::BIGINT[]".to_string()];
    for column in columns {
        let n = params.len() + 1;
        match column {
            Column::Text(v) => {
                arrays.push(format!("${n}::TEXT[]"));
                params.push(Box::new(v));
            }
            Column::Int(v) => {
                arrays.push(format!("${n}::BIGINT[]"));
                params.push(Box::new(v));
            }
            Column::Bool(v) => {
                arrays.push(format!("${n}::BOOLEAN[]"));
                params.push(Box::new(v));
            }
        }
    }
    let sets: Vec<String> = names.iter().map(|c| format!("{c} = u.{c}")).collect();
    let sql = format!(
        "UPDATE numbers AS n SET {}, version = u.new_version \
         FROM UNNEST({}) AS u(id, new_version, {}) \
         WHERE n.id = u.id AND n.version = u.new_version - 1",
        sets.join(", "),
        arrays.join(", "),
        names.join(", "),
    );
    let updated = tx
        .execute(sql.as_str(), &refs(&params))
        .await
        .map_err(db_err)?;
    if updated != changed.len() as u64 {
        return Err(retry("a number changed concurrently"));
    }
    Ok(())
}

/// Saves transitions of core's (`Number::reserve`, `assign`, …) in one batch and hands back
/// their events, in order, for the caller to append last (see `events`).
pub(crate) async fn save_numbers(
    tx: &Transaction<'_>,
    changes: Vec<NumberChange>,
) -> Result<Vec<NewEvent>> {
    let (numbers, events): (Vec<Number>, Vec<NewEvent>) =
        changes.into_iter().map(|c| (c.number, c.event)).unzip();
    update_numbers(tx, &numbers).await?;
    Ok(events)
}
