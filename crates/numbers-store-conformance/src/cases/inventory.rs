//! Importing numbers and searching the available inventory. Every search is checked against the
//! reference: `SearchQuery::matches` and `Number::is_publicly_available` applied to every number
//! in the store, sorted by E.164, after the keyset position, limited to `page_size + 1`.

use numbers_core::clock::Timestamp;
use numbers_core::event::EventKind;
use numbers_core::ids::NumberId;
use numbers_core::number::{AssignmentData, Capability, E164, NewNumber, Number, NumberState};
use numbers_core::search::{
    CapabilityMatch, PatternPosition, ProtectedFilter, SearchQuery, SearchQueryBuilder,
};

use crate::fixtures::{
    self, at, au_mobile, caps, days, e164, gb, minutes, raleigh, seattle, toll_free,
};
use crate::support::{
    DynStore, all_events, assign, import, new_account, number, numbers, of_kind, reservation,
    reserve,
};

pub async fn import_numbers(store: DynStore) {
    let batch = vec![
        seattle("0100"),
        NewNumber {
            protected: true,
            ..raleigh("0199")
        },
        au_mobile("+61491570156"),
        toll_free("+18775550100"),
        gb("+447400123456"),
    ];
    let outcome = import(&store, &batch, at(100)).await;
    assert_eq!(outcome.inserted, 5, "inserted count of a fresh batch");
    assert!(
        outcome.existing.is_empty(),
        "nothing existed yet: {:?}",
        outcome.existing
    );

    for new in &batch {
        let n = number(&store, &new.e164).await;
        let round_trip = NewNumber {
            e164: n.e164.clone(),
            country: n.country.clone(),
            number_type: n.number_type,
            capabilities: n.capabilities,
            classification: n.classification,
            location: n.location.clone(),
            tier: n.tier,
            vendor_id: n.vendor_id.clone(),
            vendor_name: n.vendor_name.clone(),
            price: n.price.clone(),
            protected: n.protected,
        };
        assert_eq!(
            &round_trip, new,
            "imported fields must round-trip exactly for {}",
            new.e164
        );
        assert_eq!(
            n.state,
            NumberState::Available,
            "{} state after import",
            n.e164
        );
        assert_eq!(
            (n.owner, n.last_owner, n.assignment_id, n.reservation_id),
            (None, None, None, None),
            "{} holders",
            n.e164
        );
        assert_eq!(
            (n.reserved_until, n.assigned_at),
            (None, None),
            "{} lifecycle times",
            n.e164
        );
        assert_eq!(
            n.available_after,
            Some(at(100)),
            "{} is available from the import time",
            n.e164
        );
        assert_eq!(
            n.assignment,
            AssignmentData::default(),
            "{} assignment data",
            n.e164
        );
        assert_eq!(
            (n.created_at, n.updated_at, n.version),
            (at(100), at(100), 1),
            "{} created/updated/version",
            n.e164
        );
        let by_id = store
            .get_number_by_id(n.id)
            .await
            .expect("get_number_by_id");
        assert_eq!(
            by_id.as_ref(),
            Some(&n),
            "get_number_by_id({}) returns the same number",
            n.id
        );
    }

    let events = all_events(&store).await;
    assert_eq!(
        events.len(),
        1,
        "one number.imported event for the batch, got {events:#?}"
    );
    let event = &events[0].event;
    assert_eq!(event.kind, EventKind::NumberImported);
    assert_eq!(event.at, at(100), "event time");
    assert_eq!(
        event.details["count"],
        serde_json::json!(5),
        "details.count = inserted: {:?}",
        event.details
    );

    // Two existing numbers (one with different data, which must not overwrite) and one new one.
    let changed_au = NewNumber {
        price: Some(fixtures::price(9, 9, "AUD")),
        ..au_mobile("+61491570156")
    };
    let second = vec![seattle("0100"), changed_au, seattle("0101")];
    let outcome = import(&store, &second, at(200)).await;
    assert_eq!(outcome.inserted, 1, "only the new number is inserted");
    let mut existing = outcome.existing.clone();
    existing.sort();
    assert_eq!(
        existing,
        vec![seattle("0100").e164, au_mobile("+61491570156").e164],
        "existing numbers reported"
    );
    let au = number(&store, &e164("+61491570156")).await;
    assert_eq!(
        au.price,
        au_mobile("+61491570156").price,
        "an existing number is left untouched by a re-import"
    );
    assert_eq!(
        (au.created_at, au.updated_at, au.version),
        (at(100), at(100), 1),
        "re-import must not touch the row"
    );
    let new_one = number(&store, &e164("+12065550101")).await;
    assert_eq!(new_one.available_after, Some(at(200)));

    let imported = of_kind(&all_events(&store).await, EventKind::NumberImported);
    assert_eq!(
        imported.len(),
        2,
        "one event per batch that inserted something"
    );
    assert_eq!(imported[1].event.details["count"], serde_json::json!(1));

    // Nothing new: no event.
    let outcome = import(&store, &batch, at(300)).await;
    assert_eq!(outcome.inserted, 0);
    assert_eq!(outcome.existing.len(), batch.len());
    let outcome = import(&store, &[], at(300)).await;
    assert_eq!(outcome.inserted, 0, "empty batch");
    assert_eq!(
        all_events(&store).await.len(),
        2,
        "a batch that inserted nothing appends no event"
    );

    assert_eq!(
        store
            .get_number(&e164("+12065550142"))
            .await
            .expect("get_number(unknown)"),
        None
    );
    assert_eq!(
        store
            .get_number_by_id(NumberId::new())
            .await
            .expect("get_number_by_id(unknown)"),
        None
    );
    let stats = store.inventory_stats().await.expect("inventory_stats");
    assert_eq!(
        (stats.total, stats.available),
        (6, 6),
        "stats after imports: {stats:?}"
    );
}

/// The reference result of a search over `all` at `now`.
fn reference(all: &[Number], q: &SearchQuery, now: Timestamp) -> Vec<Number> {
    let mut expected: Vec<Number> = all
        .iter()
        .filter(|n| n.is_publicly_available(now) && q.matches(n))
        .filter(|n| {
            q.after
                .as_deref()
                .is_none_or(|after| n.e164.as_str() > after)
        })
        .cloned()
        .collect();
    expected.sort_by(|a, b| a.e164.cmp(&b.e164));
    expected.truncate(q.page_size as usize + 1);
    expected
}

fn e164s(numbers: &[Number]) -> Vec<&str> {
    numbers.iter().map(|n| n.e164.as_str()).collect()
}

/// Runs the search and asserts it equals the reference; returns the result.
async fn check_search(
    store: &DynStore,
    all: &[Number],
    q: &SearchQuery,
    now: Timestamp,
    what: &str,
) -> Vec<Number> {
    let got = store
        .search_available(q, now)
        .await
        .unwrap_or_else(|e| panic!("search_available [{what}] failed: {e:?}"));
    let want = reference(all, q, now);
    assert_eq!(
        e164s(&got),
        e164s(&want),
        "search [{what}] returned the wrong numbers (query {q:?})"
    );
    assert_eq!(
        got, want,
        "search [{what}] numbers must be returned exactly as stored"
    );
    got
}

fn q() -> SearchQueryBuilder {
    SearchQuery::builder().page_size(Some("1000"), "page_size", 50, 5000)
}

fn build(what: &str, b: SearchQueryBuilder) -> SearchQuery {
    b.build()
        .unwrap_or_else(|e| panic!("suite bug: query [{what}] does not build: {e}"))
}

/// Facet queries that deliberately match nothing in the catalogue.
const EMPTY_FACETS: &[&str] = &["rate_center SEATTLE + state NC"];

fn facet_queries() -> Vec<(&'static str, SearchQuery)> {
    use PatternPosition::{Contains, EndsWith, StartsWith};
    let sms = caps(&[Capability::Sms]);
    let sms_voice = caps(&[Capability::Sms, Capability::Voice]);
    let all_three = caps(&[Capability::Sms, Capability::Mms, Capability::Voice]);
    let fax = caps(&[Capability::Fax]);
    let voice = caps(&[Capability::Voice]);
    let types = |v: &'static str| q().type_values([v], "type");
    let starts = |v: &'static str| q().pattern(StartsWith, Some(v), "starts_with");
    vec![
        ("country US", q().country(Some("US"), "country")),
        (
            "country au (lower case)",
            q().country(Some("au"), "country"),
        ),
        ("country GB", q().country(Some("GB"), "country")),
        ("type LOCAL", types("LOCAL")),
        ("type TOLL_FREE", types("TOLL_FREE")),
        ("type MOBILE", types("MOBILE")),
        ("types LOCAL|MOBILE", types("LOCAL|MOBILE")),
        (
            "capabilities all-of SMS",
            q().capabilities(sms, CapabilityMatch::AllOf),
        ),
        (
            "capabilities all-of SMS+VOICE",
            q().capabilities(sms_voice, CapabilityMatch::AllOf),
        ),
        (
            "capabilities all-of SMS+MMS+VOICE",
            q().capabilities(all_three, CapabilityMatch::AllOf),
        ),
        (
            "capabilities any-of SMS+FAX",
            q().capabilities(sms.with(Capability::Fax), CapabilityMatch::AnyOf),
        ),
        (
            "capabilities any-of FAX",
            q().capabilities(fax, CapabilityMatch::AnyOf),
        ),
        (
            "capabilities exactly SMS+VOICE",
            q().capabilities(sms_voice, CapabilityMatch::Exactly),
        ),
        (
            "capabilities exactly VOICE",
            q().capabilities(voice, CapabilityMatch::Exactly),
        ),
        (
            "capabilities exactly SMS",
            q().capabilities(sms, CapabilityMatch::Exactly),
        ),
        ("starts_with national 206", starts("206")),
        ("starts_with national 9195550", starts("9195550")),
        ("starts_with national 800", starts("800")),
        ("starts_with national AU 491570", starts("491570")),
        ("starts_with national GB 7400", starts("7400")),
        ("starts_with national GB 20", starts("20")),
        ("starts_with international +1206", starts("+1206")),
        ("starts_with international +614", starts("+614")),
        ("starts_with international +44", starts("+44")),
        ("starts_with international +1800", starts("+1800")),
        (
            "starts_with international +61 4 as contains",
            q().pattern(Contains, Some("+614"), "contains"),
        ),
        (
            "contains 555",
            q().pattern(Contains, Some("555"), "contains"),
        ),
        (
            "contains 0100",
            q().pattern(Contains, Some("0100"), "contains"),
        ),
        (
            "contains vanity CAFE",
            q().pattern(Contains, Some("CAFE"), "contains"),
        ),
        (
            "contains vanity CALLNOW",
            q().pattern(Contains, Some("callnow"), "contains"),
        ),
        (
            "contains 1570",
            q().pattern(Contains, Some("1570"), "contains"),
        ),
        (
            "ends_with 00",
            q().pattern(EndsWith, Some("00"), "ends_with"),
        ),
        (
            "ends_with 0199",
            q().pattern(EndsWith, Some("0199"), "ends_with"),
        ),
        (
            "ends_with vanity NOW",
            q().pattern(EndsWith, Some("NOW"), "ends_with"),
        ),
        ("toll-free 8**", q().toll_free_pattern(Some("8**"), "tf")),
        ("toll-free 87*", q().toll_free_pattern(Some("87*"), "tf")),
        ("toll-free 800", q().toll_free_pattern(Some("800"), "tf")),
        ("toll-free 8*8", q().toll_free_pattern(Some("8*8"), "tf")),
        (
            "toll-free 8** + contains 5550",
            q().toll_free_pattern(Some("8**"), "tf")
                .pattern(Contains, Some("5550"), "contains"),
        ),
        (
            "toll-free 87* + exactly VOICE",
            q().toll_free_pattern(Some("87*"), "tf")
                .capabilities(voice, CapabilityMatch::Exactly),
        ),
        ("npa 206", q().npa(Some("206"), "npa")),
        ("npa 253", q().npa(Some("253"), "npa")),
        ("npa 800", q().npa(Some("800"), "npa")),
        ("npa_nxx 919555", q().npa_nxx(Some("919555"), "npa_nxx")),
        ("npa_nxx 206-555", q().npa_nxx(Some("206-555"), "npa_nxx")),
        (
            "npa_nxx_x 2065550",
            q().npa_nxx_x(Some("2065550"), "npa_nxx_x"),
        ),
        (
            "npa_nxx_x 2065552",
            q().npa_nxx_x(Some("2065552"), "npa_nxx_x"),
        ),
        (
            "rate_center SEATTLE + state WA",
            q().rate_center(Some("SEATTLE"), "rate_center")
                .state(Some("WA"), "state"),
        ),
        (
            "rate_center raleigh + state nc",
            q().rate_center(Some("raleigh"), "rate_center")
                .state(Some("nc"), "state"),
        ),
        (
            "rate_center SEATTLE + state NC",
            q().rate_center(Some("SEATTLE"), "rate_center")
                .state(Some("NC"), "state"),
        ),
        (
            "city Seattle + state WA",
            q().city(Some("Seattle"), "city").state(Some("WA"), "state"),
        ),
        (
            "city TACOMA + state wa",
            q().city(Some("TACOMA"), "city").state(Some("wa"), "state"),
        ),
        ("state WA", q().state(Some("WA"), "state")),
        ("state NC", q().state(Some("NC"), "state")),
        ("zip 98101", q().zip(Some("98101"), "zip")),
        ("zip 27601-1234", q().zip(Some("27601-1234"), "zip")),
        ("zip 98402", q().zip(Some("98402"), "zip")),
        ("lata 674", q().lata(Some("674"), "lata")),
        ("lata 0426", q().lata(Some("0426"), "lata")),
        (
            "classification GOLD",
            q().classification(Some("GOLD"), "classification"),
        ),
        (
            "classification silver",
            q().classification(Some("silver"), "classification"),
        ),
        (
            "classification BRONZE",
            q().classification(Some("BRONZE"), "classification"),
        ),
        ("protected Exclude", q().protected(ProtectedFilter::Exclude)),
        ("protected Only", q().protected(ProtectedFilter::Only)),
        (
            "combined US LOCAL SMS npa 206 unprotected",
            q().country(Some("US"), "country")
                .type_values(["LOCAL"], "type")
                .capabilities(sms, CapabilityMatch::AllOf)
                .npa(Some("206"), "npa")
                .protected(ProtectedFilter::Exclude),
        ),
        (
            "combined AU MOBILE contains 570 any-of SMS",
            q().country(Some("AU"), "country")
                .type_values(["MOBILE"], "type")
                .pattern(Contains, Some("570"), "contains")
                .capabilities(sms, CapabilityMatch::AnyOf),
        ),
        (
            "combined state WA + zip 98101 + protected Only",
            q().state(Some("WA"), "state")
                .zip(Some("98101"), "zip")
                .protected(ProtectedFilter::Only),
        ),
    ]
    .into_iter()
    .map(|(what, b)| (what, build(what, b)))
    .collect()
}

pub async fn search_facets(store: DynStore) {
    let catalogue = fixtures::catalogue();
    import(&store, &catalogue, at(0)).await;
    let all = numbers(
        &store,
        &catalogue.iter().map(|n| n.e164.clone()).collect::<Vec<_>>(),
    )
    .await;
    let now = minutes(5);

    let everything = check_search(&store, &all, &build("no facets", q()), now, "no facets").await;
    assert_eq!(
        everything.len(),
        all.len(),
        "every imported number is available"
    );
    let mixed = check_search(
        &store,
        &all,
        &build("protected Mixed", q().protected(ProtectedFilter::Mixed)),
        now,
        "protected Mixed",
    )
    .await;
    assert_eq!(
        mixed.len(),
        all.len(),
        "protected Mixed returns protected numbers too"
    );

    for (what, query) in facet_queries() {
        let got = check_search(&store, &all, &query, now, what).await;
        // A facet that matched nothing or everything would not prove the store applies it.
        let wants_empty = EMPTY_FACETS.contains(&what);
        if wants_empty {
            assert!(got.is_empty(), "[{what}] should match nothing");
        } else {
            assert!(
                !got.is_empty() && got.len() < all.len(),
                "suite bug: [{what}] must match some but not all numbers"
            );
        }
    }

    // The limit is page_size + 1, on the same E.164 order.
    for size in ["1", "3", "7"] {
        let query = build(
            "limited",
            SearchQuery::builder().page_size(Some(size), "page_size", 50, 5000),
        );
        check_search(&store, &all, &query, now, &format!("page_size {size}")).await;
    }
    let query = build(
        "limited US",
        SearchQuery::builder()
            .country(Some("US"), "country")
            .page_size(Some("2"), "page_size", 50, 5000),
    );
    let got = check_search(&store, &all, &query, now, "US page_size 2").await;
    assert_eq!(
        got.len(),
        3,
        "page_size 2 fetches 3 rows (one to prove there is more)"
    );
}

pub async fn search_paging(store: DynStore) {
    let catalogue = fixtures::catalogue();
    import(&store, &catalogue, at(0)).await;
    let all = numbers(
        &store,
        &catalogue.iter().map(|n| n.e164.clone()).collect::<Vec<_>>(),
    )
    .await;
    let now = minutes(5);
    let criteria = [
        ("all", SearchQuery::builder()),
        (
            "country US",
            SearchQuery::builder().country(Some("US"), "country"),
        ),
        (
            "contains 555",
            SearchQuery::builder().pattern(PatternPosition::Contains, Some("555"), "contains"),
        ),
    ];
    for (what, builder) in criteria {
        let base = build(what, builder);
        let full = reference(&all, &base.clone().with_page(5000, None), now);
        for size in [1u32, 4, 5] {
            let mut seen: Vec<Number> = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let page_query = base.clone().with_page(size, after.clone());
                let got = check_search(
                    &store,
                    &all,
                    &page_query,
                    now,
                    &format!("{what} page_size {size} after {after:?}"),
                )
                .await;
                let more = got.len() > size as usize;
                let page: Vec<Number> = got.into_iter().take(size as usize).collect();
                after = page.last().map(|n| n.e164.to_string());
                seen.extend(page);
                if !more {
                    break;
                }
                assert!(seen.len() <= full.len(), "[{what}] paging never ends");
            }
            assert_eq!(
                e164s(&seen),
                e164s(&full),
                "[{what}] paging with page_size {size} must visit every match once, in order"
            );
        }
    }
}

pub async fn search_excludes_unavailable(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    let catalogue = fixtures::catalogue();
    import(&store, &catalogue, at(0)).await;
    // AVAILABLE, but only from tomorrow.
    let tomorrow = vec![seattle("0300"), raleigh("0300")];
    import(&store, &tomorrow, days(1)).await;

    let assigned = e164("+12065550100");
    let reserved = e164("+12065550123");
    let reservation_expired = e164("+19195550100");
    let aging_future = e164("+19195550142");
    let aging_passed = e164("+18005550100");
    assign(&store, acme, std::slice::from_ref(&assigned), minutes(1)).await;
    reserve(
        &store,
        &reservation(
            globex,
            std::slice::from_ref(&reserved),
            minutes(1),
            fixtures::hours(4),
        ),
    )
    .await;
    reserve(
        &store,
        &reservation(
            globex,
            std::slice::from_ref(&reservation_expired),
            minutes(1),
            minutes(5),
        ),
    )
    .await;
    assign(
        &store,
        acme,
        &[aging_future.clone(), aging_passed.clone()],
        minutes(1),
    )
    .await;
    store
        .release_number(acme, &aging_future, days(30), minutes(2))
        .await
        .expect("release_number(aging_future)");
    store
        .release_number(acme, &aging_passed, minutes(10), minutes(2))
        .await
        .expect("release_number(aging_passed)");

    let now = minutes(20);
    // No sweep has run: the states still say held, the times say free.
    assert_eq!(
        number(&store, &aging_passed).await.state,
        NumberState::Aging,
        "setup: aging_passed is still AGING"
    );
    assert_eq!(
        number(&store, &reservation_expired).await.state,
        NumberState::Reserved,
        "setup: still RESERVED"
    );

    let mut every: Vec<E164> = catalogue
        .iter()
        .chain(&tomorrow)
        .map(|n| n.e164.clone())
        .collect();
    every.sort();
    let all = numbers(&store, &every).await;
    let queries = [
        ("no facets", q()),
        ("country US", q().country(Some("US"), "country")),
        ("npa 919", q().npa(Some("919"), "npa")),
        ("toll-free 800", q().toll_free_pattern(Some("800"), "tf")),
        (
            "contains 555",
            q().pattern(PatternPosition::Contains, Some("555"), "contains"),
        ),
    ];
    for (what, b) in queries {
        check_search(&store, &all, &build(what, b), now, what).await;
    }
    let found = store
        .search_available(&build("all", q()), now)
        .await
        .expect("search_available");
    let found: Vec<&E164> = found.iter().map(|n| &n.e164).collect();
    for hidden in [
        &assigned,
        &reserved,
        &aging_future,
        &tomorrow[0].e164,
        &tomorrow[1].e164,
    ] {
        assert!(
            !found.contains(&hidden),
            "{hidden} is not publicly available at {now} and must not be found"
        );
    }
    for visible in [&reservation_expired, &aging_passed] {
        assert!(
            found.contains(&visible),
            "{visible} is publicly available at {now} (its time ran out) and must be found"
        );
    }

    // Tomorrow the later import is on sale (available_after == now counts as passed).
    let later = store
        .search_available(&build("npa 206", q().npa(Some("206"), "npa")), days(1))
        .await
        .expect("search tomorrow");
    assert!(
        later.iter().any(|n| n.e164 == tomorrow[0].e164),
        "a number is available exactly from its available_after"
    );
    let all = numbers(&store, &every).await;
    check_search(&store, &all, &build("all", q()), days(1), "all, tomorrow").await;
}

#[cfg(test)]
mod tests {
    use numbers_core::ids::NumberId;

    use super::*;

    /// The catalogue as a store would hold it right after import at `at(0)`.
    pub(crate) fn as_stored(new: &NewNumber) -> Number {
        Number {
            id: NumberId::new(),
            e164: new.e164.clone(),
            country: new.country.clone(),
            number_type: new.number_type,
            capabilities: new.capabilities,
            classification: new.classification,
            location: new.location.clone(),
            tier: new.tier,
            vendor_id: new.vendor_id.clone(),
            vendor_name: new.vendor_name.clone(),
            price: new.price.clone(),
            protected: new.protected,
            state: NumberState::Available,
            owner: None,
            last_owner: None,
            assignment_id: None,
            reservation_id: None,
            reserved_until: None,
            available_after: Some(at(0)),
            assigned_at: None,
            assignment: AssignmentData::default(),
            created_at: at(0),
            updated_at: at(0),
            version: 1,
        }
    }

    /// Every facet query must split the catalogue, or the store could ignore the facet and pass.
    #[test]
    fn every_facet_query_is_discriminating() {
        let all: Vec<Number> = fixtures::catalogue().iter().map(as_stored).collect();
        for (what, query) in facet_queries() {
            let n = reference(&all, &query, minutes(5)).len();
            let wants_empty = EMPTY_FACETS.contains(&what);
            assert!(
                if wants_empty {
                    n == 0
                } else {
                    n > 0 && n < all.len()
                },
                "[{what}] matches {n} of {}",
                all.len()
            );
        }
    }
}
