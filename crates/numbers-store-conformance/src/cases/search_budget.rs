//! Search budgets (`SearchLimits`): a search reads at most so many offered index entries per
//! range before it gives up with `Limit::SearchTooBroad`, whatever the database. Unlike the
//! other cases this one needs a store opened with small limits: its line in `for_each_case!`
//! reads `search_budgets with SMALL_LIMITS`.

use numbers_core::error::{Error, Limit};
use numbers_core::number::Capability;
use numbers_core::page::encode_token;
use numbers_core::search::{CapabilityMatch, SearchQuery, SearchQueryBuilder};
use numbers_core::store::{SearchBudget, SearchLimits};

use crate::fixtures::{caps, minutes, seattle};
use crate::support::{DynStore, completed_numbers, import, new_account, place, search_order};

/// The limits `search_budgets` expects its store to be opened with.
pub const SMALL_LIMITS: SearchLimits = SearchLimits {
    quick_rows: 300,
    thorough_rows: 3_000,
};

fn sms(b: SearchQueryBuilder) -> SearchQuery {
    b.capability_values(["SMS"], CapabilityMatch::AllOf, "capabilities")
        .build()
        .expect("a valid query")
}

async fn search(
    store: &DynStore,
    q: &SearchQuery,
    budget: SearchBudget,
) -> Result<Vec<String>, Error> {
    store
        .search_available_within(q, minutes(1), budget)
        .await
        .map(|found| found.iter().map(|n| n.e164.as_str().to_string()).collect())
}

fn too_broad(result: Result<Vec<String>, Error>, what: &str) {
    assert!(
        matches!(result, Err(Error::OverLimit(Limit::SearchTooBroad))),
        "{what}: expected SearchTooBroad, got {result:?}"
    );
}

/// 4,000 Seattle numbers (+1 206 555 0000 … 3999), voice only but the last ten, which also take
/// SMS: a search for SMS numbers reads 3,990 entries before its first match.
pub async fn search_budgets(store: DynStore) {
    let numbers: Vec<_> = (0..4_000)
        .map(|i| {
            let mut n = seattle(&format!("{i:04}"));
            if i < 3_990 {
                n.capabilities = caps(&[Capability::Voice]);
            }
            n
        })
        .collect();
    for chunk in numbers.chunks(1_000) {
        import(&store, chunk, minutes(0)).await;
    }
    let last_ten: Vec<String> = (3_990..4_000).map(|i| format!("+1206555{i:04}")).collect();

    // Reading 3,990 entries is more than either budget.
    let area_code = sms(SearchQuery::builder().npa(Some("206"), "npa"));
    too_broad(
        search(&store, &area_code, SearchBudget::Quick).await,
        "SMS in 206, quick",
    );
    too_broad(
        search(&store, &area_code, SearchBudget::Thorough).await,
        "SMS in 206, thorough",
    );

    // From a page token near the end, the walk reads 90 entries: within even the quick budget.
    let near_the_end = sms(SearchQuery::builder()
        .npa(Some("206"), "npa")
        .page_token(Some(&encode_token("+12065553899")), "page_token"));
    assert_eq!(
        search(&store, &near_the_end, SearchBudget::Quick)
            .await
            .ok(),
        Some(last_ten.clone()),
        "SMS after +12065553899, quick"
    );

    // A range of 1,000 entries with no match: too much for quick, and thorough reads it to its
    // end and answers that there is nothing.
    let one_block = sms(SearchQuery::builder().npa_nxx_x(Some("2065551"), "npa_nxx_x"));
    too_broad(
        search(&store, &one_block, SearchBudget::Quick).await,
        "SMS in 206-555-1, quick",
    );
    assert_eq!(
        search(&store, &one_block, SearchBudget::Thorough)
            .await
            .ok(),
        Some(vec![]),
        "SMS in 206-555-1, thorough"
    );

    // A search without tests reads only what it returns, however large the range.
    let all = SearchQuery::builder()
        .npa(Some("206"), "npa")
        .page_size(Some("1000"), "page_size", 50, 5000)
        .build()
        .expect("a valid query");
    let page = search(&store, &all, SearchBudget::Quick)
        .await
        .expect("a page without tests is never too broad");
    assert_eq!(page.len(), 1001);

    // Orders are not searches: a criteria order reads what it must, with no budget.
    let account = new_account(&store, "budget", minutes(0)).await;
    let order = place(
        &store,
        &search_order(account, area_code, 5, minutes(1)),
        minutes(1),
    )
    .await;
    assert_eq!(
        completed_numbers(&order)
            .iter()
            .map(|e| e.as_str().to_string())
            .collect::<Vec<_>>(),
        last_ten[..5].to_vec(),
        "a criteria order for five SMS numbers in 206"
    );
}
