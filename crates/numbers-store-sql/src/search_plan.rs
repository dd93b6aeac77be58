//! How a `SearchQuery` is answered: from which index, over which E.164 ranges, with which
//! remaining tests — decided here, in code, never by a database planner's statistics.
//!
//! Every search returns numbers in E.164 order, a page at a time. It is fast for every value
//! only if the database walks an index whose entries are already in that order and stops after
//! a page, instead of collecting the matches and sorting them. Both planners choose from
//! statistics that can be missing (a fresh bulk load), sampled (SQLite reads only the first
//! entries of an index) or stale (sales moved the numbers), and both have chosen to sort a whole
//! country because of them (docs/PERFORMANCE.md). So the plan is made here:
//!
//! - **The driving index** is one of `DRIVING_INDEXES`, each shaped
//!   `(equality columns…, e164, available_from) WHERE available_from IS NOT NULL`. The query's
//!   most selective equality facet picks it (ZIP, rate center, city, LATA, state,
//!   classification, country + one type), else the E.164 index itself.
//! - **E.164 ranges**: every facet that fixes leading digits (country calling code, NPA /
//!   NPA-NXX / NPA-NXX-X, a starts-with pattern, a toll-free NPA or wildcard, the page token) is
//!   intersected here into a sorted list of disjoint ranges. Inside the driving index the range
//!   follows the equality columns, so one index serves an equality facet and a digit prefix
//!   together. Several ranges (the NPAs of `8**`; a national prefix under each calling code on
//!   offer) are walked one after another, each in order, until the page is full: results of an
//!   earlier range all sort before those of a later one, so nothing is merged or sorted.
//! - **Residual tests** (everything else) are checked on the rows the walk reaches.
//!
//! Each database is then held to that plan: SQLite with `INDEXED BY` (the statement fails to
//! prepare rather than use another index), PostgreSQL by a row comparison on the index's own
//! columns and an `ORDER BY` that only the driving index delivers without a sort, on
//! connections where sorts, sequential and bitmap scans are priced out (`PLANNER_SETTINGS`).
//! The plan test of each store checks every facet combination the query builder can produce.

use numbers_core::clock::{Timestamp, to_millis};
use numbers_core::search::{
    CapabilityFilter, DigitPattern, PatternPosition, ProtectedFilter, SearchQuery, calling_code_of,
};

use crate::number_row::NUMBER_COLUMNS;
use crate::search_sql::{Placeholder, SqlParams, SqlValue, capability_clause};

/// One search index: its name and the equality columns before `e164, available_from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchIndex {
    pub name: &'static str,
    pub equality: &'static [&'static str],
}

pub const BY_E164: SearchIndex = SearchIndex {
    name: "numbers_offered_e164",
    equality: &[],
};
pub const BY_ZIP: SearchIndex = SearchIndex {
    name: "numbers_offered_zip",
    equality: &["zip"],
};
pub const BY_RATE_CENTER: SearchIndex = SearchIndex {
    name: "numbers_offered_rate_center",
    equality: &["rate_center", "state_code"],
};
pub const BY_CITY: SearchIndex = SearchIndex {
    name: "numbers_offered_city",
    equality: &["city", "state_code"],
};
pub const BY_LATA: SearchIndex = SearchIndex {
    name: "numbers_offered_lata",
    equality: &["lata"],
};
pub const BY_STATE: SearchIndex = SearchIndex {
    name: "numbers_offered_state",
    equality: &["state_code"],
};
pub const BY_CLASSIFICATION: SearchIndex = SearchIndex {
    name: "numbers_offered_classification",
    equality: &["classification"],
};
pub const BY_COUNTRY_TYPE: SearchIndex = SearchIndex {
    name: "numbers_offered_country_type",
    equality: &["country", "number_type"],
};

/// Every driving index, most selective first: the first whose equality facets the query names
/// drives it.
pub const DRIVING_INDEXES: [SearchIndex; 8] = [
    BY_ZIP,
    BY_RATE_CENTER,
    BY_CITY,
    BY_LATA,
    BY_STATE,
    BY_CLASSIFICATION,
    BY_COUNTRY_TYPE,
    BY_E164,
];

/// Session settings of the PostgreSQL connections that run searches: with sorts, sequential and
/// bitmap scans priced out (not forbidden: a query with no other way still runs), the planner
/// takes the ordered walk of the driving index that the SQL below leaves as the only sort-free
/// path, whatever its statistics say. No parallel workers: a page is a few dozen rows.
pub const PLANNER_SETTINGS: &[(&str, &str)] = &[
    ("enable_seqscan", "off"),
    ("enable_bitmapscan", "off"),
    ("enable_sort", "off"),
    ("enable_incremental_sort", "off"),
    ("max_parallel_workers_per_gather", "0"),
];

/// Which database a statement is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// SQLite, held to the plan's index by `INDEXED BY`.
    Sqlite,
    /// SQLite while a bulk load has set the search indexes aside (`BulkLoadStore`): the same
    /// tests with `ORDER BY e164` and no index named — correct, only slower.
    SqliteWithoutSearchIndexes,
    PostgreSql,
}

impl Target {
    fn placeholder(self) -> Placeholder {
        match self {
            Target::Sqlite | Target::SqliteWithoutSearchIndexes => Placeholder::QuestionNumbered,
            Target::PostgreSql => Placeholder::DollarNumbered,
        }
    }
}

/// The lowest and the highest possible keys: every E.164 text is `+` and digits, and `;` sorts
/// right after `9`.
const KEY_MIN: &str = "+";
const KEY_MAX: &str = "+;";

/// `[start, end)` over E.164 text; `start` is exclusive after a page token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    pub start: String,
    pub start_inclusive: bool,
    pub end: String,
}

impl KeyRange {
    fn all() -> Self {
        KeyRange {
            start: KEY_MIN.into(),
            start_inclusive: true,
            end: KEY_MAX.into(),
        }
    }

    /// Every key that starts with `prefix`.
    fn prefix(prefix: &str) -> Self {
        KeyRange {
            start: prefix.into(),
            start_inclusive: true,
            end: format!("{prefix};"),
        }
    }

    fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    fn intersect(&self, other: &KeyRange) -> Option<KeyRange> {
        let (start, start_inclusive) = match self.start.cmp(&other.start) {
            std::cmp::Ordering::Greater => (self.start.clone(), self.start_inclusive),
            std::cmp::Ordering::Less => (other.start.clone(), other.start_inclusive),
            std::cmp::Ordering::Equal => (
                self.start.clone(),
                self.start_inclusive && other.start_inclusive,
            ),
        };
        let end = self.end.clone().min(other.end.clone());
        let range = KeyRange {
            start,
            start_inclusive,
            end,
        };
        (!range.is_empty()).then_some(range)
    }
}

/// Intersects two sorted lists of disjoint ranges.
fn intersect_all(a: &[KeyRange], b: &[KeyRange]) -> Vec<KeyRange> {
    let mut out: Vec<KeyRange> = a
        .iter()
        .flat_map(|x| b.iter().filter_map(|y| x.intersect(y)))
        .collect();
    out.sort_by(|x, y| x.start.cmp(&y.start));
    out
}

/// A search, decided: walk `index` with its equality values, over each of `ranges` in turn.
#[derive(Debug, Clone)]
pub struct SearchPlan {
    pub index: SearchIndex,
    equal_values: Vec<String>,
    pub ranges: Vec<KeyRange>,
    residual: Residual,
    now_ms: i64,
}

/// What the walk tests on the rows it reaches (the facets the index does not fix).
#[derive(Debug, Clone, Default)]
struct Residual {
    equal: Vec<(&'static str, String)>,
    types: Vec<String>,
    capabilities: CapabilityFilter,
    like: Option<String>,
    protected: ProtectedFilter,
}

impl SearchPlan {
    /// Whether the plan needs the calling codes on offer (`SearchPlan::new`'s `calling_codes`):
    /// only a national starts-with without a country, which may sit under any calling code.
    pub fn needs_calling_codes(query: &SearchQuery) -> bool {
        query.pattern.as_ref().is_some_and(|p| {
            p.position == PatternPosition::StartsWith && !p.international && query.country.is_none()
        })
    }

    /// The plan of `query` at `now`. `calling_codes`: the calling codes of the countries whose
    /// numbers are in the inventory (read by the store when `needs_calling_codes`; ignored
    /// otherwise).
    pub fn new(query: &SearchQuery, now: Timestamp, calling_codes: &[u16]) -> SearchPlan {
        let one_type = match query.types.as_slice() {
            [one] => Some(one.as_str().to_string()),
            _ => None,
        };
        let facet = |column: &str| -> Option<String> {
            match column {
                "zip" => query.zip.clone(),
                "rate_center" => query.rate_center.clone(),
                "city" => query.city.clone(),
                "lata" => query.lata.clone(),
                "state_code" => query.state.clone(),
                "classification" => query.classification.map(|c| c.as_str().to_string()),
                "country" => query.country.clone(),
                "number_type" => one_type.clone(),
                _ => None,
            }
        };
        let index = DRIVING_INDEXES
            .into_iter()
            .find(|index| index.equality.iter().all(|column| facet(column).is_some()))
            .unwrap_or(BY_E164);
        let equal_values: Vec<String> = index.equality.iter().filter_map(|c| facet(c)).collect();

        // The residual equality tests: every equality facet the index does not fix.
        let mut residual = Residual {
            capabilities: query.capabilities,
            protected: query.protected,
            ..Residual::default()
        };
        for column in [
            "zip",
            "rate_center",
            "city",
            "lata",
            "state_code",
            "classification",
            "country",
        ] {
            if !index.equality.contains(&column)
                && let Some(value) = facet(column)
            {
                residual.equal.push((column, value));
            }
        }
        if !index.equality.contains(&"number_type") {
            residual.types = query.types.iter().map(|t| t.as_str().to_string()).collect();
        }

        let mut ranges = vec![KeyRange::all()];
        let mut narrow = |with: Vec<KeyRange>| ranges = intersect_all(&ranges, &with);
        if let Some(code) = query.country.as_deref().and_then(calling_code_of) {
            narrow(vec![KeyRange::prefix(&format!("+{code}"))]);
        }
        if let Some(prefix) = &query.nanp_prefix {
            narrow(vec![KeyRange::prefix(&format!("+1{prefix}"))]);
        }
        if let Some(tf) = &query.toll_free_pattern {
            narrow(
                tf.npas()
                    .iter()
                    .map(|npa| KeyRange::prefix(&format!("+1{npa}")))
                    .collect(),
            );
        }
        if let Some(p) = &query.pattern {
            match pattern_ranges(p, calling_codes) {
                Some(with) => narrow(with),
                None => residual.like = Some(like_pattern(p)),
            }
        }
        if let Some(after) = &query.after {
            narrow(vec![KeyRange {
                start: after.clone(),
                start_inclusive: false,
                end: KEY_MAX.into(),
            }]);
        }
        SearchPlan {
            index,
            equal_values,
            ranges,
            residual,
            now_ms: to_millis(now),
        }
    }

    /// Whether `e164` lies in one of the plan's ranges (candidates from the digit index are
    /// filtered with this before the database is asked about them).
    pub fn admits(&self, e164: &str) -> bool {
        self.ranges.iter().any(|r| {
            let above = if r.start_inclusive {
                e164 >= r.start.as_str()
            } else {
                e164 > r.start.as_str()
            };
            above && e164 < r.end.as_str()
        })
    }

    /// Fails loudly if rows did not come back in strictly ascending E.164 order, which every
    /// statement of a plan guarantees by the index it walks (SQLite's carry no ORDER BY).
    pub fn check_order<'a>(
        keys: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), numbers_core::error::Error> {
        let mut previous: Option<&str> = None;
        for key in keys {
            if previous.is_some_and(|p| p >= key) {
                return Err(numbers_core::error::Error::internal(format!(
                    "search rows out of E.164 order at {key}: the plan's index was not walked in order"
                )));
            }
            previous = Some(key);
        }
        Ok(())
    }

    /// Whether the plan tests rows beyond what its index fixes: only then can a walk read rows
    /// it does not return (`range_statement`'s budget).
    pub fn has_tests(&self) -> bool {
        let r = &self.residual;
        !r.equal.is_empty()
            || !r.types.is_empty()
            || !r.capabilities.set.is_empty()
            || r.like.is_some()
            || r.protected != ProtectedFilter::Mixed
    }

    /// The same plan restricted to a chunk of candidate numbers (the digit index's), each
    /// looked up in the E.164 index instead of walking a range.
    pub fn candidates_statement(
        &self,
        candidates: &[String],
        limit: usize,
        target: Target,
    ) -> (String, Vec<SqlValue>) {
        let mut params = SqlParams::new(target.placeholder());
        let list: Vec<String> = candidates.iter().map(|e| params.text(e.clone())).collect();
        let mut clauses = vec![format!("e164 IN ({})", list.join(", "))];
        // The index fixed these; here they are tests like the rest.
        for (column, value) in self.index.equality.iter().zip(&self.equal_values) {
            let value = params.text(value.clone());
            clauses.push(test_equal(column, &value, target));
        }
        clauses.push(format!("available_from <= {}", params.int(self.now_ms)));
        clauses.extend(self.tests(&mut params, target));
        let (from, order_by) = match target {
            Target::Sqlite => (format!("numbers INDEXED BY {}", BY_E164.name), ""),
            Target::SqliteWithoutSearchIndexes => ("numbers".to_string(), " ORDER BY e164"),
            Target::PostgreSql => ("numbers".to_string(), " ORDER BY e164, available_from"),
        };
        let limit = params.int(limit as i64);
        let sql = format!(
            "SELECT {NUMBER_COLUMNS} FROM {from} WHERE {}{order_by} LIMIT {limit}",
            clauses.join(" AND ")
        );
        (sql, params.values)
    }

    /// The statement that walks `range` (one of `self.ranges`) for at most `limit` matching
    /// rows, reading at most `budget` offered entries of the index when one is given (see
    /// `budget_used_statement`).
    pub fn range_statement(
        &self,
        range: &KeyRange,
        limit: usize,
        budget: Option<u64>,
        target: Target,
    ) -> (String, Vec<SqlValue>) {
        let mut params = SqlParams::new(target.placeholder());
        let walk = self.walk(range, &mut params, target);
        let tests = self.tests(&mut params, target);
        let sql = match budget {
            // Every entry read is a row returned: the limit bounds the reading.
            _ if tests.is_empty() => format!(
                "SELECT {NUMBER_COLUMNS} FROM {} WHERE {}{} LIMIT {}",
                walk.from,
                walk.conditions.join(" AND "),
                walk.order_by,
                params.int(limit as i64)
            ),
            None => format!(
                "SELECT {NUMBER_COLUMNS} FROM {} WHERE {} AND {}{} LIMIT {}",
                walk.from,
                walk.conditions.join(" AND "),
                tests.join(" AND "),
                walk.order_by,
                params.int(limit as i64)
            ),
            // The walk reads at most `budget` entries (the inner LIMIT), tests each and hands on
            // the rows that pass, in order, until `limit` have (the outer LIMIT); both
            // databases run the inner query as a pipeline under the outer one.
            Some(budget) => format!(
                "SELECT {NUMBER_COLUMNS} FROM (SELECT {NUMBER_COLUMNS}, ({}) AS hit FROM {} WHERE {}{} LIMIT {}) AS walked WHERE hit{} LIMIT {}",
                tests.join(" AND "),
                walk.from,
                walk.conditions.join(" AND "),
                walk.order_by,
                params.int(i64::try_from(budget).unwrap_or(i64::MAX)),
                walk.order_by,
                params.int(limit as i64)
            ),
        };
        (sql, params.values)
    }

    /// After a budgeted `range_statement` returned fewer rows than asked, whether it stopped
    /// because the range ended or because it used up its budget: one row, the number of
    /// entries the walk would read (at most `budget`; `budget` means the budget ran out).
    pub fn budget_used_statement(
        &self,
        range: &KeyRange,
        budget: u64,
        target: Target,
    ) -> (String, Vec<SqlValue>) {
        let mut params = SqlParams::new(target.placeholder());
        let walk = self.walk(range, &mut params, target);
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT e164 FROM {} WHERE {}{} LIMIT {}) AS walked",
            walk.from,
            walk.conditions.join(" AND "),
            walk.order_by,
            params.int(i64::try_from(budget).unwrap_or(i64::MAX)),
        );
        (sql, params.values)
    }

    /// The walk of `range`: its index, its conditions (equalities, range, on offer at `now`)
    /// and the order it yields.
    fn walk(&self, range: &KeyRange, params: &mut SqlParams, target: Target) -> Walk {
        let mut conditions = Vec::new();
        let lower = if range.start_inclusive { ">=" } else { ">" };
        let (from, order_by) = match target {
            Target::Sqlite | Target::SqliteWithoutSearchIndexes => {
                for (column, value) in self.index.equality.iter().zip(&self.equal_values) {
                    conditions.push(format!("{column} = {}", params.text(value.clone())));
                }
                conditions.push(format!("e164 {lower} {}", params.text(range.start.clone())));
                conditions.push(format!("e164 < {}", params.text(range.end.clone())));
                if target == Target::Sqlite {
                    // No ORDER BY: the walk of the forced index over one range already yields
                    // E.164 order, and with an ORDER BY SQLite's planner ignores that order
                    // whenever it estimates the result at just under one row (its second
                    // planning pass reads an estimate of 0 as "no ORDER BY"), and sorts. The
                    // stores check the order of what comes back (`SearchPlan::check_order`).
                    (
                        format!("numbers INDEXED BY {}", self.index.name),
                        String::new(),
                    )
                } else {
                    ("numbers".to_string(), " ORDER BY e164".to_string())
                }
            }
            Target::PostgreSql => {
                // A row comparison over the index's own leading columns: only this index can
                // serve it as a range, and only this index delivers the order unsorted (with
                // plain equalities PostgreSQL would treat the equality columns as constants
                // and any E.164-ordered index would do).
                let mut columns: Vec<&str> = self.index.equality.to_vec();
                columns.push("e164");
                let row = columns.join(", ");
                let mut values = |key: &str| {
                    let mut v: Vec<String> = self
                        .equal_values
                        .iter()
                        .map(|e| params.text(e.clone()))
                        .collect();
                    v.push(params.text(key.to_string()));
                    v.join(", ")
                };
                let lo = values(&range.start);
                let hi = values(&range.end);
                if self.index.equality.is_empty() {
                    conditions.push(format!("e164 {lower} {lo}"));
                    conditions.push(format!("e164 < {hi}"));
                } else {
                    conditions.push(format!("({row}) {lower} ({lo})"));
                    conditions.push(format!("({row}) < ({hi})"));
                }
                columns.push("available_from");
                (
                    "numbers".to_string(),
                    format!(" ORDER BY {}", columns.join(", ")),
                )
            }
        };
        conditions.push(format!("available_from <= {}", params.int(self.now_ms)));
        Walk {
            from,
            conditions,
            order_by,
        }
    }

    /// The tests on each row the walk reaches (the facets its index does not fix).
    fn tests(&self, params: &mut SqlParams, target: Target) -> Vec<String> {
        let mut tests = Vec::new();
        let r = &self.residual;
        for (column, value) in &r.equal {
            let value = params.text(value.clone());
            tests.push(test_equal(column, &value, target));
        }
        match r.types.as_slice() {
            [] => {}
            [one] => tests.push(format!("number_type = {}", params.text(one.clone()))),
            many => {
                let list: Vec<String> = many.iter().map(|t| params.text(t.clone())).collect();
                tests.push(format!("number_type IN ({})", list.join(", ")));
            }
        }
        if let Some(clause) = capability_clause(&r.capabilities, params) {
            tests.push(clause);
        }
        if let Some(like) = &r.like {
            tests.push(format!("e164 LIKE {}", params.text(like.clone())));
        }
        match r.protected {
            ProtectedFilter::Mixed => {}
            ProtectedFilter::Exclude => tests.push("protected = FALSE".into()),
            ProtectedFilter::Only => tests.push("protected = TRUE".into()),
        }
        tests
    }
}

/// The index part of a range statement (`SearchPlan::walk`).
struct Walk {
    from: String,
    conditions: Vec<String>,
    order_by: String,
}

/// `column = value` as a test on the rows a walk reaches, never a way in: PostgreSQL could
/// otherwise serve it (with the E.164 order) from another index of `DRIVING_INDEXES` and walk
/// all of that index's numbers; `IS NOT DISTINCT FROM` means the same for a non-null value and
/// no index serves it. (SQLite statements name their index.)
fn test_equal(column: &str, value: &str, target: Target) -> String {
    match target {
        Target::PostgreSql => format!("{column} IS NOT DISTINCT FROM {value}"),
        Target::Sqlite | Target::SqliteWithoutSearchIndexes => format!("{column} = {value}"),
    }
}

/// The statements a search of `plan` can run, to be explained by the plan tests: the walk of
/// its first range (with `budget`) and its budget check, and the look-up of digit-index
/// candidates when `digit_candidates` (the query is one the digit index serves). Every range's
/// statements have the same text.
pub fn statements(
    plan: &SearchPlan,
    digit_candidates: bool,
    limit: usize,
    budget: u64,
    target: Target,
) -> Vec<(String, Vec<SqlValue>)> {
    let mut out = Vec::new();
    if let Some(range) = plan.ranges.first() {
        out.push(plan.range_statement(range, limit, Some(budget), target));
        if plan.has_tests() {
            out.push(plan.budget_used_statement(range, budget, target));
        }
    }
    if digit_candidates {
        let sample: Vec<String> = ["+12065550100", "+12065550101", "+61491570156"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        out.push(plan.candidates_statement(&sample, limit, target));
    }
    out
}

/// A starts-with pattern as E.164 ranges; `None` for contains / ends-with, which only a residual
/// test (or the digit index) can answer.
fn pattern_ranges(p: &DigitPattern, calling_codes: &[u16]) -> Option<Vec<KeyRange>> {
    if p.position != PatternPosition::StartsWith {
        return None;
    }
    if p.international {
        return Some(vec![KeyRange::prefix(&format!("+{}", p.digits))]);
    }
    // National digits follow the calling code: one range under each calling code on offer
    // (calling codes are prefix-free, so the ranges are disjoint).
    let mut ranges: Vec<KeyRange> = calling_codes
        .iter()
        .map(|code| KeyRange::prefix(&format!("+{code}{}", p.digits)))
        .collect();
    ranges.sort_by(|a, b| a.start.cmp(&b.start));
    ranges.dedup();
    Some(ranges)
}

/// Digits only (the query builder guarantees it), so no LIKE wildcard needs escaping.
fn like_pattern(p: &DigitPattern) -> String {
    match p.position {
        PatternPosition::EndsWith => format!("%{}", p.digits),
        _ => format!("%{}%", p.digits),
    }
}

/// The countries with numbers on offer, by a loose scan of `numbers_offered_country_type` (one
/// index probe per country): what `SearchPlan::needs_calling_codes` asks the store for.
pub const OFFERED_COUNTRIES_SQL: &str = "WITH RECURSIVE c(country) AS ( \
       SELECT MIN(country) FROM numbers WHERE available_from IS NOT NULL \
       UNION ALL \
       SELECT (SELECT MIN(country) FROM numbers WHERE available_from IS NOT NULL AND country > c.country) FROM c WHERE c.country IS NOT NULL \
     ) SELECT country FROM c WHERE country IS NOT NULL";

/// The distinct calling codes of `countries` (see `OFFERED_COUNTRIES_SQL`).
pub fn calling_codes_of<'a>(countries: impl IntoIterator<Item = &'a str>) -> Vec<u16> {
    let mut codes: Vec<u16> = countries.into_iter().filter_map(calling_code_of).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbers_core::number::NumberType;

    fn plan(q: numbers_core::search::SearchQueryBuilder) -> SearchPlan {
        SearchPlan::new(&q.build().unwrap(), Timestamp::UNIX_EPOCH, &[1, 44, 61])
    }

    #[test]
    fn a_country_and_an_area_code_are_one_range() {
        let p = plan(
            SearchQuery::builder()
                .country(Some("US"), "country")
                .npa(Some("206"), "npa"),
        );
        assert_eq!(p.index, BY_E164);
        assert_eq!(p.ranges, vec![KeyRange::prefix("+1206")]);
    }

    #[test]
    fn the_most_selective_equality_drives_and_the_prefix_rides_along() {
        let p = plan(
            SearchQuery::builder()
                .country(Some("US"), "country")
                .types(vec![NumberType::Local], "type")
                .state(Some("WA"), "state")
                .npa_nxx(Some("206555"), "npa_nxx"),
        );
        assert_eq!(p.index, BY_STATE);
        assert_eq!(p.ranges, vec![KeyRange::prefix("+1206555")]);
        let (sql, _) = p.range_statement(&p.ranges[0], 51, None, Target::Sqlite);
        assert!(sql.contains("INDEXED BY numbers_offered_state"), "{sql}");
        assert!(
            sql.contains("country = ?"),
            "country is a residual test: {sql}"
        );
    }

    #[test]
    fn a_wildcard_and_a_national_prefix_are_several_ranges_in_order() {
        let tf = plan(SearchQuery::builder().toll_free_pattern(Some("8**"), "tf"));
        assert_eq!(tf.ranges.len(), 7);
        assert!(tf.ranges.windows(2).all(|w| w[0].end <= w[1].start));
        let national = plan(SearchQuery::builder().pattern(
            PatternPosition::StartsWith,
            Some("206"),
            "starts_with",
        ));
        let starts: Vec<&str> = national.ranges.iter().map(|r| r.start.as_str()).collect();
        assert_eq!(starts, vec!["+1206", "+44206", "+61206"]);
    }

    #[test]
    fn a_page_token_moves_the_start_and_can_empty_a_range() {
        let p = plan(
            SearchQuery::builder()
                .npa(Some("206"), "npa")
                .page_token(Some(&numbers_core::page::encode_token("+12065550100")), "t"),
        );
        assert_eq!(p.ranges.len(), 1);
        assert_eq!(
            (p.ranges[0].start.as_str(), p.ranges[0].start_inclusive),
            ("+12065550100", false)
        );
        let past = plan(
            SearchQuery::builder()
                .npa(Some("206"), "npa")
                .page_token(Some(&numbers_core::page::encode_token("+13000000000")), "t"),
        );
        assert!(past.ranges.is_empty());
    }
}
