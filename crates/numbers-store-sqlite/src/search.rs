//! Running a `SearchPlan` (numbers_store_sql::search_plan) on SQLite: the calling codes on
//! offer when the plan needs them, then each of its E.164 ranges in turn until enough rows are
//! found. Used by public search, the digit index fallback and criteria orders.

use numbers_core::clock::Timestamp;
use numbers_core::error::{Error, Limit, Result};
use numbers_core::number::Number;
use numbers_core::search::SearchQuery;
use numbers_store_sql::SqlValue;
use numbers_store_sql::search_plan::{
    OFFERED_COUNTRIES_SQL, SearchPlan, Target, calling_codes_of, statements,
};
use rusqlite::Connection;

use crate::db::{DbResult, values};
use crate::rows::query_numbers;

/// The plan of `query` at `now`, reading the calling codes on offer if it needs them.
pub(crate) fn plan(conn: &Connection, query: &SearchQuery, now: Timestamp) -> Result<SearchPlan> {
    let codes = if SearchPlan::needs_calling_codes(query) {
        let countries = conn
            .prepare_cached(OFFERED_COUNTRIES_SQL)
            .db()?
            .query_map([], |r| r.get::<_, String>(0))
            .db()?
            .collect::<rusqlite::Result<Vec<_>>>()
            .db()?;
        calling_codes_of(countries.iter().map(String::as_str))
    } else {
        Vec::new()
    };
    Ok(SearchPlan::new(query, now, &codes))
}

/// Runs `execute` on the statement `statement` writes for SQLite, or — while a bulk load has
/// set the search indexes aside, so the one it names does not exist — on the same statement
/// without the index.
fn run<T>(
    conn: &Connection,
    statement: impl Fn(Target) -> (String, Vec<SqlValue>),
    execute: impl Fn(&str, Vec<rusqlite::types::Value>) -> Result<T>,
) -> Result<T> {
    let (sql, params) = statement(Target::Sqlite);
    match conn.prepare_cached(&sql) {
        Err(rusqlite::Error::SqliteFailure(_, Some(message)))
            if message.starts_with("no such index") =>
        {
            let (sql, params) = statement(Target::SqliteWithoutSearchIndexes);
            execute(&sql, values(&params))
        }
        Err(e) => Err(e).db(),
        Ok(_) => execute(&sql, values(&params)),
    }
}

/// The numbers a plan's statement selects (`run`).
pub(crate) fn select(
    conn: &Connection,
    statement: impl Fn(Target) -> (String, Vec<SqlValue>),
) -> Result<Vec<Number>> {
    run(conn, statement, |sql, params| {
        query_numbers(conn, sql, params)
    })
}

/// Up to `wanted` numbers of the plan, in E.164 order, reading at most `budget` index entries
/// per range when a budget is given (`Limit::SearchTooBroad` when it runs out first).
pub(crate) fn walk(
    conn: &Connection,
    plan: &SearchPlan,
    wanted: usize,
    budget: Option<u64>,
) -> Result<Vec<Number>> {
    let mut found = Vec::new();
    for range in &plan.ranges {
        let limit = wanted - found.len();
        let got = select(conn, |target| {
            plan.range_statement(range, limit, budget, target)
        })?;
        let short = got.len() < limit;
        found.extend(got);
        if let Some(budget) = budget
            && short
            && plan.has_tests()
        {
            let used: i64 = run(
                conn,
                |target| plan.budget_used_statement(range, budget, target),
                |sql, params| {
                    conn.prepare_cached(sql)
                        .db()?
                        .query_row(rusqlite::params_from_iter(params), |r| r.get(0))
                        .db()
                },
            )?;
            if u64::try_from(used).unwrap_or(0) >= budget {
                return Err(Error::OverLimit(Limit::SearchTooBroad));
            }
        }
        if found.len() >= wanted {
            break;
        }
    }
    SearchPlan::check_order(found.iter().map(|n| n.e164.as_str()))?;
    Ok(found)
}

/// `plan` and `walk` in one: up to `wanted` numbers matching `query` at `now`.
pub(crate) fn matching(
    conn: &Connection,
    query: &SearchQuery,
    now: Timestamp,
    wanted: usize,
    budget: Option<u64>,
) -> Result<Vec<Number>> {
    walk(conn, &plan(conn, query, now)?, wanted, budget)
}

/// `EXPLAIN QUERY PLAN` of every statement a search of `query` can run (see
/// `search_plan::statements`): each statement with its plan, one detail line per step.
pub(crate) fn explain(
    conn: &Connection,
    query: &SearchQuery,
    now: Timestamp,
    budget: u64,
) -> Result<Vec<(String, String)>> {
    // EXPLAIN reads no table, so it would plan with this connection's cached schema: read the
    // schema first, so a change made by another connection (a dropped index) is seen.
    conn.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .db()?;
    let plan = plan(conn, query, now)?;
    let digit = numbers_store_sql::digit_index::DigitIndex::serves(query);
    let limit = query.page_size as usize + 1;
    let mut out = Vec::new();
    for (sql, params) in statements(&plan, digit, limit, budget, Target::Sqlite) {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).db()?;
        let steps = stmt
            .query_map(rusqlite::params_from_iter(values(&params)), |r| {
                r.get::<_, String>(3)
            })
            .db()?
            .collect::<rusqlite::Result<Vec<_>>>()
            .db()?;
        out.push((sql, steps.join("\n")));
    }
    Ok(out)
}
