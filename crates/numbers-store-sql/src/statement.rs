//! The seam between the SQL both stores share and their two drivers. A `Statement` is SQL text
//! written once, in PostgreSQL's `$1` placeholder style, with its bound values; SQLite runs the
//! same text after `question_numbered` (`$1` → `?1`, which SQLite binds by number — its own `$1`
//! would be a *named* parameter, numbered by first appearance). A driver reads a row's columns
//! through the `SqlRow` trait, and every shared row type builds itself from any `SqlRow`
//! (`FromRow`), so a table's column list, SQL and row mapping exist once; each store keeps only
//! how it runs a statement on its own connection.

use std::borrow::Cow;

use numbers_core::error::{Error, Result};

use crate::SqlValue;

/// SQL text (placeholders `$1, $2…`) and the values bound to them, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: Cow<'static, str>,
    pub params: Vec<SqlValue>,
}

impl Statement {
    pub fn new(sql: impl Into<Cow<'static, str>>) -> Self {
        Statement {
            sql: sql.into(),
            params: Vec::new(),
        }
    }

    /// Binds the next placeholder.
    pub fn bind(mut self, value: impl Into<SqlValue>) -> Self {
        self.params.push(value.into());
        self
    }

    /// The text with SQLite's numbered placeholders.
    pub fn question_numbered(&self) -> String {
        question_numbered(&self.sql)
    }
}

/// `$N` → `?N` outside quoted strings and identifiers (same length, so positions in an error
/// message still match the source).
pub fn question_numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('?');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

/// `$1, $2, … $n`: the VALUES list of an INSERT of `n` columns.
pub fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many columns a comma-separated column list names.
pub fn column_count(columns: &str) -> usize {
    columns.split(',').count()
}

/// `INSERT INTO table (columns) VALUES ($1, …)` for every column of `columns`.
pub fn insert_sql(table: &str, columns: &str) -> String {
    format!(
        "INSERT INTO {table} ({columns}) VALUES ({})",
        placeholders(column_count(columns))
    )
}

/// A unique constraint a write may hit, named as each database reports it: PostgreSQL by the
/// constraint's name, SQLite by the columns in its message ("UNIQUE constraint failed: t.a, t.b").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UniqueKey {
    pub constraint: &'static str,
    pub columns: &'static str,
}

/// A driver's row, read column by column (0-based, in SELECT order). Both schemas store only
/// TEXT, BIGINT and BOOLEAN, so these five readings are all a row mapping needs.
pub trait SqlRow {
    fn text(&self, i: usize) -> Result<String>;
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    fn int(&self, i: usize) -> Result<i64>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
    fn bool(&self, i: usize) -> Result<bool>;
}

/// A value built from one row of a shared SELECT.
pub trait FromRow: Sized {
    fn from_row(row: &impl SqlRow) -> Result<Self>;
}

/// A one-column row is its value.
macro_rules! one_column {
    ($($t:ty => $read:ident),*) => {$(
        impl FromRow for $t {
            fn from_row(row: &impl SqlRow) -> Result<Self> {
                row.$read(0)
            }
        }
    )*};
}

one_column!(String => text, Option<String> => opt_text, i64 => int, bool => bool);

/// A pair of TEXT columns (a key and its value).
impl FromRow for (String, String) {
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok((row.text(0)?, row.text(1)?))
    }
}

/// A stored id column back into its newtype.
pub(crate) fn parse_id<T: std::str::FromStr>(what: &str, s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| Error::internal(format!("stored {what} '{s}' is not a UUID")))
}

/// A stored JSON column back into its value.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s)
        .map_err(|e| Error::internal(format!("stored {what} is not valid JSON: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::internal(format!("cannot encode JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_placeholders_become_question_numbered() {
        assert_eq!(
            question_numbered("UPDATE t SET a = $1, b = $12 WHERE id = $2 AND c = $1"),
            "UPDATE t SET a = ?1, b = ?12 WHERE id = ?2 AND c = ?1"
        );
    }

    #[test]
    fn quoted_dollars_and_bare_dollars_stay() {
        assert_eq!(
            question_numbered("SELECT '$1', \"a$2\", $ , x$ FROM t WHERE y = $3"),
            "SELECT '$1', \"a$2\", $ , x$ FROM t WHERE y = ?3"
        );
        // An escaped quote ('') closes and reopens the literal: still inside it.
        assert_eq!(
            question_numbered("SELECT 'it''s $1' WHERE a = $1"),
            "SELECT 'it''s $1' WHERE a = ?1"
        );
    }

    #[test]
    fn insert_lists_one_placeholder_per_column() {
        assert_eq!(
            insert_sql("t", "a, b, c"),
            "INSERT INTO t (a, b, c) VALUES ($1, $2, $3)"
        );
        assert_eq!(
            Statement::new("SELECT $1").bind(7_i64).bind("x"),
            Statement {
                sql: "SELECT $1".into(),
                params: vec![SqlValue::Int(7), SqlValue::Text("x".into())],
            }
        );
    }
}
