//! Running a `SearchPlan` (numbers_store_sql::search_plan) on PostgreSQL: the calling codes on
//! offer when the plan needs them, then each of its E.164 ranges in turn until enough rows are
//! found. Searches run on the store's search connections, whose session settings
//! (`PLANNER_SETTINGS`) hold the planner to the plan; a criteria order runs the same statements
//! inside its own transaction after `hold_to_plans`.

use numbers_core::clock::Timestamp;
use numbers_core::error::Result;
use numbers_core::number::Number;
use numbers_core::search::SearchQuery;
use numbers_store_sql::search_plan::{
    OFFERED_COUNTRIES_SQL, PLANNER_SETTINGS, SearchPlan, Target, calling_codes_of,
};
use tokio_postgres::GenericClient;

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
            .map_err(db_err)?;
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

/// Up to `wanted` numbers of the plan, in E.164 order; `suffix` is appended to each statement
/// (a criteria order's `FOR UPDATE SKIP LOCKED`).
pub(crate) async fn walk<C: GenericClient>(
    client: &C,
    plan: &SearchPlan,
    wanted: usize,
    suffix: &str,
) -> Result<Vec<Number>> {
    let mut found = Vec::new();
    for range in &plan.ranges {
        let (sql, params) = plan.range_statement(range, wanted - found.len(), Target::PostgreSql);
        let values = binds(params);
        let rows = client
            .query(format!("{sql}{suffix}").as_str(), &refs(&values))
            .await
            .map_err(db_err)?;
        found.extend(numbers_from_rows(&rows)?);
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

/// `PLANNER_SETTINGS` as connection options (`-c name=value …`) for the search connections.
pub(crate) fn planner_options() -> String {
    PLANNER_SETTINGS
        .iter()
        .map(|(name, value)| format!("-c {name}={value}"))
        .collect::<Vec<_>>()
        .join(" ")
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
        let client = self.search_client().await?;
        let plan = plan(&**client, query, now).await?;
        let mut out = Vec::new();
        for (sql, params) in
            numbers_store_sql::search_plan::statements(&plan, digit, limit, Target::PostgreSql)
        {
            let explained = explain_statement(&**client, &sql, params).await?;
            out.push((sql, explained));
        }
        drop(client);
        if let Some(range) = plan.ranges.first() {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(db_err)?;
            hold_to_plans(&*tx).await?;
            let (sql, params) = plan.range_statement(range, limit, Target::PostgreSql);
            let sql = format!("{sql} FOR UPDATE SKIP LOCKED");
            let explained = explain_statement(&*tx, &sql, params).await?;
            tx.rollback().await.map_err(db_err)?;
            out.push((sql, explained));
        }
        Ok(out)
    }
}
