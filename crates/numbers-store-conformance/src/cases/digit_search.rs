//! Contains / ends-with searches while the inventory changes, and bulk loading. Both stores answer
//! digit patterns of 4+ digits from an in-memory index that is only a cache (issue 7); these
//! cases pin down that it can never make a search differ from the reference: a number imported
//! after the index was built is found at once, a sold number disappears at once, paging with
//! `after` is seamless. And `BulkLoadStore`: indexes are set aside only on an empty inventory,
//! searches stay exact while they are, and come back afterwards.

use std::time::Duration;

use numbers_core::clock::Timestamp;
use numbers_core::number::Number;
use numbers_core::search::{PatternPosition, SearchQuery};

use crate::fixtures::{self, minutes, seattle, tacoma};
use crate::support::{DynStore, assign, import, new_account, numbers};

fn reference(all: &[Number], q: &SearchQuery, now: Timestamp) -> Vec<String> {
    let mut expected: Vec<String> = all
        .iter()
        .filter(|n| n.is_publicly_available(now) && q.matches(n))
        .map(|n| n.e164.as_str().to_string())
        .filter(|e| q.after.as_deref().is_none_or(|after| e.as_str() > after))
        .collect();
    expected.sort();
    expected.truncate(q.page_size as usize + 1);
    expected
}

async fn check(store: &DynStore, all: &[Number], q: &SearchQuery, now: Timestamp, what: &str) {
    let got: Vec<String> = store
        .search_available(q, now)
        .await
        .unwrap_or_else(|e| panic!("search [{what}] failed: {e:?}"))
        .iter()
        .map(|n| n.e164.as_str().to_string())
        .collect();
    assert_eq!(
        got,
        reference(all, q, now),
        "search [{what}] differs from the reference ({q:?})"
    );
}

fn digit_queries() -> Vec<(&'static str, SearchQuery)> {
    let q = |position, digits: &str, size: &str| {
        SearchQuery::builder()
            .pattern(position, Some(digits), "pattern")
            .page_size(Some(size), "page_size", 50, 5000)
            .build()
            .unwrap_or_else(|e| panic!("suite bug: {e}"))
    };
    vec![
        (
            "contains 2233",
            q(PatternPosition::Contains, "2233", "1000"),
        ),
        (
            "contains 55522",
            q(PatternPosition::Contains, "55522", "1000"),
        ),
        (
            "contains CAFE",
            q(PatternPosition::Contains, "CAFE", "1000"),
        ),
        (
            "ends with 2233",
            q(PatternPosition::EndsWith, "2233", "1000"),
        ),
        (
            "ends with 0100",
            q(PatternPosition::EndsWith, "0100", "1000"),
        ),
        (
            "contains 2233, pages of 1",
            q(PatternPosition::Contains, "2233", "1"),
        ),
    ]
}

/// Reads every stored number again (their states change as the case goes).
async fn everything(store: &DynStore, e164s: &[numbers_core::number::E164]) -> Vec<Number> {
    numbers(store, e164s).await
}

pub async fn digit_search_follows_imports_and_sales(store: DynStore) {
    let catalogue = fixtures::catalogue();
    let mut e164s: Vec<_> = catalogue.iter().map(|n| n.e164.clone()).collect();
    import(&store, &catalogue, minutes(0)).await;
    let now = minutes(5);
    // Several rounds: the index is built in the background after the first digit search, so
    // early rounds may be answered by SQL and later ones by the index; all must be exact.
    for _ in 0..20 {
        let all = everything(&store, &e164s).await;
        for (what, q) in digit_queries() {
            check(&store, &all, &q, now, what).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Paging one at a time walks every match exactly once.
    let all = everything(&store, &e164s).await;
    let (_, mut page) = digit_queries().remove(5);
    let mut walked = Vec::new();
    loop {
        let got = store
            .search_available(&page, now)
            .await
            .unwrap_or_else(|e| panic!("store call failed: {e:?}"));
        check(&store, &all, &page, now, "contains 2233 after").await;
        let Some(first) = got.first() else { break };
        walked.push(first.e164.as_str().to_string());
        page = page
            .clone()
            .with_page(1, Some(first.e164.as_str().to_string()));
    }
    let mut whole = digit_queries().remove(0).1;
    whole.after = None;
    assert_eq!(walked, reference(&all, &whole, now), "paging");

    // Imported after the index was built: found by the very next search.
    let late = [seattle("2234"), tacoma("2233"), seattle("9922")];
    import(&store, &late, minutes(6)).await;
    e164s.extend(late.iter().map(|n| n.e164.clone()));
    let now = minutes(7);
    let all = everything(&store, &e164s).await;
    for (what, q) in digit_queries() {
        check(&store, &all, &q, now, what).await;
    }

    // Sold: gone from the very next search.
    let buyer = new_account(&store, "buyer", minutes(7)).await;
    let (_, contains) = digit_queries().remove(0);
    let first = store
        .search_available(&contains, now)
        .await
        .unwrap_or_else(|e| panic!("store call failed: {e:?}"));
    let sold: Vec<_> = first.iter().take(2).map(|n| n.e164.clone()).collect();
    assert_eq!(sold.len(), 2, "the catalogue holds numbers containing 2233");
    assign(&store, buyer, &sold, now).await;
    let all = everything(&store, &e164s).await;
    for (what, q) in digit_queries() {
        check(&store, &all, &q, now, what).await;
        let got = store
            .search_available(&q, now)
            .await
            .unwrap_or_else(|e| panic!("store call failed: {e:?}"));
        assert!(
            got.iter().all(|n| !sold.contains(&n.e164)),
            "[{what}] returned a sold number"
        );
    }
}

pub async fn bulk_load_sets_indexes_aside_only_when_empty(store: DynStore) {
    assert!(
        store
            .begin_bulk_load()
            .await
            .unwrap_or_else(|e| panic!("store call failed: {e:?}")),
        "an empty inventory sets the search indexes aside"
    );
    let catalogue = fixtures::catalogue();
    let e164s: Vec<_> = catalogue.iter().map(|n| n.e164.clone()).collect();
    import(&store, &catalogue, minutes(0)).await;
    let now = minutes(5);
    let all = numbers(&store, &e164s).await;
    // Without the indexes, every search is still exact (only slower).
    for (what, q) in digit_queries() {
        check(&store, &all, &q, now, what).await;
    }
    let by_state = SearchQuery::builder()
        .rate_center(Some("SEATTLE"), "rate_center")
        .state(Some("WA"), "state")
        .build()
        .unwrap_or_else(|e| panic!("suite bug: {e}"));
    check(&store, &all, &by_state, now, "rate center while set aside").await;
    store
        .finish_bulk_load()
        .await
        .unwrap_or_else(|e| panic!("store call failed: {e:?}"));
    check(&store, &all, &by_state, now, "rate center after the load").await;
    // Twice is harmless.
    store
        .finish_bulk_load()
        .await
        .unwrap_or_else(|e| panic!("store call failed: {e:?}"));
    assert!(
        !store
            .begin_bulk_load()
            .await
            .unwrap_or_else(|e| panic!("store call failed: {e:?}")),
        "a non-empty inventory keeps its indexes"
    );
    store
        .finish_bulk_load()
        .await
        .unwrap_or_else(|e| panic!("store call failed: {e:?}"));
    check(&store, &all, &by_state, now, "rate center, second load").await;
}
