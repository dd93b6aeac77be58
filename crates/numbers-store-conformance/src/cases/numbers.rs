//! An owner's numbers: releasing (aging, last-owner reclaim), the aging sweep, assignment patches,
//! listing with filters and paging, the event log's filters, and the inventory counts.

use std::collections::BTreeMap;

use numbers_core::clock::Timestamp;
use numbers_core::event::{Event, EventKind};
use numbers_core::ids::AccountId;
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{
    AssignmentData, Capability, E164, Label, Metadata, NewNumber, Number, NumberState, NumberType,
};
use numbers_core::order::OrderStatus;
use numbers_core::search::{
    CapabilityFilter, CapabilityMatch, DigitPattern, PatternPosition, SearchQuery,
};
use numbers_core::store::{EventFilter, InventoryStats, NumberFilter};

use crate::fixtures::template;
use crate::fixtures::{
    at, au_mobile, caps, days, e164, hours, minutes, raleigh, seattle, toll_free,
};
use crate::support::{
    DynStore, all_events, assert_unheld, assign, events, events_since, expect_not_found,
    explicit_order, failure_codes, import, last_seq, new_account, number, numbers, of_kind, place,
    reservation, reserve,
};

async fn release(
    store: &DynStore,
    account: AccountId,
    e: &E164,
    available_after: Timestamp,
    now: Timestamp,
) -> Number {
    store
        .release_number(account, e, available_after, now)
        .await
        .unwrap_or_else(|err| panic!("release_number({e}) failed: {err:?}"))
}

pub async fn release_and_aging(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    let suffixes = ["0100", "0101", "0123", "0199", "1234", "7000"];
    import(
        &store,
        &suffixes.iter().map(|s| seattle(s)).collect::<Vec<_>>(),
        at(0),
    )
    .await;
    let n: Vec<E164> = suffixes
        .iter()
        .map(|s| e164(&format!("+1206555{s}")))
        .collect();

    let mut with_template = explicit_order(acme, std::slice::from_ref(&n[0]), minutes(1));
    with_template.template = template();
    place(&store, &with_template, minutes(1)).await;
    let before = number(&store, &n[0]).await;

    let seq = last_seq(&store).await;
    let released = release(&store, acme, &n[0], days(30), hours(1)).await;
    assert_unheld(&released, NumberState::Aging);
    assert_eq!(released.available_after, Some(days(30)), "available_after");
    assert_eq!(
        released.last_owner,
        Some(acme),
        "the releasing account stays last_owner"
    );
    assert_eq!(
        (released.version, released.updated_at),
        (before.version + 1, hours(1))
    );
    assert_eq!(
        number(&store, &n[0]).await,
        released,
        "release_number returns the stored number"
    );
    let ev = of_kind(&events_since(&store, seq).await, EventKind::NumberReleased);
    assert_eq!(ev.len(), 1, "one number.released");
    assert_eq!(
        (
            ev[0].event.account_id,
            ev[0].event.e164.as_ref(),
            ev[0].event.number_id
        ),
        (Some(acme), Some(&n[0]), Some(released.id))
    );
    assert_eq!(ev[0].event.resource_version, released.version);
    assert_eq!(
        ev[0].event.details["available_after"],
        serde_json::json!(days(30).timestamp_millis()),
        "{}",
        ev[0].event.details
    );
    assert_eq!(
        store
            .inventory_stats()
            .await
            .expect("inventory_stats")
            .aging,
        1
    );

    // During aging: others are refused, the last owner may take it back.
    let refused = place(
        &store,
        &explicit_order(globex, std::slice::from_ref(&n[0]), hours(2)),
        hours(2),
    )
    .await;
    assert_eq!(refused.status, OrderStatus::Failed);
    assert_eq!(
        failure_codes(&refused),
        BTreeMap::from([(n[0].to_string(), "NUMBER_AGING".to_string())])
    );
    let back = place(
        &store,
        &explicit_order(acme, std::slice::from_ref(&n[0]), hours(3)),
        hours(3),
    )
    .await;
    assert_eq!(
        back.status,
        OrderStatus::Complete,
        "the last owner reclaims during aging: {back:#?}"
    );
    let n0 = number(&store, &n[0]).await;
    assert_eq!(
        (n0.state, n0.owner, n0.available_after),
        (NumberState::Assigned, Some(acme), None)
    );
    assert_eq!(
        n0.assignment,
        AssignmentData::default(),
        "a reclaim starts from a clean assignment"
    );

    // Only the owner releases, only an assigned number.
    expect_not_found(
        store.release_number(globex, &n[0], days(1), hours(4)).await,
        "release of another account's number",
    );
    expect_not_found(
        store.release_number(acme, &n[1], days(1), hours(4)).await,
        "release of an available number",
    );
    expect_not_found(
        store
            .release_number(acme, &e164("+12065550142"), days(1), hours(4))
            .await,
        "release of an unknown number",
    );
    assert_eq!(
        number(&store, &n[0]).await.owner,
        Some(acme),
        "a refused release changes nothing"
    );

    // The sweep: not before available_after, then AVAILABLE with last_owner cleared.
    release(&store, acme, &n[0], days(40), hours(4)).await;
    assert_eq!(
        store.age_numbers(days(39), 100).await.expect("age_numbers"),
        0,
        "not yet"
    );
    assert_eq!(number(&store, &n[0]).await.state, NumberState::Aging);
    let version = number(&store, &n[0]).await.version;
    let seq = last_seq(&store).await;
    assert_eq!(
        store.age_numbers(days(40), 100).await.expect("age_numbers"),
        1
    );
    let aged = number(&store, &n[0]).await;
    assert_unheld(&aged, NumberState::Available);
    assert_eq!(
        (aged.last_owner, aged.available_after, aged.version),
        (None, Some(days(40)), version + 1),
        "{aged:#?}"
    );
    let ev = of_kind(&events_since(&store, seq).await, EventKind::NumberAvailable);
    assert_eq!(ev.len(), 1, "one number.available");
    assert_eq!(
        (ev[0].event.account_id, ev[0].event.e164.as_ref()),
        (None, Some(&n[0])),
        "number.available has no account"
    );
    assert_eq!(
        store.age_numbers(days(41), 100).await.expect("age_numbers"),
        0,
        "nothing left to age"
    );

    // Released with no aging period: AVAILABLE at once, anyone may order it.
    assign(&store, acme, std::slice::from_ref(&n[1]), hours(5)).await;
    let instant = release(&store, acme, &n[1], hours(6), hours(6)).await;
    assert_unheld(&instant, NumberState::Available);
    assert_eq!(
        (instant.last_owner, instant.available_after),
        (Some(acme), Some(hours(6)))
    );
    assert_eq!(
        place(
            &store,
            &explicit_order(globex, std::slice::from_ref(&n[1]), hours(7)),
            hours(7)
        )
        .await
        .status,
        OrderStatus::Complete
    );

    // The sweep's limit.
    assign(&store, acme, &n[2..5], hours(8)).await;
    for e in &n[2..5] {
        release(&store, acme, e, days(1), hours(9)).await;
    }
    assert_eq!(
        store.age_numbers(days(2), 2).await.expect("age_numbers"),
        2,
        "limit 2"
    );
    assert_eq!(
        store.age_numbers(days(2), 2).await.expect("age_numbers"),
        1,
        "the rest"
    );
    for e in &n[2..5] {
        assert_eq!(number(&store, e).await.state, NumberState::Available);
    }
}

pub async fn update_assignment_patch(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    import(&store, &[seattle("0100"), seattle("0101")], at(0)).await;
    let (mine, free) = (e164("+12065550100"), e164("+12065550101"));
    let mut order = explicit_order(acme, std::slice::from_ref(&mine), minutes(1));
    order.template = template();
    place(&store, &order, minutes(1)).await;
    let before = number(&store, &mine).await;

    let seq = last_seq(&store).await;
    let patch = AssignmentPatch {
        label: Some(Some(Label::parse("Sales line", "label").expect("label"))),
        display_name: Some(None),
        voice_configuration: Some(Some(serde_json::json!({ "type": "RTC", "appId": "app-9" }))),
        ..Default::default()
    };
    let updated = store
        .update_assignment(acme, &mine, &patch, minutes(2))
        .await
        .expect("update_assignment");
    let mut want = template();
    patch.apply(&mut want);
    assert_eq!(updated.assignment, want, "set, clear and untouched fields");
    assert_eq!(
        updated.assignment.site_id.as_deref(),
        Some("12345"),
        "an unnamed field is untouched"
    );
    assert_eq!(updated.assignment.display_name, None, "Some(None) clears");
    assert_eq!(
        (updated.version, updated.updated_at),
        (before.version + 1, minutes(2))
    );
    assert_eq!(
        (updated.state, updated.owner, updated.assignment_id),
        (NumberState::Assigned, Some(acme), before.assignment_id)
    );
    assert_eq!(
        number(&store, &mine).await,
        updated,
        "update_assignment returns the stored number"
    );
    let ev = of_kind(&events_since(&store, seq).await, EventKind::NumberUpdated);
    assert_eq!(ev.len(), 1, "one number.updated");
    assert_eq!(
        (ev[0].event.account_id, ev[0].event.e164.as_ref()),
        (Some(acme), Some(&mine))
    );
    assert_eq!(ev[0].event.resource_version, updated.version);
    assert_eq!(
        ev[0].event.details,
        serde_json::to_value(&patch).expect("patch as JSON"),
        "details are the patch"
    );

    // Metadata is replaced as a whole; other fields stay.
    let metadata = Metadata::parse(
        BTreeMap::from([("cost_center".to_string(), "CC-42".to_string())]),
        "metadata",
    )
    .expect("metadata");
    let patch = AssignmentPatch {
        metadata: Some(metadata.clone()),
        callback_url: Some(Some("https://example.net/cb".into())),
        ..Default::default()
    };
    let updated = store
        .update_assignment(acme, &mine, &patch, minutes(3))
        .await
        .expect("update_assignment");
    patch.apply(&mut want);
    assert_eq!(updated.assignment, want);
    assert_eq!(updated.assignment.metadata, metadata);
    // An empty patch changes no data.
    let same = store
        .update_assignment(acme, &mine, &AssignmentPatch::default(), minutes(4))
        .await
        .expect("update_assignment");
    assert_eq!(same.assignment, want);

    let label_only = AssignmentPatch {
        label: Some(None),
        ..Default::default()
    };
    expect_not_found(
        store
            .update_assignment(globex, &mine, &label_only, minutes(5))
            .await,
        "patching another account's number",
    );
    expect_not_found(
        store
            .update_assignment(acme, &free, &label_only, minutes(5))
            .await,
        "patching an unassigned number",
    );
    expect_not_found(
        store
            .update_assignment(acme, &e164("+12065550142"), &label_only, minutes(5))
            .await,
        "patching an unknown number",
    );
    assert_eq!(
        number(&store, &mine).await.assignment,
        want,
        "refused patches change nothing"
    );
}

fn data(
    label: Option<&str>,
    metadata: &[(&str, &str)],
    display_name: Option<&str>,
) -> AssignmentData {
    AssignmentData {
        label: label.map(|l| Label::parse(l, "label").expect("label")),
        metadata: Metadata::parse(
            metadata
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            "metadata",
        )
        .expect("metadata"),
        display_name: display_name.map(str::to_string),
        ..Default::default()
    }
}

/// The reference for `list_account_numbers`.
fn account_reference(all: &[Number], account: AccountId, f: &NumberFilter) -> Vec<Number> {
    // The digit, type, country, capability and classification facets mean what they mean in search.
    let q = SearchQuery {
        country: f.country.clone(),
        types: f.types.clone(),
        capabilities: f.capabilities,
        pattern: f.pattern.clone(),
        classification: f.classification,
        ..Default::default()
    };
    let mut v: Vec<Number> = all
        .iter()
        .filter(|n| n.state == NumberState::Assigned && n.owner == Some(account) && q.matches(n))
        .filter(|n| {
            f.label.as_ref().is_none_or(|l| {
                n.assignment
                    .label
                    .as_ref()
                    .is_some_and(|have| have.as_str() == l)
            })
        })
        .filter(|n| {
            f.metadata
                .as_ref()
                .is_none_or(|(k, v)| n.assignment.metadata.get(k) == Some(v.as_str()))
        })
        .filter(|n| {
            f.display_name
                .as_ref()
                .is_none_or(|d| n.assignment.display_name.as_deref() == Some(d.as_str()))
        })
        .filter(|n| f.number_id.is_none_or(|id| n.id == id))
        .filter(|n| f.after.as_deref().is_none_or(|a| n.e164.as_str() > a))
        .cloned()
        .collect();
    v.sort_by(|a, b| a.e164.cmp(&b.e164));
    v.truncate(f.page_size as usize + 1);
    v
}

pub async fn list_account_numbers_filters(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    let nobody = new_account(&store, "Nobody", at(0)).await;
    let batch: Vec<NewNumber> = vec![
        seattle("0100"),
        seattle("0101"),
        NewNumber {
            capabilities: caps(&[Capability::Sms, Capability::Mms, Capability::Voice]),
            ..seattle("0123")
        },
        seattle("5555"),
        toll_free("+18005550100"),
        au_mobile("+61491570156"),
        raleigh("2233"),
        seattle("0199"),
        seattle("1234"),
    ];
    import(&store, &batch, at(0)).await;
    let give = [
        (
            "+12065550100",
            data(Some("sales"), &[("team", "sales")], None),
        ),
        (
            "+12065550101",
            data(Some("sales-east"), &[("team", "sales-east")], None),
        ),
        (
            "+12065550123",
            data(Some("50%_off"), &[("team", "sales")], None),
        ),
        ("+12065555555", data(None, &[], Some("Acme Main"))),
        (
            "+18005550100",
            data(
                Some("support"),
                &[("team", "support"), ("tier", "1")],
                Some("Acme Support"),
            ),
        ),
        ("+61491570156", data(Some("au"), &[], None)),
        ("+19195552233", data(None, &[], None)),
    ];
    for (i, (e, template)) in give.iter().enumerate() {
        let mut order = explicit_order(acme, &[e164(e)], minutes(1 + i as i64));
        order.template = template.clone();
        place(&store, &order, minutes(1 + i as i64)).await;
    }
    let mut theirs = explicit_order(globex, &[e164("+12065550199")], minutes(10));
    theirs.template = data(Some("sales"), &[("team", "sales")], None);
    place(&store, &theirs, minutes(10)).await;
    // Released by acme: no longer acme's, must not be listed.
    assign(&store, acme, &[e164("+12065551234")], minutes(11)).await;
    store
        .release_number(acme, &e164("+12065551234"), days(30), minutes(12))
        .await
        .expect("release_number");

    let all = numbers(
        &store,
        &batch.iter().map(|n| n.e164.clone()).collect::<Vec<_>>(),
    )
    .await;
    let someone = all
        .iter()
        .find(|n| n.e164.as_str() == "+18005550100")
        .expect("number")
        .id;
    let f = NumberFilter {
        page_size: 100,
        ..Default::default()
    };
    let pattern = |position, digits: &str, international| {
        Some(DigitPattern {
            position,
            digits: digits.into(),
            international,
        })
    };
    let filters: Vec<(&str, NumberFilter)> = vec![
        ("no filter", f.clone()),
        (
            "label sales (exact, not sales-east)",
            NumberFilter {
                label: Some("sales".into()),
                ..f.clone()
            },
        ),
        (
            "label with LIKE wildcards",
            NumberFilter {
                label: Some("50%_off".into()),
                ..f.clone()
            },
        ),
        (
            "label matching nothing",
            NumberFilter {
                label: Some("50x_off".into()),
                ..f.clone()
            },
        ),
        (
            "metadata team=sales",
            NumberFilter {
                metadata: Some(("team".into(), "sales".into())),
                ..f.clone()
            },
        ),
        (
            "metadata tier=1",
            NumberFilter {
                metadata: Some(("tier".into(), "1".into())),
                ..f.clone()
            },
        ),
        (
            "metadata value of another key",
            NumberFilter {
                metadata: Some(("tier".into(), "support".into())),
                ..f.clone()
            },
        ),
        (
            "display_name",
            NumberFilter {
                display_name: Some("Acme Support".into()),
                ..f.clone()
            },
        ),
        (
            "type TOLL_FREE",
            NumberFilter {
                types: vec![NumberType::TollFree],
                ..f.clone()
            },
        ),
        (
            "types MOBILE|LOCAL",
            NumberFilter {
                types: vec![NumberType::Mobile, NumberType::Local],
                ..f.clone()
            },
        ),
        (
            "country AU",
            NumberFilter {
                country: Some("AU".into()),
                ..f.clone()
            },
        ),
        (
            "capability MMS",
            NumberFilter {
                capabilities: CapabilityFilter {
                    set: caps(&[Capability::Mms]),
                    mode: CapabilityMatch::AllOf,
                },
                ..f.clone()
            },
        ),
        (
            "capabilities exactly SMS+VOICE",
            NumberFilter {
                capabilities: CapabilityFilter {
                    set: caps(&[Capability::Sms, Capability::Voice]),
                    mode: CapabilityMatch::Exactly,
                },
                ..f.clone()
            },
        ),
        (
            "starts_with national 206",
            NumberFilter {
                pattern: pattern(PatternPosition::StartsWith, "206", false),
                ..f.clone()
            },
        ),
        (
            "starts_with +61",
            NumberFilter {
                pattern: pattern(PatternPosition::StartsWith, "61", true),
                ..f.clone()
            },
        ),
        (
            "contains 2233",
            NumberFilter {
                pattern: pattern(PatternPosition::Contains, "2233", false),
                ..f.clone()
            },
        ),
        (
            "ends_with 0100",
            NumberFilter {
                pattern: pattern(PatternPosition::EndsWith, "0100", false),
                ..f.clone()
            },
        ),
        (
            "classification GOLD",
            NumberFilter {
                classification: Some(numbers_core::number::Classification::Gold),
                ..f.clone()
            },
        ),
        (
            "number_id",
            NumberFilter {
                number_id: Some(someone),
                ..f.clone()
            },
        ),
        (
            "page_size 2",
            NumberFilter {
                page_size: 2,
                ..f.clone()
            },
        ),
        (
            "page_size 2 after",
            NumberFilter {
                page_size: 2,
                after: Some("+12065550123".into()),
                ..f.clone()
            },
        ),
    ];
    for (what, filter) in &filters {
        let got = store
            .list_account_numbers(acme, filter)
            .await
            .unwrap_or_else(|e| panic!("list_account_numbers [{what}] failed: {e:?}"));
        let want = account_reference(&all, acme, filter);
        let names = |v: &[Number]| v.iter().map(|n| n.e164.to_string()).collect::<Vec<_>>();
        assert_eq!(
            names(&got),
            names(&want),
            "list_account_numbers [{what}] ({filter:?})"
        );
        assert_eq!(
            got, want,
            "list_account_numbers [{what}] returns numbers as stored"
        );
    }
    // Pages of two cover everything once.
    let mut after = None;
    let mut seen = Vec::new();
    loop {
        let page = store
            .list_account_numbers(
                acme,
                &NumberFilter {
                    page_size: 2,
                    after: after.clone(),
                    ..Default::default()
                },
            )
            .await
            .expect("page");
        let more = page.len() > 2;
        seen.extend(page.into_iter().take(2).map(|n| n.e164));
        after = seen.last().map(|e| e.to_string());
        if !more {
            break;
        }
    }
    assert_eq!(
        seen.len(),
        give.len(),
        "paging lists each of acme's numbers once: {seen:?}"
    );

    let g = store
        .list_account_numbers(globex, &f)
        .await
        .expect("list_account_numbers(globex)");
    assert_eq!(
        g.iter().map(|n| n.e164.as_str()).collect::<Vec<_>>(),
        vec!["+12065550199"],
        "only globex's own"
    );
    assert!(
        store
            .list_account_numbers(nobody, &f)
            .await
            .expect("list_account_numbers(nobody)")
            .is_empty()
    );
}

pub async fn list_events_filters(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    import(
        &store,
        &[seattle("0100"), seattle("0101"), seattle("0123")],
        at(0),
    )
    .await;
    let (n1, n2, n3) = (
        e164("+12065550100"),
        e164("+12065550101"),
        e164("+12065550123"),
    );
    let o1 = assign(&store, acme, &[n1.clone(), n2.clone()], minutes(1)).await;
    reserve(
        &store,
        &reservation(globex, std::slice::from_ref(&n3), minutes(2), hours(1)),
    )
    .await;
    let o2 = place(
        &store,
        &explicit_order(globex, std::slice::from_ref(&n1), minutes(3)),
        minutes(3),
    )
    .await;
    store
        .release_number(acme, &n1, days(1), minutes(4))
        .await
        .expect("release_number");
    store
        .update_assignment(
            acme,
            &n2,
            &AssignmentPatch {
                label: Some(None),
                ..Default::default()
            },
            minutes(5),
        )
        .await
        .expect("update");

    let all = all_events(&store).await;
    assert!(
        all.windows(2).all(|w| w[0].seq < w[1].seq),
        "events come in strictly increasing seq order"
    );
    let ids: std::collections::HashSet<_> = all.iter().map(|e| e.event.id).collect();
    assert_eq!(ids.len(), all.len(), "event ids are unique");
    assert!(
        all.iter()
            .all(|e| e.event.at >= at(0) && e.event.at <= minutes(5)),
        "event times are the `now` of each call"
    );

    let reference = |f: &EventFilter| -> Vec<Event> {
        all.iter()
            .filter(|e| f.account.is_none_or(|a| e.event.account_id == Some(a)))
            .filter(|e| {
                f.e164
                    .as_ref()
                    .is_none_or(|n| e.event.e164.as_ref() == Some(n))
            })
            .filter(|e| f.order.is_none_or(|o| e.event.order_id == Some(o)))
            .filter(|e| f.after_seq.is_none_or(|s| e.seq > s))
            .take(f.limit as usize)
            .cloned()
            .collect()
    };
    let big = EventFilter {
        limit: 1000,
        ..Default::default()
    };
    let middle = all[all.len() / 2].seq;
    let filters = [
        (
            "e164 n1",
            EventFilter {
                e164: Some(n1.clone()),
                ..big.clone()
            },
        ),
        (
            "e164 n3",
            EventFilter {
                e164: Some(n3.clone()),
                ..big.clone()
            },
        ),
        (
            "account acme",
            EventFilter {
                account: Some(acme),
                ..big.clone()
            },
        ),
        (
            "account globex",
            EventFilter {
                account: Some(globex),
                ..big.clone()
            },
        ),
        (
            "order o1",
            EventFilter {
                order: Some(o1.id()),
                ..big.clone()
            },
        ),
        (
            "order o2",
            EventFilter {
                order: Some(o2.id()),
                ..big.clone()
            },
        ),
        (
            "after_seq middle",
            EventFilter {
                after_seq: Some(middle),
                ..big.clone()
            },
        ),
        (
            "after_seq last",
            EventFilter {
                after_seq: Some(all.last().expect("events").seq),
                ..big.clone()
            },
        ),
        (
            "limit 3",
            EventFilter {
                limit: 3,
                ..Default::default()
            },
        ),
        (
            "account + e164",
            EventFilter {
                account: Some(acme),
                e164: Some(n1.clone()),
                ..big.clone()
            },
        ),
        (
            "order + after_seq",
            EventFilter {
                order: Some(o1.id()),
                after_seq: Some(middle),
                ..big.clone()
            },
        ),
        (
            "e164 + limit 1",
            EventFilter {
                e164: Some(n1.clone()),
                limit: 1,
                ..Default::default()
            },
        ),
    ];
    for (what, f) in filters {
        let want = reference(&f);
        let got = events(&store, f.clone()).await;
        let show = |v: &[Event]| {
            v.iter()
                .map(|e| (e.seq, e.event.kind.as_str()))
                .collect::<Vec<_>>()
        };
        assert_eq!(show(&got), show(&want), "list_events [{what}] ({f:?})");
        assert_eq!(got, want, "list_events [{what}] returns events as stored");
    }
    let n1_kinds: Vec<EventKind> = reference(&EventFilter {
        e164: Some(n1.clone()),
        ..big.clone()
    })
    .iter()
    .map(|e| e.event.kind)
    .collect();
    assert_eq!(
        n1_kinds,
        vec![EventKind::NumberAssigned, EventKind::NumberReleased],
        "the history of n1 (the failed order touched nothing)"
    );
}

pub async fn inventory_stats(store: DynStore) {
    let empty = store.inventory_stats().await.expect("inventory_stats");
    assert_eq!(empty, InventoryStats::default(), "an empty inventory");
    let acme = new_account(&store, "Acme", at(0)).await;
    let suffixes = ["0100", "0101", "0123", "0199", "1234", "7000", "8200"];
    import(
        &store,
        &suffixes.iter().map(|s| seattle(s)).collect::<Vec<_>>(),
        at(0),
    )
    .await;
    let n: Vec<E164> = suffixes
        .iter()
        .map(|s| e164(&format!("+1206555{s}")))
        .collect();
    assign(&store, acme, &n[0..3], minutes(1)).await;
    reserve(
        &store,
        &reservation(acme, &n[3..5], minutes(1), minutes(10)),
    )
    .await;
    store
        .release_number(acme, &n[0], minutes(30), minutes(2))
        .await
        .expect("release_number");
    // Counts are by state: an expired reservation not yet swept still counts as reserved.
    let stats = store.inventory_stats().await.expect("inventory_stats");
    assert_eq!(
        stats,
        InventoryStats {
            total: 7,
            available: 2,
            reserved: 2,
            assigned: 2,
            aging: 1
        }
    );
    store
        .expire_reservations(hours(1), 100)
        .await
        .expect("expire_reservations");
    store.age_numbers(hours(1), 100).await.expect("age_numbers");
    let stats = store.inventory_stats().await.expect("inventory_stats");
    assert_eq!(
        stats,
        InventoryStats {
            total: 7,
            available: 5,
            reserved: 0,
            assigned: 2,
            aging: 0
        }
    );
}

/// A reader polling `after_seq` while many steps commit events concurrently never misses one:
/// every event it ever sees is in `seq` order, and once the writers are done it has seen the
/// whole log, each event once. (A store that numbered events before commit, in the order the
/// steps started, would let a poller read seq 7 before seq 6 commits, and then skip 6.)
pub async fn event_polling_is_gap_free(store: DynStore) {
    const WRITERS: u32 = 8;
    const STEPS: u32 = 12;
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for step in 0..STEPS {
                    let n = seattle(&format!("{:04}", 1000 + w * 100 + step));
                    import(&store, &[n], at(i64::from(step))).await;
                }
            })
        })
        .collect();
    let mut seen: Vec<Event> = Vec::new();
    let mut cursor = 0;
    let mut polls = 0;
    loop {
        let done = writers.iter().all(|w| w.is_finished());
        let page = events_since(&store, cursor).await;
        polls += 1;
        if let Some(last) = page.last() {
            cursor = last.seq;
        }
        seen.extend(page);
        if done {
            // This poll started after every writer had committed: the log is complete.
            break;
        }
        tokio::task::yield_now().await;
    }
    for w in writers {
        w.await.expect("writer task");
    }
    let all = all_events(&store).await;
    assert_eq!(
        all.len(),
        (WRITERS * STEPS) as usize,
        "one number.imported event per import"
    );
    let ids = |events: &[Event]| events.iter().map(|e| e.event.id).collect::<Vec<_>>();
    assert_eq!(
        ids(&seen),
        ids(&all),
        "the poller ({polls} polls) saw a different log than the final one"
    );
    assert!(
        seen.windows(2).all(|w| w[0].seq < w[1].seq),
        "seq not increasing"
    );
}
