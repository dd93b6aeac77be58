//! Orders: creation and idempotency, the worker's claim with leases, explicit and search
//! fulfilment (complete, partial, all-or-nothing, reservations, insufficient inventory),
//! backorders and closing them, scoped reads and listing, and the concurrency guarantee that a
//! number is never sold twice.

use std::collections::{BTreeMap, HashMap};

use numbers_core::error::ConflictKind;
use numbers_core::event::EventKind;
use numbers_core::ids::{AccountId, OrderId};
use numbers_core::number::{E164, NumberState};
use numbers_core::order::{INSUFFICIENT_INVENTORY, ItemOutcome, NewOrder, Order, OrderStatus};
use numbers_core::reservation::ReservationStatus;
use numbers_core::search::SearchQuery;
use numbers_core::store::{CreatedOrder, NumberFilter, OrderFilter};

use crate::fixtures::{self, at, e164, hours, minutes, raleigh, seattle, tacoma, template};
use crate::support::{
    DynStore, assert_assigned, assign, completed_numbers, create, events_since, expect_conflict,
    explicit_order, failure_codes, fulfil, import, last_seq, new_account, number, of_kind, place,
    reservation, reserve, search_order,
};

fn codes(pairs: &[(&E164, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(e, c)| (e.to_string(), c.to_string()))
        .collect()
}

async fn status_events(
    store: &DynStore,
    order: OrderId,
    since: i64,
    kind: EventKind,
) -> Vec<numbers_core::event::Event> {
    of_kind(&events_since(store, since).await, kind)
        .into_iter()
        .filter(|e| e.event.order_id == Some(order))
        .collect()
}

fn query(b: numbers_core::search::SearchQueryBuilder) -> SearchQuery {
    b.build()
        .unwrap_or_else(|e| panic!("suite bug: query does not build: {e}"))
}

pub async fn order_create_and_idempotency(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    import(&store, &[seattle("0100")], at(0)).await;
    let n1 = e164("+12065550100");

    let seq = last_seq(&store).await;
    let mut new = explicit_order(acme, std::slice::from_ref(&n1), at(10));
    new.idempotency_key = Some("idem-7f3a".into());
    new.name = Some("Support lines".into());
    new.customer_order_id = Some("PO-1001".into());
    new.partial_allowed = false;
    new.backorder_requested = true;
    new.template = template();
    new.dialect_data = serde_json::json!({ "dialect": "bandwidth", "orderType": "existingTelephoneNumberOrderType" });
    let created = create(&store, &new).await;
    assert_eq!(
        created.new, new,
        "the stored order keeps the request exactly"
    );
    assert_eq!(
        (created.status, created.closed, created.version),
        (OrderStatus::Received, false, 1),
        "a new order"
    );
    assert!(created.items.is_empty(), "no items yet");
    assert_eq!((created.updated_at, created.completed_at), (at(10), None));

    let received = status_events(&store, new.id, seq, EventKind::OrderReceived).await;
    assert_eq!(received.len(), 1, "one order.received event");
    assert_eq!(
        received[0].event.account_id,
        Some(acme),
        "order.received account"
    );

    assert_eq!(
        store
            .get_order(Some(acme), new.id)
            .await
            .expect("get_order")
            .as_ref(),
        Some(&created)
    );
    assert_eq!(
        store
            .get_order(None, new.id)
            .await
            .expect("get_order(operator)")
            .as_ref(),
        Some(&created),
        "operator sees it"
    );
    assert_eq!(
        store
            .get_order(Some(globex), new.id)
            .await
            .expect("get_order(other)"),
        None,
        "another account does not"
    );
    assert_eq!(
        store
            .get_order(None, OrderId::new())
            .await
            .expect("get_order(unknown)"),
        None
    );

    // The same request again under the same key: the first order, nothing new.
    let retry = NewOrder {
        id: OrderId::new(),
        created_at: at(20),
        ..new.clone()
    };
    match store.create_order(&retry).await {
        Ok(CreatedOrder::Existing(existing)) => assert_eq!(existing, created, "the earlier order"),
        other => panic!(
            "create_order with a reused key and same fingerprint should return Existing, got {other:?}"
        ),
    }
    assert_eq!(
        store.get_order(None, retry.id).await.expect("get_order"),
        None,
        "the retry is not stored"
    );
    let received = status_events(&store, new.id, seq, EventKind::OrderReceived).await;
    assert_eq!(received.len(), 1, "a replay appends no event");

    let different = NewOrder {
        id: OrderId::new(),
        request_fingerprint: "fp-other-body".into(),
        created_at: at(30),
        ..new.clone()
    };
    expect_conflict(
        store.create_order(&different).await,
        ConflictKind::IdempotencyKeyReused,
        "same key, different request",
    );

    // Keys are per account.
    let theirs = NewOrder {
        id: OrderId::new(),
        account: globex,
        created_at: at(40),
        ..new.clone()
    };
    let theirs = create(&store, &theirs).await;
    assert_ne!(theirs.id(), created.id());
    // Orders without a key never collide.
    create(
        &store,
        &explicit_order(acme, std::slice::from_ref(&n1), at(50)),
    )
    .await;
    create(
        &store,
        &explicit_order(acme, std::slice::from_ref(&n1), at(50)),
    )
    .await;
}

pub async fn order_claim_next(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    import(
        &store,
        &[seattle("0100"), seattle("0101"), seattle("0123")],
        at(0),
    )
    .await;
    let o1 = explicit_order(acme, &[e164("+12065550100")], at(10));
    let o2 = explicit_order(acme, &[e164("+12065550101")], at(20));
    let o3 = explicit_order(acme, &[e164("+12065550123")], at(30));
    // Inserted out of order: the oldest by created_at goes first, not the first inserted.
    for o in [&o2, &o1, &o3] {
        create(&store, o).await;
    }
    let seq = last_seq(&store).await;
    let now = minutes(1);
    let lease = now + chrono::Duration::seconds(60);
    for want in [o1.id, o2.id, o3.id] {
        let got = store
            .claim_next_order(now, lease)
            .await
            .expect("claim_next_order");
        assert_eq!(
            got,
            Some(want),
            "claim_next_order takes the oldest RECEIVED order"
        );
        let o = store
            .get_order(None, want)
            .await
            .expect("get_order")
            .expect("order");
        assert_eq!(
            o.status,
            OrderStatus::Processing,
            "claimed order is PROCESSING"
        );
    }
    assert_eq!(
        store
            .claim_next_order(now, lease)
            .await
            .expect("claim_next_order"),
        None,
        "all leased"
    );
    assert_eq!(
        store
            .claim_next_order(lease, lease + chrono::Duration::seconds(60))
            .await
            .expect("claim"),
        None,
        "a lease is held until strictly after lease_until"
    );

    let done = fulfil(&store, o2.id, minutes(2)).await;
    assert_eq!(
        done.status,
        OrderStatus::Complete,
        "a PROCESSING order is fulfilled"
    );

    let later = minutes(3);
    let relet = later + chrono::Duration::seconds(60);
    assert_eq!(
        store.claim_next_order(later, relet).await.expect("claim"),
        Some(o1.id),
        "an expired lease is claimable again"
    );
    assert_eq!(
        store.claim_next_order(later, relet).await.expect("claim"),
        Some(o3.id)
    );
    assert_eq!(
        store.claim_next_order(later, relet).await.expect("claim"),
        None,
        "final orders are never claimed"
    );
    let processing = of_kind(&events_since(&store, seq).await, EventKind::OrderProcessing);
    assert_eq!(
        processing.len(),
        3,
        "order.processing only on RECEIVED → PROCESSING, not on re-claims: {processing:#?}"
    );
}

pub async fn order_explicit_complete(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    import(
        &store,
        &[seattle("0100"), seattle("0101"), seattle("0123")],
        at(0),
    )
    .await;
    let wanted = [e164("+12065550100"), e164("+12065550101")];
    let mut new = explicit_order(acme, &wanted, minutes(1));
    new.template = template();
    create(&store, &new).await;
    let seq = last_seq(&store).await;
    let done = fulfil(&store, new.id, minutes(2)).await;
    assert_eq!(done.status, OrderStatus::Complete, "{done:#?}");
    assert_eq!(
        (done.completed_at, done.updated_at, done.closed),
        (Some(minutes(2)), minutes(2), false)
    );
    assert!(done.version > 1, "fulfilment bumps the order version");
    assert_eq!(done.items.len(), 2);
    for e in &wanted {
        let n = number(&store, e).await;
        assert_assigned(&n, acme, minutes(2));
        assert_eq!(
            n.assignment,
            template(),
            "the order's template is applied to {e}"
        );
        assert_eq!(n.version, 2, "{e} version");
        let item = done
            .items
            .iter()
            .find(|i| i.e164.as_ref() == Some(e))
            .unwrap_or_else(|| panic!("no item for {e}"));
        assert_eq!(
            (item.number_id, &item.outcome),
            (Some(n.id), &ItemOutcome::Completed),
            "item of {e}"
        );
    }
    assert_eq!(
        number(&store, &e164("+12065550123")).await.state,
        NumberState::Available,
        "not ordered, not touched"
    );

    let events = events_since(&store, seq).await;
    let assigned = of_kind(&events, EventKind::NumberAssigned);
    assert_eq!(
        assigned.len(),
        2,
        "one number.assigned per number: {events:#?}"
    );
    for ev in &assigned {
        let e = ev
            .event
            .e164
            .clone()
            .expect("number.assigned carries the e164");
        let n = number(&store, &e).await;
        assert_eq!(
            (ev.event.account_id, ev.event.order_id, ev.event.number_id),
            (Some(acme), Some(new.id), Some(n.id))
        );
        assert_eq!(ev.event.resource_version, n.version);
    }
    let completed = of_kind(&events, EventKind::OrderCompleted);
    assert_eq!(completed.len(), 1, "one order.completed");
    assert_eq!(
        (completed[0].event.account_id, completed[0].event.order_id),
        (Some(acme), Some(new.id))
    );
    assert_eq!(
        completed[0].event.details["completed"],
        serde_json::json!(2),
        "details: {}",
        completed[0].event.details
    );
    assert_eq!(completed[0].event.details["failed"], serde_json::json!(0));
    // The outcome event names the numbers won, so webhook formats need nothing else.
    let mut won: Vec<String> =
        serde_json::from_value(completed[0].event.details["numbers"].clone())
            .expect("details.numbers is a list of E.164 strings");
    won.sort();
    assert_eq!(won, vec!["+12065550100", "+12065550101"]);
    assert_eq!(
        completed[0].event.details["customer_order_id"],
        serde_json::json!(new.customer_order_id)
    );

    // A final order is returned unchanged, and nothing happens.
    let seq = last_seq(&store).await;
    let again = store
        .fulfil_order(new.id, minutes(5))
        .await
        .expect("fulfil_order of a final order");
    assert_eq!(again, done, "fulfilling a final order returns it unchanged");
    assert!(
        events_since(&store, seq).await.is_empty(),
        "and appends nothing"
    );
    assert_eq!(
        store
            .get_order(Some(acme), new.id)
            .await
            .expect("get_order")
            .as_ref(),
        Some(&done),
        "get_order matches"
    );

    let mine = store
        .list_account_numbers(
            acme,
            &NumberFilter {
                page_size: 100,
                ..Default::default()
            },
        )
        .await
        .expect("list_account_numbers");
    assert_eq!(
        mine.iter().map(|n| n.e164.clone()).collect::<Vec<_>>(),
        wanted.to_vec()
    );
    let stats = store.inventory_stats().await.expect("inventory_stats");
    assert_eq!((stats.assigned, stats.available), (2, 1), "{stats:?}");
}

pub async fn order_explicit_partial(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    import(
        &store,
        &[seattle("0100"), seattle("0101"), seattle("0123")],
        at(0),
    )
    .await;
    let (free, assigned, reserved, missing) = (
        e164("+12065550100"),
        e164("+12065550101"),
        e164("+12065550123"),
        e164("+12065550142"),
    );
    assign(&store, globex, std::slice::from_ref(&assigned), minutes(1)).await;
    reserve(
        &store,
        &reservation(
            globex,
            std::slice::from_ref(&reserved),
            minutes(1),
            hours(4),
        ),
    )
    .await;

    let seq = last_seq(&store).await;
    let new = explicit_order(
        acme,
        &[
            free.clone(),
            assigned.clone(),
            missing.clone(),
            reserved.clone(),
        ],
        minutes(2),
    );
    let done = place(&store, &new, minutes(3)).await;
    assert_eq!(done.status, OrderStatus::Partial, "{done:#?}");
    assert_eq!(completed_numbers(&done), vec![free.clone()]);
    assert_eq!(
        failure_codes(&done),
        codes(&[
            (&assigned, "NUMBER_ASSIGNED"),
            (&missing, "NUMBER_NOT_FOUND"),
            (&reserved, "NUMBER_RESERVED")
        ]),
        "per-number failure codes"
    );
    let not_found = done
        .items
        .iter()
        .find(|i| i.e164.as_ref() == Some(&missing))
        .expect("item");
    assert_eq!(
        not_found.number_id, None,
        "a number not in the inventory has no id"
    );
    let taken = done
        .items
        .iter()
        .find(|i| i.e164.as_ref() == Some(&assigned))
        .expect("item");
    assert_eq!(
        taken.number_id,
        Some(number(&store, &assigned).await.id),
        "a refused number carries its id"
    );
    assert!(
        done.failed().all(|(_, _, message)| !message.is_empty()),
        "failures carry a message"
    );
    assert_eq!(done.completed_at, Some(minutes(3)));
    assert_assigned(&number(&store, &free).await, acme, minutes(3));
    assert_eq!(
        number(&store, &assigned).await.owner,
        Some(globex),
        "the other account keeps its number"
    );
    assert_eq!(
        number(&store, &reserved).await.owner,
        Some(globex),
        "and its reservation"
    );

    let partial = status_events(&store, new.id, seq, EventKind::OrderPartial).await;
    assert_eq!(partial.len(), 1, "one order.partial event");
    assert_eq!(
        (
            partial[0].event.details["completed"].clone(),
            partial[0].event.details["failed"].clone()
        ),
        (serde_json::json!(1), serde_json::json!(3))
    );
}

pub async fn order_all_or_nothing(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    import(
        &store,
        &[seattle("0100"), seattle("0101"), seattle("0123")],
        at(0),
    )
    .await;
    let (free, also_free, assigned) = (
        e164("+12065550100"),
        e164("+12065550123"),
        e164("+12065550101"),
    );
    assign(&store, globex, std::slice::from_ref(&assigned), minutes(1)).await;

    let seq = last_seq(&store).await;
    let mut new = explicit_order(
        acme,
        &[free.clone(), assigned.clone(), also_free.clone()],
        minutes(2),
    );
    new.partial_allowed = false;
    let done = place(&store, &new, minutes(3)).await;
    assert_eq!(done.status, OrderStatus::Failed, "{done:#?}");
    assert_eq!(done.completed_count(), 0, "nothing claimed");
    assert_eq!(
        failure_codes(&done),
        codes(&[
            (&free, "PARTIAL_NOT_ALLOWED"),
            (&assigned, "NUMBER_ASSIGNED"),
            (&also_free, "PARTIAL_NOT_ALLOWED")
        ])
    );
    for e in [&free, &also_free] {
        let n = number(&store, e).await;
        assert_eq!(
            (n.state, n.version, n.owner),
            (NumberState::Available, 1, None),
            "{e} is untouched"
        );
    }
    let events = events_since(&store, seq).await;
    assert!(
        of_kind(&events, EventKind::NumberAssigned).is_empty(),
        "no number.assigned"
    );
    assert_eq!(
        status_events(&store, new.id, seq, EventKind::OrderFailed)
            .await
            .len(),
        1,
        "one order.failed"
    );
}

pub async fn order_with_reservation(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    import(&store, &[seattle("0100"), seattle("0101")], at(0)).await;
    let (n1, n2) = (e164("+12065550100"), e164("+12065550101"));
    let r = reserve(
        &store,
        &reservation(acme, &[n1.clone(), n2.clone()], minutes(1), hours(4)),
    )
    .await;

    let without = place(
        &store,
        &explicit_order(acme, std::slice::from_ref(&n1), minutes(2)),
        minutes(2),
    )
    .await;
    assert_eq!(without.status, OrderStatus::Failed);
    assert_eq!(
        failure_codes(&without),
        codes(&[(&n1, "RESERVATION_ID_REQUIRED")]),
        "own reserved number without the id"
    );
    let other = place(
        &store,
        &explicit_order(globex, std::slice::from_ref(&n1), minutes(2)),
        minutes(2),
    )
    .await;
    assert_eq!(
        failure_codes(&other),
        codes(&[(&n1, "NUMBER_RESERVED")]),
        "another account's reserved number"
    );
    // Naming someone else's reservation id does not help.
    let mut sneaky = explicit_order(globex, std::slice::from_ref(&n1), minutes(2));
    sneaky.reservation_ids = vec![r.id];
    let sneaky = place(&store, &sneaky, minutes(2)).await;
    assert_eq!(
        failure_codes(&sneaky),
        codes(&[(&n1, "NUMBER_RESERVED")]),
        "another account naming the reservation id"
    );

    let mut first = explicit_order(acme, std::slice::from_ref(&n1), minutes(3));
    first.reservation_ids = vec![r.id];
    first.template = template();
    let first = place(&store, &first, minutes(3)).await;
    assert_eq!(first.status, OrderStatus::Complete, "{first:#?}");
    let n = number(&store, &n1).await;
    assert_assigned(&n, acme, minutes(3));
    assert_eq!(n.assignment, template());
    let status = store
        .get_reservation(acme, r.id)
        .await
        .expect("get_reservation")
        .expect("reservation")
        .status;
    assert_eq!(
        status,
        ReservationStatus::Active,
        "one number of the reservation is still reserved"
    );
    assert_eq!(number(&store, &n2).await.state, NumberState::Reserved);

    let mut second = explicit_order(acme, std::slice::from_ref(&n2), minutes(4));
    second.reservation_ids = vec![r.id];
    assert_eq!(
        place(&store, &second, minutes(4)).await.status,
        OrderStatus::Complete
    );
    let status = store
        .get_reservation(acme, r.id)
        .await
        .expect("get_reservation")
        .expect("reservation")
        .status;
    assert_eq!(
        status,
        ReservationStatus::Ordered,
        "every number of the reservation was ordered"
    );
    expect_conflict(
        store.release_reservation(acme, r.id, minutes(5)).await,
        ConflictKind::ReservationNotActive,
        "releasing an ordered reservation",
    );
    assert_eq!(
        number(&store, &n2).await.state,
        NumberState::Assigned,
        "and the numbers stay assigned"
    );
}

pub async fn order_search(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    let catalogue = fixtures::catalogue();
    import(&store, &catalogue, at(0)).await;
    let npa919 = || query(SearchQuery::builder().npa(Some("919"), "npa"));
    let mut raleigh_numbers: Vec<E164> = catalogue
        .iter()
        .filter(|n| n.e164.as_str().starts_with("+1919"))
        .map(|n| n.e164.clone())
        .collect();
    raleigh_numbers.sort();
    assert_eq!(
        raleigh_numbers.len(),
        5,
        "suite bug: catalogue should have five 919 numbers"
    );
    // The lowest is reserved by someone else: search orders skip it.
    reserve(
        &store,
        &reservation(
            globex,
            std::slice::from_ref(&raleigh_numbers[0]),
            minutes(1),
            hours(4),
        ),
    )
    .await;

    let seq = last_seq(&store).await;
    let mut two = search_order(acme, npa919(), 2, minutes(2));
    two.template = template();
    let two = place(&store, &two, minutes(2)).await;
    assert_eq!(two.status, OrderStatus::Complete, "{two:#?}");
    assert_eq!(
        completed_numbers(&two),
        raleigh_numbers[1..3].to_vec(),
        "the first available numbers by E.164"
    );
    for e in &raleigh_numbers[1..3] {
        let n = number(&store, e).await;
        assert_assigned(&n, acme, minutes(2));
        assert_eq!(n.assignment, template());
    }
    assert_eq!(
        of_kind(&events_since(&store, seq).await, EventKind::NumberAssigned).len(),
        2
    );

    // Two left, five wanted, partial allowed.
    let five = place(
        &store,
        &search_order(acme, npa919(), 5, minutes(3)),
        minutes(3),
    )
    .await;
    assert_eq!(five.status, OrderStatus::Partial, "{five:#?}");
    assert_eq!(completed_numbers(&five), raleigh_numbers[3..5].to_vec());
    assert_eq!(
        failure_codes(&five),
        BTreeMap::from([("-".to_string(), INSUFFICIENT_INVENTORY.to_string())]),
        "one shortfall item"
    );

    // Nothing left: partial allowed or not, FAILED.
    let none = place(
        &store,
        &search_order(acme, npa919(), 1, minutes(4)),
        minutes(4),
    )
    .await;
    assert_eq!(
        (none.status, failure_codes(&none).len()),
        (OrderStatus::Failed, 1),
        "{none:#?}"
    );
    assert_eq!(
        none.failed().next().map(|(_, code, _)| code),
        Some(INSUFFICIENT_INVENTORY)
    );

    // All or nothing on a search: three toll-free 877/888 numbers exist unprotected... ask for more.
    let tf = query(SearchQuery::builder().toll_free_pattern(Some("87*"), "tf"));
    let mut strict = search_order(acme, tf.clone(), 3, minutes(5));
    strict.partial_allowed = false;
    let strict = place(&store, &strict, minutes(5)).await;
    assert_eq!(
        (strict.status, strict.completed_count()),
        (OrderStatus::Failed, 0),
        "all or nothing: {strict:#?}"
    );
    assert_eq!(
        failure_codes(&strict),
        BTreeMap::from([("-".to_string(), INSUFFICIENT_INVENTORY.to_string())])
    );
    let still = store
        .search_available(&tf.clone().with_page(100, None), minutes(5))
        .await
        .expect("search_available");
    assert_eq!(still.len(), 2, "nothing was claimed by the failed order");
    let ok = place(
        &store,
        &search_order(acme, tf.clone(), 2, minutes(6)),
        minutes(6),
    )
    .await;
    assert_eq!(
        (ok.status, ok.completed_count()),
        (OrderStatus::Complete, 2)
    );
    // Search orders honour every facet: no claimed number falls outside the query.
    for e in completed_numbers(&ok) {
        assert!(
            tf.matches(&number(&store, &e).await),
            "{e} does not match the order's query"
        );
    }
}

pub async fn order_backorder(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    import(
        &store,
        &[
            tacoma("0100"),
            raleigh("0100"),
            raleigh("0142"),
            seattle("0100"),
        ],
        at(0),
    )
    .await;
    let npa = |v: &str| query(SearchQuery::builder().npa(Some(v), "npa"));

    // All or nothing, waiting: nothing is claimed while it waits.
    let seq = last_seq(&store).await;
    let mut wait_all = search_order(acme, npa("253"), 3, minutes(1));
    wait_all.backorder_requested = true;
    wait_all.partial_allowed = false;
    let first = place(&store, &wait_all, minutes(1)).await;
    assert_eq!(
        (first.status, first.completed_count(), first.completed_at),
        (OrderStatus::Backordered, 0, None),
        "{first:#?}"
    );
    assert_eq!(
        number(&store, &e164("+12535550100")).await.state,
        NumberState::Available,
        "nothing claimed while waiting"
    );
    let retried = fulfil(&store, wait_all.id, minutes(2)).await;
    assert_eq!(retried.status, OrderStatus::Backordered);
    assert_eq!(
        status_events(&store, wait_all.id, seq, EventKind::OrderBackordered)
            .await
            .len(),
        1,
        "order.backordered only when the status changes"
    );

    // Partial allowed, waiting: keeps what it finds.
    let mut wait_some = search_order(acme, npa("919"), 4, minutes(3));
    wait_some.backorder_requested = true;
    let some = place(&store, &wait_some, minutes(3)).await;
    assert_eq!(
        (some.status, some.completed_count()),
        (OrderStatus::Backordered, 2),
        "{some:#?}"
    );

    // Explicit, waiting for a number someone else holds.
    let held = e164("+12065550100");
    assign(&store, globex, std::slice::from_ref(&held), minutes(4)).await;
    let mut wait_number = explicit_order(acme, std::slice::from_ref(&held), minutes(5));
    wait_number.backorder_requested = true;
    assert_eq!(
        place(&store, &wait_number, minutes(5)).await.status,
        OrderStatus::Backordered
    );

    assert_eq!(
        store
            .backordered_orders(100)
            .await
            .expect("backordered_orders"),
        vec![wait_all.id, wait_some.id, wait_number.id],
        "oldest first"
    );
    assert_eq!(
        store
            .backordered_orders(1)
            .await
            .expect("backordered_orders"),
        vec![wait_all.id],
        "limit"
    );

    // More inventory arrives: the retry completes the order.
    import(&store, &[tacoma("0150"), tacoma("0199")], minutes(10)).await;
    let done = fulfil(&store, wait_all.id, minutes(11)).await;
    assert_eq!(
        (done.status, done.completed_count(), done.completed_at),
        (OrderStatus::Complete, 3, Some(minutes(11))),
        "{done:#?}"
    );
    for e in completed_numbers(&done) {
        assert_assigned(&number(&store, &e).await, acme, minutes(11));
    }
    // The held number is released with no aging: the explicit backorder completes.
    store
        .release_number(globex, &held, minutes(12), minutes(12))
        .await
        .expect("release_number");
    let done = fulfil(&store, wait_number.id, minutes(13)).await;
    assert_eq!(done.status, OrderStatus::Complete, "{done:#?}");
    assert_eq!(number(&store, &held).await.owner, Some(acme));
    assert_eq!(
        store
            .backordered_orders(100)
            .await
            .expect("backordered_orders"),
        vec![wait_some.id]
    );

    // Closing: only the owner, only while backordered; it ends with what it has.
    assert_eq!(
        store
            .close_backorder(globex, wait_some.id, minutes(20))
            .await
            .expect("close by another"),
        None
    );
    let seq = last_seq(&store).await;
    let closed = store
        .close_backorder(acme, wait_some.id, minutes(20))
        .await
        .expect("close_backorder")
        .expect("own order");
    assert_eq!(
        (closed.status, closed.closed, closed.completed_at),
        (OrderStatus::Partial, true, Some(minutes(20))),
        "{closed:#?}"
    );
    assert_eq!(closed.completed_count(), 2, "it keeps what it won");
    let ev = status_events(&store, wait_some.id, seq, EventKind::OrderClosed).await;
    assert_eq!(ev.len(), 1, "one order.closed");
    assert_eq!(
        ev[0].event.details["status"],
        serde_json::json!("PARTIAL"),
        "{}",
        ev[0].event.details
    );
    expect_conflict(
        store.close_backorder(acme, wait_some.id, minutes(21)).await,
        ConflictKind::OrderNotBackordered,
        "closing twice",
    );
    expect_conflict(
        store.close_backorder(acme, wait_all.id, minutes(21)).await,
        ConflictKind::OrderNotBackordered,
        "closing a COMPLETE order",
    );
    assert_eq!(
        fulfil(&store, wait_some.id, minutes(22)).await,
        closed,
        "a closed order is final and unchanged"
    );
    assert!(
        store
            .backordered_orders(100)
            .await
            .expect("backordered_orders")
            .is_empty()
    );

    // Closing a backorder that won nothing fails it; one that won everything cannot exist.
    let mut nothing = search_order(acme, npa("206"), 1, minutes(30));
    nothing.backorder_requested = true;
    assert_eq!(
        place(&store, &nothing, minutes(30)).await.status,
        OrderStatus::Backordered
    );
    let closed = store
        .close_backorder(acme, nothing.id, minutes(31))
        .await
        .expect("close_backorder")
        .expect("own order");
    assert_eq!((closed.status, closed.closed), (OrderStatus::Failed, true));
}

pub async fn order_get_and_list(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    import(
        &store,
        &[seattle("0100"), seattle("0101"), seattle("0123")],
        at(0),
    )
    .await;
    let nums = [
        e164("+12065550100"),
        e164("+12065550101"),
        e164("+12065550123"),
    ];
    let mut mine: Vec<Order> = Vec::new();
    for i in 0..7 {
        // Two pairs share a created_at, so the id tie-break is exercised.
        let created = at([10, 20, 30, 30, 40, 50, 50][i]);
        let mut o = explicit_order(acme, std::slice::from_ref(&nums[i % 3]), created);
        o.customer_order_id = Some(format!("PO-{}", i % 2));
        mine.push(create(&store, &o).await);
    }
    create(
        &store,
        &explicit_order(globex, std::slice::from_ref(&nums[0]), at(25)),
    )
    .await;
    // Complete, Complete, Failed (already yours) for the first three; the rest stay RECEIVED.
    for o in mine.iter_mut().take(3) {
        *o = fulfil(&store, o.id(), minutes(1)).await;
    }
    let by_id: HashMap<OrderId, Order> = mine.iter().map(|o| (o.id(), o.clone())).collect();

    let expected = |f: &OrderFilter| -> Vec<OrderId> {
        let mut v: Vec<&Order> = mine
            .iter()
            .filter(|o| f.statuses.is_empty() || f.statuses.contains(&o.status))
            .filter(|o| {
                f.customer_order_id
                    .as_ref()
                    .is_none_or(|c| o.new.customer_order_id.as_ref() == Some(c))
            })
            .filter(|o| {
                f.created_from.is_none_or(|t| o.new.created_at >= t)
                    && f.created_to.is_none_or(|t| o.new.created_at <= t)
            })
            .collect();
        v.sort_by_key(|o| std::cmp::Reverse((o.new.created_at, o.id())));
        let mut ids: Vec<OrderId> = v.into_iter().map(|o| o.id()).collect();
        if let Some(before) = f.before {
            let pos = ids
                .iter()
                .position(|id| *id == before)
                .expect("suite bug: before not listed");
            ids.drain(..=pos);
        }
        ids.truncate(f.page_size as usize + 1);
        ids
    };
    let check = |f: OrderFilter, what: &'static str| {
        let store = store.clone();
        let want = expected(&f);
        let by_id = by_id.clone();
        async move {
            let got = store
                .list_orders(acme, &f)
                .await
                .unwrap_or_else(|e| panic!("list_orders [{what}] failed: {e:?}"));
            assert_eq!(
                got.iter().map(Order::id).collect::<Vec<_>>(),
                want,
                "list_orders [{what}] ({f:?})"
            );
            for o in &got {
                assert_eq!(
                    Some(o),
                    by_id.get(&o.id()),
                    "list_orders [{what}] returns orders as get_order would"
                );
            }
            got
        }
    };
    let all = OrderFilter {
        page_size: 100,
        ..Default::default()
    };
    assert_eq!(check(all.clone(), "all").await.len(), 7);
    check(
        OrderFilter {
            statuses: vec![OrderStatus::Complete],
            ..all.clone()
        },
        "status COMPLETE",
    )
    .await;
    check(
        OrderFilter {
            statuses: vec![OrderStatus::Complete, OrderStatus::Failed],
            ..all.clone()
        },
        "status COMPLETE|FAILED",
    )
    .await;
    check(
        OrderFilter {
            statuses: vec![OrderStatus::Received],
            ..all.clone()
        },
        "status RECEIVED",
    )
    .await;
    check(
        OrderFilter {
            customer_order_id: Some("PO-1".into()),
            ..all.clone()
        },
        "customer_order_id",
    )
    .await;
    check(
        OrderFilter {
            created_from: Some(at(15)),
            created_to: Some(at(45)),
            ..all.clone()
        },
        "created range",
    )
    .await;
    // Pages of two, newest first, keyset on the last id.
    let mut before = None;
    let mut seen = Vec::new();
    loop {
        let page = check(
            OrderFilter {
                page_size: 2,
                before,
                ..Default::default()
            },
            "page",
        )
        .await;
        let more = page.len() > 2;
        seen.extend(page.iter().take(2).map(Order::id));
        before = seen.last().copied();
        if !more {
            break;
        }
    }
    assert_eq!(
        seen,
        expected(&all),
        "paging visits every order once, newest first"
    );

    let theirs = store
        .list_orders(globex, &all)
        .await
        .expect("list_orders(globex)");
    assert_eq!(theirs.len(), 1, "accounts see only their own orders");
}

pub async fn order_race(store: DynStore) {
    const NUMBERS: usize = 20;
    const ORDERS: usize = 200;
    let mut accounts: Vec<AccountId> = Vec::new();
    for i in 0..10 {
        accounts.push(new_account(&store, &format!("Racer {i}"), at(0)).await);
    }
    let batch: Vec<_> = (0..NUMBERS)
        .map(|i| seattle(&format!("{:04}", 100 + i)))
        .collect();
    import(&store, &batch, at(0)).await;
    let wanted: Vec<E164> = batch.iter().map(|n| n.e164.clone()).collect();

    let mut tasks = Vec::with_capacity(ORDERS);
    for i in 0..ORDERS {
        let store = store.clone();
        // Every number is wanted by all ten accounts, one order each.
        let account = accounts[(i / NUMBERS) % accounts.len()];
        let e = wanted[i % NUMBERS].clone();
        tasks.push(tokio::spawn(async move {
            let order = explicit_order(account, std::slice::from_ref(&e), minutes(1));
            create(&store, &order).await;
            fulfil(&store, order.id, minutes(1)).await
        }));
    }
    let mut results = Vec::with_capacity(ORDERS);
    for t in tasks {
        results.push(
            t.await
                .unwrap_or_else(|e| panic!("a racing order task failed: {e}")),
        );
    }
    let winners: Vec<&Order> = results
        .iter()
        .filter(|o| o.status == OrderStatus::Complete)
        .collect();
    let losers: Vec<&Order> = results
        .iter()
        .filter(|o| o.status == OrderStatus::Failed)
        .collect();
    assert_eq!(
        (winners.len(), losers.len()),
        (NUMBERS, ORDERS - NUMBERS),
        "exactly one order wins each number"
    );
    for loser in &losers {
        assert_eq!(
            loser.failed().map(|(_, code, _)| code).collect::<Vec<_>>(),
            vec!["NUMBER_ASSIGNED"],
            "{loser:#?}"
        );
    }
    let mut owner_of: HashMap<E164, AccountId> = HashMap::new();
    for w in &winners {
        let e = completed_numbers(w).pop().expect("a winner won a number");
        assert!(
            owner_of.insert(e.clone(), w.new.account).is_none(),
            "{e} was won twice"
        );
    }
    let events = crate::support::all_events(&store).await;
    for e in &wanted {
        let n = number(&store, e).await;
        assert_eq!(
            (n.state, n.owner),
            (NumberState::Assigned, owner_of.get(e).copied()),
            "{e} belongs to its one winner"
        );
        assert_eq!(n.version, 2, "{e} was changed exactly once");
        let assigned = events
            .iter()
            .filter(|ev| {
                ev.event.kind == EventKind::NumberAssigned && ev.event.e164.as_ref() == Some(e)
            })
            .count();
        assert_eq!(assigned, 1, "{e}: one number.assigned event");
    }
    let mut listed = 0;
    for a in &accounts {
        listed += store
            .list_account_numbers(
                *a,
                &NumberFilter {
                    page_size: 100,
                    ..Default::default()
                },
            )
            .await
            .expect("list_account_numbers")
            .len();
    }
    assert_eq!(
        listed, NUMBERS,
        "each number is listed under exactly one account"
    );
    assert_eq!(
        store
            .inventory_stats()
            .await
            .expect("inventory_stats")
            .assigned,
        NUMBERS as u64
    );
}
