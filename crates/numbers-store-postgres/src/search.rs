//! Running a `SearchPlan` (numbers_store_sql::search_plan) on PostgreSQL: the calling codes on
//! offer when the plan needs them, then each of its E.164 ranges in turn until enough rows are
//! found. Searches run on the store's search connections, whose session settings
//! (`PLANNER_SETTINGS`) hold the planner to the plan; a criteria order runs the same statements
//! inside its own transaction after `hold_to_plans`.

use numbers_core::clock::Timestamp;
use numbers_core::error::{Error, Limit, Result};
use numbers_core::number::Number;
use numbers_core::search::SearchQuery;
use numbers_core::store::SearchBudget;
use numbers_store_sql::search_plan::{
    OFFERED_COUNTRIES_SQL, PLANNER_SETTINGS, SearchPlan, Target, calling_codes_of,
};
use tokio_postgres::GenericClient;
use tokio_postgres::error::SqlState;

use crate::rows::numbers_from_rows;
use crate::{binds, db_err, refs};

/// The plan of `query` at `now`, reading the calling codes on offer if it needs them.
pub(crate) async fn plan<C: GenericClient>(
    client: &C,
    query: &SearchQuery,
    now: Timestamp,
) -> Result<SearchPlan> {
    let codes = if SearchPlan::needs_calling_codes(query) {
        let rows = client
            .query(OFFERED_COUNTRIES_SQL, &[])
            .await
            .map_err(search_err)?;
        let countries = rows
            .iter()
            .map(|r| r.try_get::<_, String>(0))
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err)?;
        calling_codes_of(countries.iter().map(String::as_str))
    } else {
        Vec::new()
    };
    Ok(SearchPlan::new(query, now, &codes))
}

/// How a criteria order walks: without a budget (an order takes what matches), locking the
/// rows it takes.
pub(crate) const FOR_AN_ORDER: Walking = Walking {
    budget: None,
    suffix: " FOR UPDATE SKIP LOCKED",
};

/// How a walk reads: its budget of index entries per range, and what each statement ends with.
pub(crate) struct Walking {
    pub budget: Option<u64>,
    pub suffix: &'static str,
}

impl Walking {
    pub(crate) fn search(budget: u64) -> Self {
        Walking {
            budget: Some(budget),
            suffix: "",
        }
    }
}

/// Up to `wanted` numbers of the plan, in E.164 order (`Limit::SearchTooBroad` when a range
/// used up the budget before filling the page).
pub(crate) async fn walk<C: GenericClient>(
    client: &C,
    plan: &SearchPlan,
    wanted: usize,
    how: &Walking,
) -> Result<Vec<Number>> {
    let mut found = Vec::new();
    for range in &plan.ranges {
        let limit = wanted - found.len();
        let (sql, params) = plan.range_statement(range, limit, how.budget, Target::PostgreSql);
        let values = binds(params);
        let rows = client
            .query(format!("{sql}{}", how.suffix).as_str(), &refs(&values))
            .await
            .map_err(search_err)?;
        let short = rows.len() < limit;
        found.extend(numbers_from_rows(&rows)?);
        if let Some(budget) = how.budget
            && short
            && plan.has_tests()
        {
            let (sql, params) = plan.budget_used_statement(range, budget, Target::PostgreSql);
            let values = binds(params);
            let used: i64 = client
                .query_one(sql.as_str(), &refs(&values))
                .await
                .map_err(search_err)?
                .try_get(0)
                .map_err(db_err)?;
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

/// `PLANNER_SETTINGS` as `SET LOCAL` statements, for a transaction that searches outside the
/// search connections (a criteria order inside its fulfilment transaction).
pub(crate) async fn hold_to_plans<C: GenericClient>(client: &C) -> Result<()> {
    let sql: String = PLANNER_SETTINGS
        .iter()
        .map(|(name, value)| format!("SET LOCAL {name} = {value};"))
        .collect();
    client.batch_execute(&sql).await.map_err(db_err)
}

/// A statement of a search connection that runs longer than this is cancelled. Searches are
/// bounded by the rows they may read (`SearchLimits`); this is the net under that, for a plan
/// gone wrong or a database under pressure.
const SEARCH_STATEMENT_TIMEOUT_MS: u32 = 5_000;

/// Connection options (`-c name=value …`) of the search connections: `PLANNER_SETTINGS` and the
/// statement timeout.
pub(crate) fn session_options() -> String {
    PLANNER_SETTINGS
        .iter()
        .map(|(name, value)| format!("-c {name}={value}"))
        .chain([format!(
            "-c statement_timeout={SEARCH_STATEMENT_TIMEOUT_MS}"
        )])
        .collect::<Vec<_>>()
        .join(" ")
}

/// A driver error of a search statement: a cancelled one (the statement timeout) is a server
/// too busy to answer in time, which a retry may get past.
pub(crate) fn search_err(e: tokio_postgres::Error) -> Error {
    if e.code() == Some(&SqlState::QUERY_CANCELED) {
        return Error::OverLimit(Limit::Overloaded {
            retry_after_seconds: 1,
        });
    }
    db_err(e)
}

/// `EXPLAIN` of `sql` with its values: the plan's lines.
async fn explain_statement<C: GenericClient>(
    client: &C,
    sql: &str,
    params: Vec<numbers_store_sql::SqlValue>,
) -> Result<String> {
    let values = binds(params);
    let rows = client
        .query(format!("EXPLAIN {sql}").as_str(), &refs(&values))
        .await
        .map_err(db_err)?;
    let lines = rows
        .iter()
        .map(|r| r.try_get::<_, String>(0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    Ok(lines.join("\n"))
}

impl crate::PostgresStore {
    /// How PostgreSQL would run each statement of a search of `query` at `now` (`EXPLAIN`), with
    /// the statement: the page search on the search connections, and the same walk as a criteria
    /// order runs it (in a transaction held to the plan, `FOR UPDATE SKIP LOCKED`). For the plan
    /// tests, and for an operator who wants to see why a search is slow.
    pub async fn explain_search(
        &self,
        query: &SearchQuery,
        now: Timestamp,
    ) -> Result<Vec<(String, String)>> {
        let digit = numbers_store_sql::digit_index::DigitIndex::serves(query);
        let limit = query.page_size as usize + 1;
        let budget = self.limits.rows(SearchBudget::Quick);
        let client = self.search_client().await?;
        let plan = plan(&**client, query, now).await?;
        let mut out = Vec::new();
        for (sql, params) in numbers_store_sql::search_plan::statements(
            &plan,
            digit,
            limit,
            budget,
            Target::PostgreSql,
        ) {
            let explained = explain_statement(&**client, &sql, params).await?;
            out.push((sql, explained));
        }
        drop(client);
        if let Some(range) = plan.ranges.first() {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db_err)?;
            hold_to_plans(&*tx).await?;
            let (sql, params) =
                plan.range_statement(range, limit, FOR_AN_ORDER.budget, Target::PostgreSql);
            let sql = format!("{sql}{}", FOR_AN_ORDER.suffix);
            let explained = explain_statement(&*tx, &sql, params).await?;
            tx.rollback().await.map_err(db_err)?;
            out.push((sql, explained));
        }
        Ok(out)
    }
}
