//! Bound values and placeholders for the SQL both stores share, and `NumberFilter` (an
//! account's own numbers) as a WHERE clause over the `numbers` table. Public search has its own
//! planner (`search_plan`); both follow the semantics of `SearchQuery::matches`, which the
//! conformance suite checks both stores against.

use numbers_core::ids::AccountId;
use numbers_core::search::{CapabilityFilter, CapabilityMatch, DigitPattern, PatternPosition};
use numbers_core::store::NumberFilter;

/// A bound value. Both schemas hold only TEXT, BIGINT and BOOLEAN columns; a NULL says which
/// of the first two it stands for, because PostgreSQL checks a parameter's type even when it is
/// NULL.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Text(String),
    Int(i64),
    Bool(bool),
    /// NULL in a TEXT column.
    Null,
    /// NULL in a BIGINT column (PostgreSQL binds a NULL with its column's type).
    NullInt,
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}

impl From<&String> for SqlValue {
    fn from(v: &String) -> Self {
        SqlValue::Text(v.clone())
    }
}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}

impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Bool(v)
    }
}

impl From<Option<String>> for SqlValue {
    fn from(v: Option<String>) -> Self {
        v.map_or(SqlValue::Null, SqlValue::Text)
    }
}

impl From<Option<&str>> for SqlValue {
    fn from(v: Option<&str>) -> Self {
        v.map_or(SqlValue::Null, |s| SqlValue::Text(s.to_string()))
    }
}

impl From<Option<i64>> for SqlValue {
    fn from(v: Option<i64>) -> Self {
        v.map_or(SqlValue::NullInt, SqlValue::Int)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `?1, ?2…` (SQLite)
    QuestionNumbered,
    /// `$1, $2…` (PostgreSQL)
    DollarNumbered,
}

/// Collects bound values and hands out their placeholders.
#[derive(Debug)]
pub struct SqlParams {
    style: Placeholder,
    pub values: Vec<SqlValue>,
}

impl SqlParams {
    pub fn new(style: Placeholder) -> Self {
        SqlParams {
            style,
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, value: SqlValue) -> String {
        self.values.push(value);
        let n = self.values.len();
        match self.style {
            Placeholder::QuestionNumbered => format!("?{n}"),
            Placeholder::DollarNumbered => format!("${n}"),
        }
    }

    pub fn style(&self) -> Placeholder {
        self.style
    }

    pub fn text(&mut self, s: impl Into<String>) -> String {
        self.push(SqlValue::Text(s.into()))
    }

    pub fn int(&mut self, i: i64) -> String {
        self.push(SqlValue::Int(i))
    }
}

/// Escapes LIKE wildcards; digits never need it, but labels and names may.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn pattern_clause(p: &DigitPattern, params: &mut SqlParams) -> String {
    // Digits only (the builder guarantees it), so prefix matches become index-friendly ranges.
    match p.position {
        PatternPosition::StartsWith if p.international => {
            prefix_range("e164", &format!("+{}", p.digits), params)
        }
        PatternPosition::StartsWith => prefix_range("national", &p.digits, params),
        PatternPosition::Contains => format!(
            "e164 LIKE {} ESCAPE '\\'",
            params.text(format!("%{}%", p.digits))
        ),
        PatternPosition::EndsWith => format!(
            "e164 LIKE {} ESCAPE '\\'",
            params.text(format!("%{}", p.digits))
        ),
    }
}

/// `col >= 'p' AND col < 'p;'` (';' sorts right after '9'): a prefix as a range on the index.
fn prefix_range(column: &str, prefix: &str, params: &mut SqlParams) -> String {
    let lo = params.text(prefix);
    let hi = params.text(format!("{prefix};"));
    format!("{column} >= {lo} AND {column} < {hi}")
}

pub(crate) fn capability_clause(c: &CapabilityFilter, params: &mut SqlParams) -> Option<String> {
    if c.set.is_empty() {
        return None;
    }
    let bits = c.set.bits();
    Some(match c.mode {
        CapabilityMatch::AllOf => format!(
            "(capabilities & {}) = {}",
            params.int(bits),
            params.int(bits)
        ),
        CapabilityMatch::AnyOf => format!("(capabilities & {}) <> 0", params.int(bits)),
        CapabilityMatch::Exactly => format!("capabilities = {}", params.int(bits)),
    })
}

fn in_list(
    column: &str,
    values: impl IntoIterator<Item = String>,
    params: &mut SqlParams,
) -> String {
    let placeholders: Vec<String> = values.into_iter().map(|v| params.text(v)).collect();
    format!("{column} IN ({})", placeholders.join(", "))
}

/// WHERE clause for `list_account_numbers`: ASSIGNED to the account and matching the filter.
pub fn account_numbers_where(
    account: AccountId,
    f: &NumberFilter,
    params: &mut SqlParams,
) -> String {
    let mut clauses = vec![
        format!("owner_account_id = {}", params.text(account.to_string())),
        "state = 'ASSIGNED'".to_string(),
    ];
    if let Some(country) = &f.country {
        clauses.push(format!("country = {}", params.text(country.clone())));
    }
    if !f.types.is_empty() {
        clauses.push(in_list(
            "number_type",
            f.types.iter().map(|t| t.as_str().to_string()),
            params,
        ));
    }
    clauses.extend(capability_clause(&f.capabilities, params));
    if let Some(p) = &f.pattern {
        clauses.push(pattern_clause(p, params));
    }
    if let Some(c) = f.classification {
        clauses.push(format!("classification = {}", params.text(c.as_str())));
    }
    if let Some(id) = f.number_id {
        clauses.push(format!("id = {}", params.text(id.to_string())));
    }
    // Label, display name and metadata live in the assignment JSON document; a LIKE narrows the
    // rows and the store re-checks exactly on the decoded value (JSON escaping makes LIKE alone
    // inexact).
    if let Some(label) = &f.label {
        clauses.push(format!(
            "assignment LIKE {} ESCAPE '\\'",
            params.text(format!("%{}%", like_escape(label)))
        ));
    }
    if let Some(name) = &f.display_name {
        clauses.push(format!(
            "assignment LIKE {} ESCAPE '\\'",
            params.text(format!("%{}%", like_escape(name)))
        ));
    }
    if let Some((k, v)) = &f.metadata {
        clauses.push(format!(
            "assignment LIKE {} ESCAPE '\\'",
            params.text(format!("%{}%", like_escape(k)))
        ));
        clauses.push(format!(
            "assignment LIKE {} ESCAPE '\\'",
            params.text(format!("%{}%", like_escape(v)))
        ));
    }
    if let Some(after) = &f.after {
        clauses.push(format!("e164 > {}", params.text(after.clone())));
    }
    clauses.join(" AND ")
}

/// The exact check for the JSON-held filters, applied after the LIKE pre-filter.
pub fn account_filter_matches(f: &NumberFilter, n: &numbers_core::number::Number) -> bool {
    let label_ok = f.label.as_ref().is_none_or(|l| {
        n.assignment
            .label
            .as_ref()
            .is_some_and(|have| have.as_str() == l)
    });
    let name_ok = f
        .display_name
        .as_ref()
        .is_none_or(|d| n.assignment.display_name.as_deref() == Some(d.as_str()));
    let meta_ok = f
        .metadata
        .as_ref()
        .is_none_or(|(k, v)| n.assignment.metadata.get(k) == Some(v.as_str()));
    label_ok && name_ok && meta_ok
}
