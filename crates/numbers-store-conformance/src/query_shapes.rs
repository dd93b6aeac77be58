//! Every shape of search the query builder can produce, for the stores' plan tests: each facet
//! of `SearchQuery` with the variants that change how a search can be answered (absent, or each
//! kind of value), combined in every way the builder accepts. A store's plan test explains the
//! statements of every shape under fresh, missing and misleading statistics and fails on one
//! that would scan or sort.
//!
//! Adding a facet to `SearchQuery` breaks the build of `every_facet_is_varied` below until the
//! facet is given its variants here, so a new facet cannot slip past the plan tests.

use numbers_core::clock::Timestamp;
use numbers_core::number::NumberType;
use numbers_core::page::encode_token;
use numbers_core::search::{
    CapabilityMatch, PatternPosition, ProtectedFilter, SearchQuery, SearchQueryBuilder,
};
use numbers_store_sql::digit_index::DigitIndex;
use numbers_store_sql::search_plan::{SearchPlan, Target, statements};

type Variant = (&'static str, fn(SearchQueryBuilder) -> SearchQueryBuilder);

/// One facet and its variants; the first is always "absent".
struct Facet {
    name: &'static str,
    variants: &'static [Variant],
}

fn none(b: SearchQueryBuilder) -> SearchQueryBuilder {
    b
}

/// The facets whose values decide the plan (its driving index and E.164 ranges).
const PLAN_FACETS: &[Facet] = &[
    Facet {
        name: "country",
        variants: &[
            ("-", none),
            ("US", |b| b.country(Some("US"), "country")),
            ("AU", |b| b.country(Some("AU"), "country")),
        ],
    },
    Facet {
        name: "type",
        variants: &[
            ("-", none),
            ("LOCAL", |b| b.types(vec![NumberType::Local], "type")),
            ("LOCAL,MOBILE", |b| {
                b.types(vec![NumberType::Local, NumberType::Mobile], "type")
            }),
        ],
    },
    Facet {
        name: "pattern",
        variants: &[
            ("-", none),
            ("starts 206", |b| {
                b.pattern(PatternPosition::StartsWith, Some("206"), "starts_with")
            }),
            ("starts +1206", |b| {
                b.pattern(PatternPosition::StartsWith, Some("+1206"), "starts_with")
            }),
            ("contains 55", |b| {
                b.pattern(PatternPosition::Contains, Some("55"), "contains")
            }),
            ("contains 5309", |b| {
                b.pattern(PatternPosition::Contains, Some("5309"), "contains")
            }),
        ],
    },
    Facet {
        name: "toll_free",
        variants: &[
            ("-", none),
            ("87*", |b| b.toll_free_pattern(Some("87*"), "toll_free")),
            ("8**", |b| b.toll_free_pattern(Some("8**"), "toll_free")),
        ],
    },
    Facet {
        name: "nanp_prefix",
        variants: &[
            ("-", none),
            ("npa", |b| b.npa(Some("206"), "npa")),
            ("npa_nxx", |b| b.npa_nxx(Some("206555"), "npa_nxx")),
        ],
    },
    Facet {
        name: "rate_center",
        variants: &[
            ("-", none),
            ("SEATTLE", |b| b.rate_center(Some("SEATTLE"), "rate_center")),
        ],
    },
    Facet {
        name: "state",
        variants: &[("-", none), ("WA", |b| b.state(Some("WA"), "state"))],
    },
    Facet {
        name: "city",
        variants: &[
            ("-", none),
            ("SEATTLE", |b| b.city(Some("SEATTLE"), "city")),
        ],
    },
    Facet {
        name: "zip",
        variants: &[("-", none), ("98101", |b| b.zip(Some("98101"), "zip"))],
    },
    Facet {
        name: "lata",
        variants: &[("-", none), ("674", |b| b.lata(Some("674"), "lata"))],
    },
    Facet {
        name: "classification",
        variants: &[
            ("-", none),
            ("GOLD", |b| b.classification(Some("GOLD"), "classification")),
        ],
    },
    Facet {
        name: "page_token",
        variants: &[
            ("-", none),
            ("after", |b| {
                b.page_token(Some(&encode_token("+12065550100")), "page_token")
            }),
        ],
    },
];

/// Facets that only add a test on the rows the walk reaches, in the combinations each plan
/// shape is tried with: none, and three sets that together hold every kind of test.
const TESTS: &[Variant] = &[
    ("", none),
    (
        "capabilities=SMS-all protected=exclude page_size=5000",
        |b| {
            b.capability_values(["SMS"], CapabilityMatch::AllOf, "capabilities")
                .protected(ProtectedFilter::Exclude)
                .page_size(Some("5000"), "page_size", 50, 5000)
        },
    ),
    ("capabilities=SMS|MMS-any protected=only", |b| {
        b.capability_values(["SMS,MMS"], CapabilityMatch::AnyOf, "capabilities")
            .protected(ProtectedFilter::Only)
    }),
    ("capabilities=VOICE-exactly", |b| {
        b.capability_values(["VOICE"], CapabilityMatch::Exactly, "capabilities")
    }),
];

/// Compile-time guard: naming every field of `SearchQuery` here means a new field fails to
/// build until it is listed, and given variants above.
#[allow(dead_code)]
fn every_facet_is_varied(q: SearchQuery) {
    let SearchQuery {
        country: _,           // PLAN_FACETS "country"
        types: _,             // "type"
        capabilities: _,      // TESTS
        pattern: _,           // "pattern"
        toll_free_pattern: _, // "toll_free"
        nanp_prefix: _,       // "nanp_prefix"
        rate_center: _,       // "rate_center"
        state: _,             // "state"
        city: _,              // "city"
        zip: _,               // "zip"
        lata: _,              // "lata"
        classification: _,    // "classification"
        protected: _,         // TESTS
        page_size: _,         // TESTS
        after: _,             // "page_token"
    } = q;
}

/// Every query shape the builder accepts, named by its facet values (`country=US type=LOCAL
/// …`). Combinations the builder refuses (a rate center without a state, NANP facets with AU,
/// a toll-free pattern with an area code…) are not searches, so they are left out.
pub fn every_query_shape() -> Vec<(String, SearchQuery)> {
    let mut shapes = Vec::new();
    let mut choice = vec![0usize; PLAN_FACETS.len()];
    loop {
        for (tests, apply_tests) in TESTS {
            let mut builder = SearchQuery::builder();
            let mut name = Vec::new();
            for (facet, &v) in PLAN_FACETS.iter().zip(&choice) {
                let (label, apply) = facet.variants[v];
                builder = apply(builder);
                if v > 0 {
                    name.push(format!("{}={label}", facet.name));
                }
            }
            if !tests.is_empty() {
                name.push(tests.to_string());
            }
            if let Ok(query) = apply_tests(builder).build() {
                shapes.push((name.join(" "), query));
            }
        }
        // The next combination of plan facets (an odometer over their variants).
        let mut i = 0;
        loop {
            if i == choice.len() {
                return shapes;
            }
            choice[i] += 1;
            if choice[i] < PLAN_FACETS[i].variants.len() {
                break;
            }
            choice[i] = 0;
            i += 1;
        }
    }
}

/// The calling codes of the inventory `numbers_inventory::generate` makes (US, GB, DE, AU), which
/// the plan tests load.
pub const GENERATED_CALLING_CODES: [u16; 4] = [1, 44, 49, 61];

/// The index a search of `query` walks, with the generated inventory's calling codes.
pub fn driving_index(query: &SearchQuery) -> &'static str {
    SearchPlan::new(query, Timestamp::UNIX_EPOCH, &GENERATED_CALLING_CODES)
        .index
        .name
}

/// The shapes among `shapes` whose searches walk `index`.
pub fn driven_by(shapes: &[(String, SearchQuery)], index: &str) -> Vec<(String, SearchQuery)> {
    shapes
        .iter()
        .filter(|(_, query)| driving_index(query) == index)
        .cloned()
        .collect()
}

/// Fails the plan test with the first bad plans found under `condition` statistics, if any.
pub fn assert_no_bad_plans(condition: &str, explained: usize, bad: &[String]) {
    assert!(
        bad.is_empty(),
        "{} of {explained} statements plan badly with {condition} statistics:\n{}",
        bad.len(),
        bad.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// One query per distinct statement text among `every_query_shape` (for `target`), with its
/// shape's name: shapes whose statements read the same except for bound values are planned
/// alike, so a plan test explains each text once.
pub fn one_query_per_statement(target: Target) -> Vec<(String, SearchQuery)> {
    let mut seen = std::collections::HashSet::new();
    every_query_shape()
        .into_iter()
        .filter(|(_, query)| {
            let plan = SearchPlan::new(query, Timestamp::UNIX_EPOCH, &GENERATED_CALLING_CODES);
            let digit = DigitIndex::serves(query);
            let texts: Vec<String> = statements(&plan, digit, 1, 1, target)
                .into_iter()
                .map(|(sql, _)| sql)
                .collect();
            seen.insert(texts)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_cover_every_variant_and_only_valid_queries() {
        let shapes = every_query_shape();
        for facet in PLAN_FACETS {
            for (label, _) in &facet.variants[1..] {
                let needle = format!("{}={label}", facet.name);
                assert!(
                    shapes.iter().any(|(name, _)| name.contains(&needle)),
                    "no shape with {needle}"
                );
            }
        }
        for (tests, _) in &TESTS[1..] {
            assert!(shapes.iter().any(|(name, _)| name.ends_with(tests)));
        }
        assert!(
            shapes
                .iter()
                .all(|(_, q)| q.rate_center.is_none() || q.state.is_some())
        );
        let names: std::collections::HashSet<&String> = shapes.iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), shapes.len(), "every shape is named uniquely");
        println!("{} shapes", shapes.len());
        for target in [Target::Sqlite, Target::PostgreSql] {
            println!(
                "{target:?}: {} statements",
                one_query_per_statement(target).len()
            );
        }
    }
}
