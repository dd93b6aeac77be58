//! The inventory (`InventoryStore`): bulk import, public search, lookups, an account's own
//! numbers and the state counts. Import streams a batch into the table with binary `COPY`; COPY
//! has no ON CONFLICT, so when a number of the batch exists (or repeats in it) the COPY fails
//! on the unique E.164, is rolled back to its savepoint, and the batch goes in as multi-row
//! INSERTs of UNNESTed column arrays (`ON CONFLICT (e164) DO NOTHING RETURNING e164`) instead.
//! Fresh inventory, the bulk case, takes the fast path; a re-import pays for its conflicts.

use std::collections::HashMap;

use std::sync::Arc;

use async_trait::async_trait;
use futures::TryStreamExt;
use numbers_core::clock::Timestamp;
use numbers_core::error::{Error, Limit, Result};
use numbers_core::event::{EventKind, NewEvent};
use numbers_core::ids::{AccountId, NumberId};
use numbers_core::number::{E164, NewNumber, Number};
use numbers_core::search::SearchQuery;
use numbers_core::store::{
    ImportOutcome, InventoryStats, InventoryStore, NumberFilter, SearchBudget,
};
use numbers_store_sql::digit_index::{
    DigitIndex, DigitIndexBuilder, INDEXED_NUMBERS_SQL, chunk_sizes,
};
use numbers_store_sql::{
    NUMBER_COLUMNS, NumberRow, Placeholder, SqlParams, account_filter_matches,
    account_numbers_where,
};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{IsolationLevel, Transaction};

use crate::events::IMPORT_WATERMARK_SQL;
use crate::rows::{get, number_from_row, numbers_from_rows, select_numbers};
use crate::{Bind, PostgresStore, binds, db_err, refs, search, unique_violation};
use numbers_store_sql::search_plan::{SearchPlan, Target};

/// Rows per INSERT statement: large enough that per-statement overhead vanishes, small enough
/// to keep the bound arrays (32 columns) to a few megabytes.
const IMPORT_CHUNK: usize = 5000;

/// The SQL array type of each column of `NUMBER_COLUMNS`, in order.
const NUMBER_COLUMN_TYPES: [&str; 32] = [
    "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "BIGINT", "TEXT", // id … classification
    "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", // rate_center … zip
    "BIGINT", "TEXT", "TEXT", "BIGINT", "BIGINT", "TEXT", // tier … currency
    "BOOLEAN", "TEXT", // protected, state
    "TEXT", "TEXT", "TEXT", "TEXT", // owner, last_owner, assignment_id, reservation_id
    "BIGINT", "BIGINT", "BIGINT",
    "BIGINT", // reserved_until, available_after, assigned_at, available_from
    "TEXT", "BIGINT", "BIGINT", "BIGINT", // assignment, created_at, updated_at, version
];

/// The rows of a chunk as one array per column (moved, not copied), in `NUMBER_COLUMNS` order.
fn column_arrays(rows: Vec<NumberRow>) -> Vec<Bind> {
    let n = rows.len();
    let (
        mut id,
        mut e164,
        mut national,
        mut country,
        mut number_type,
        mut capabilities,
        mut classification,
    ) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut rate_center, mut state_code, mut city, mut lata, mut zip) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut tier, mut vendor_id, mut vendor_name, mut setup, mut monthly, mut currency) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (
        mut protected,
        mut state,
        mut owner,
        mut last_owner,
        mut assignment_id,
        mut reservation_id,
    ) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut reserved_until, mut available_after, mut assigned_at, mut available_from) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut assignment, mut created_at, mut updated_at, mut version) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in rows {
        id.push(r.id);
        e164.push(r.e164);
        national.push(r.national);
        country.push(r.country);
        number_type.push(r.number_type);
        capabilities.push(r.capabilities);
        classification.push(r.classification);
        rate_center.push(r.rate_center);
        state_code.push(r.state_code);
        city.push(r.city);
        lata.push(r.lata);
        zip.push(r.zip);
        tier.push(r.tier);
        vendor_id.push(r.vendor_id);
        vendor_name.push(r.vendor_name);
        setup.push(r.setup_price_micros);
        monthly.push(r.monthly_price_micros);
        currency.push(r.currency);
        protected.push(r.protected);
        state.push(r.state);
        owner.push(r.owner_account_id);
        last_owner.push(r.last_owner_account_id);
        assignment_id.push(r.assignment_id);
        reservation_id.push(r.reservation_id);
        reserved_until.push(r.reserved_until);
        available_after.push(r.available_after);
        assigned_at.push(r.assigned_at);
        available_from.push(r.available_from);
        assignment.push(r.assignment);
        created_at.push(r.created_at);
        updated_at.push(r.updated_at);
        version.push(r.version);
    }
    vec![
        Box::new(id),
        Box::new(e164),
        Box::new(national),
        Box::new(country),
        Box::new(number_type),
        Box::new(capabilities),
        Box::new(classification),
        Box::new(rate_center),
        Box::new(state_code),
        Box::new(city),
        Box::new(lata),
        Box::new(zip),
        Box::new(tier),
        Box::new(vendor_id),
        Box::new(vendor_name),
        Box::new(setup),
        Box::new(monthly),
        Box::new(currency),
        Box::new(protected),
        Box::new(state),
        Box::new(owner),
        Box::new(last_owner),
        Box::new(assignment_id),
        Box::new(reservation_id),
        Box::new(reserved_until),
        Box::new(available_after),
        Box::new(assigned_at),
        Box::new(available_from),
        Box::new(assignment),
        Box::new(created_at),
        Box::new(updated_at),
        Box::new(version),
    ]
}

/// Inserts one chunk; returns the E.164s actually inserted.
async fn insert_chunk(tx: &Transaction<'_>, rows: Vec<NumberRow>) -> Result<Vec<String>> {
    let params = column_arrays(rows);
    let arrays: Vec<String> = NUMBER_COLUMN_TYPES
        .iter()
        .enumerate()
        .map(|(i, t)| format!("${}::{t}[]", i + 1))
        .collect();
    let sql = format!(
        "INSERT INTO numbers ({NUMBER_COLUMNS}) SELECT * FROM UNNEST({}) ON CONFLICT (e164) DO NOTHING RETURNING e164",
        arrays.join(", ")
    );
    let inserted = tx
        .query(sql.as_str(), &refs(&params))
        .await
        .map_err(db_err)?;
    inserted.iter().map(|r| get::<String>(r, 0)).collect()
}

/// The driver type of each column of `NUMBER_COLUMNS` for binary COPY (`NUMBER_COLUMN_TYPES`).
fn copy_types() -> Vec<Type> {
    NUMBER_COLUMN_TYPES
        .iter()
        .map(|t| match *t {
            "BIGINT" => Type::INT8,
            "BOOLEAN" => Type::BOOL,
            _ => Type::TEXT,
        })
        .collect()
}

/// COPYs `rows` into `numbers`; fails (unique violation) if any E.164 exists or repeats.
async fn copy_rows(
    tx: &Transaction<'_>,
    rows: &[NumberRow],
) -> std::result::Result<u64, tokio_postgres::Error> {
    let sink = tx
        .copy_in(format!("COPY numbers ({NUMBER_COLUMNS}) FROM STDIN (FORMAT binary)").as_str())
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &copy_types());
    futures::pin_mut!(writer);
    for r in rows {
        let values: [&(dyn ToSql + Sync); 32] = [
            &r.id,
            &r.e164,
            &r.national,
            &r.country,
            &r.number_type,
            &r.capabilities,
            &r.classification,
            &r.rate_center,
            &r.state_code,
            &r.city,
            &r.lata,
            &r.zip,
            &r.tier,
            &r.vendor_id,
            &r.vendor_name,
            &r.setup_price_micros,
            &r.monthly_price_micros,
            &r.currency,
            &r.protected,
            &r.state,
            &r.owner_account_id,
            &r.last_owner_account_id,
            &r.assignment_id,
            &r.reservation_id,
            &r.reserved_until,
            &r.available_after,
            &r.assigned_at,
            &r.available_from,
            &r.assignment,
            &r.created_at,
            &r.updated_at,
            &r.version,
        ];
        writer.as_mut().write(&values).await?;
    }
    writer.finish().await
}

/// Inserts `rows` with INSERT ... ON CONFLICT, chunk by chunk; for each row, whether it went in
/// (the first of a number listed twice does, the repeat reports as existing).
async fn insert_rows(tx: &Transaction<'_>, rows: Vec<NumberRow>) -> Result<Vec<bool>> {
    let mut went_in = Vec::with_capacity(rows.len());
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<NumberRow> = rows.by_ref().take(IMPORT_CHUNK).collect();
        let e164s: Vec<String> = chunk.iter().map(|r| r.e164.clone()).collect();
        let mut fresh: HashMap<String, usize> = HashMap::new();
        for e164 in insert_chunk(tx, chunk).await? {
            *fresh.entry(e164).or_default() += 1;
        }
        for e164 in &e164s {
            went_in.push(match fresh.get_mut(e164) {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    true
                }
                _ => false,
            });
        }
    }
    Ok(went_in)
}

#[async_trait]
impl InventoryStore for PostgresStore {
    async fn import_numbers(&self, numbers: &[NewNumber], at: Timestamp) -> Result<ImportOutcome> {
        let rows: Vec<NumberRow> = numbers
            .iter()
            .map(|n| NumberRow::from_new(n, NumberId::new(), at))
            .collect();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        tx.batch_execute("SAVEPOINT import_copy")
            .await
            .map_err(db_err)?;
        let went_in = match copy_rows(&tx, &rows).await {
            Ok(_) => {
                tx.batch_execute("RELEASE SAVEPOINT import_copy")
                    .await
                    .map_err(db_err)?;
                vec![true; rows.len()]
            }
            // A number of the batch exists or repeats: insert the batch row by row instead.
            Err(e) if unique_violation(&e).is_some() => {
                tx.batch_execute("ROLLBACK TO SAVEPOINT import_copy")
                    .await
                    .map_err(db_err)?;
                insert_rows(&tx, rows).await?
            }
            Err(e) => return Err(db_err(e)),
        };
        let mut outcome = ImportOutcome::default();
        for (n, inserted) in numbers.iter().zip(went_in) {
            if inserted {
                outcome.inserted += 1;
            } else {
                outcome.existing.push(n.e164.clone());
            }
        }
        let events = if outcome.inserted > 0 {
            vec![NewEvent {
                details: serde_json::json!({ "count": outcome.inserted }),
                ..NewEvent::new(EventKind::NumberImported, at)
            }]
        } else {
            vec![]
        };
        self.append_and_commit(tx, &events).await?;
        Ok(outcome)
    }

    async fn search_available_within(
        &self,
        query: &SearchQuery,
        now: Timestamp,
        budget: SearchBudget,
    ) -> Result<Vec<Number>> {
        let budget = self.limits.rows(budget);
        if DigitIndex::serves(query) {
            return self.digit_search(query, now, budget).await;
        }
        let client = self.search_client().await?;
        let plan = search::plan(&**client, query, now).await?;
        let wanted = query.page_size as usize + 1;
        search::walk(&**client, &plan, wanted, &search::Walking::search(budget)).await
    }

    async fn get_number(&self, e164: &E164) -> Result<Option<Number>> {
        let client = self.client().await?;
        let sql = format!("{} WHERE e164 = $1", select_numbers());
        let row = client
            .query_opt(sql.as_str(), &[&e164.as_str()])
            .await
            .map_err(db_err)?;
        row.as_ref().map(number_from_row).transpose()
    }

    async fn get_number_by_id(&self, id: NumberId) -> Result<Option<Number>> {
        let client = self.client().await?;
        let sql = format!("{} WHERE id = $1", select_numbers());
        let row = client
            .query_opt(sql.as_str(), &[&id.to_string()])
            .await
            .map_err(db_err)?;
        row.as_ref().map(number_from_row).transpose()
    }

    async fn list_account_numbers(
        &self,
        account: AccountId,
        filter: &NumberFilter,
    ) -> Result<Vec<Number>> {
        let wanted = filter.page_size as usize + 1;
        let client = self.client().await?;
        let mut found = Vec::new();
        let mut page = filter.clone();
        // The JSON-held filters (label, display name, metadata) are only narrowed by LIKE in
        // SQL and re-checked here; keep reading past rows the exact check drops until the page
        // is full, so a page is never short while more matches exist.
        loop {
            let mut params = SqlParams::new(Placeholder::DollarNumbered);
            let where_clause = account_numbers_where(account, &page, &mut params);
            let limit = params.int(wanted as i64);
            let sql = format!(
                "{} WHERE {where_clause} ORDER BY e164 LIMIT {limit}",
                select_numbers()
            );
            let values = binds(params.values);
            let rows = client
                .query(sql.as_str(), &refs(&values))
                .await
                .map_err(db_err)?;
            let batch = numbers_from_rows(&rows)?;
            let exhausted = batch.len() < wanted;
            page.after = batch.last().map(|n| n.e164.as_str().to_string());
            found.extend(
                batch
                    .into_iter()
                    .filter(|n| account_filter_matches(filter, n)),
            );
            if exhausted || found.len() >= wanted {
                break;
            }
        }
        found.truncate(wanted);
        Ok(found)
    }

    async fn inventory_stats(&self) -> Result<InventoryStats> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT count(*), \
                        count(*) FILTER (WHERE state = 'AVAILABLE'), \
                        count(*) FILTER (WHERE state = 'RESERVED'), \
                        count(*) FILTER (WHERE state = 'ASSIGNED'), \
                        count(*) FILTER (WHERE state = 'AGING') \
                 FROM numbers",
                &[],
            )
            .await
            .map_err(db_err)?;
        let count = |i: usize| get::<i64>(&row, i).map(|c| c.max(0) as u64);
        Ok(InventoryStats {
            total: count(0)?,
            available: count(1)?,
            reserved: count(2)?,
            assigned: count(3)?,
            aging: count(4)?,
        })
    }
}

impl PostgresStore {
    /// A contains / ends-with search through the digit index when it is fresh for this
    /// transaction's snapshot (REPEATABLE READ, so the watermark and every verification query
    /// see the same committed imports), else by plain SQL while a rebuild starts.
    async fn digit_search(
        &self,
        query: &SearchQuery,
        now: Timestamp,
        budget: u64,
    ) -> Result<Vec<Number>> {
        let mut client = self.search_client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(db_err)?;
        let watermark: i64 = tx
            .query_one(IMPORT_WATERMARK_SQL, &[])
            .await
            .map_err(db_err)?
            .try_get(0)
            .map_err(db_err)?;
        let index = self.digits.fresh(watermark);
        // Started before this search runs: a plain-SQL search refused as too broad must still
        // get the index built, or every later one is refused too.
        if index.is_none() && self.digits.start_build() {
            // Built off the request path; searches use plain SQL until it is installed.
            let store = PostgresStore {
                pool: self.pool.clone(),
                search_pool: self.search_pool.clone(),
                limits: self.limits,
                digits: Arc::clone(&self.digits),
                secrets: self.secrets.clone(),
                sequencer: Arc::clone(&self.sequencer),
            };
            tokio::spawn(async move {
                let built = store.load_digit_index().await;
                if let Err(e) = &built {
                    tracing::warn!(error = %e, "building the digit index failed");
                }
                store.digits.finish_build(built.ok());
            });
        }
        let plan = search::plan(&*tx, query, now).await?;
        let candidates = match (&index, &query.pattern) {
            (Some(index), Some(pattern)) => index.candidates(pattern, query.after.as_deref()),
            _ => None,
        };
        let wanted = query.page_size as usize + 1;
        let mut found = Vec::with_capacity(wanted);
        match candidates {
            Some(candidates) => {
                let mut candidates = candidates.filter(|e164| plan.admits(e164));
                let mut read = 0;
                for size in chunk_sizes(query.page_size) {
                    let chunk: Vec<String> = candidates.by_ref().take(size).collect();
                    if chunk.is_empty() {
                        break;
                    }
                    read += chunk.len() as u64;
                    if read > budget {
                        return Err(Error::OverLimit(Limit::SearchTooBroad));
                    }
                    let (sql, params) =
                        plan.candidates_statement(&chunk, wanted - found.len(), Target::PostgreSql);
                    let values = binds(params);
                    let rows = tx
                        .query(sql.as_str(), &refs(&values))
                        .await
                        .map_err(search::search_err)?;
                    found.extend(numbers_from_rows(&rows)?);
                    if found.len() >= wanted {
                        break;
                    }
                }
            }
            None => {
                found = search::walk(&*tx, &plan, wanted, &search::Walking::search(budget)).await?
            }
        }
        SearchPlan::check_order(found.iter().map(|n| n.e164.as_str()))?;
        tx.commit().await.map_err(db_err)?;
        Ok(found)
    }

    /// Every stored number and the import watermark, in one REPEATABLE READ snapshot.
    async fn load_digit_index(&self) -> Result<DigitIndex> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(db_err)?;
        let watermark: i64 = tx
            .query_one(IMPORT_WATERMARK_SQL, &[])
            .await
            .map_err(db_err)?
            .try_get(0)
            .map_err(db_err)?;
        // Streamed: ten million rows must never be held at once.
        let rows = tx
            .query_raw(INDEXED_NUMBERS_SQL, std::iter::empty::<&str>())
            .await
            .map_err(db_err)?;
        futures::pin_mut!(rows);
        let mut builder = DigitIndexBuilder::default();
        while let Some(row) = rows.try_next().await.map_err(db_err)? {
            builder.push(row.try_get::<_, &str>(0).map_err(db_err)?);
        }
        tx.commit().await.map_err(db_err)?;
        Ok(builder.finish(watermark))
    }
}
