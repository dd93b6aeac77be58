//! SQLite-specific and end-to-end checks beyond the shared suite: a number's whole life
//! (import → search → reserve → order → update → release → age) with its events, reservation
//! expiry, backorders, idempotent orders, a race for one number, reopening a database file, and
//! a bulk import.

mod common;

use std::sync::Arc;

use numbers_core::error::Error;
use numbers_core::event::EventKind;
use numbers_core::ids::ReservationId;
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{ClaimRefusal, Label, NumberState};
use numbers_core::order::OrderStatus;
use numbers_core::reservation::{NewReservation, ReservationStatus};
use numbers_core::search::SearchQuery;
use numbers_core::store::{CreatedOrder, EventFilter, NumberFilter, Store};
use numbers_store_conformance::fixtures::{base, days, e164, hours, minutes, seattle};
use numbers_store_conformance::support::{
    all_events, assign, create, explicit_order, failure_codes, fulfil, import, new_account, number,
    search_order,
};

async fn fresh(dbs: &common::TempDbs) -> Arc<dyn Store> {
    Arc::new(dbs.open().await)
}

fn seattle_query(page_size: u32) -> SearchQuery {
    SearchQuery {
        rate_center: Some("SEATTLE".into()),
        page_size,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_from_import_to_aging_and_back() {
    let dbs = common::TempDbs::default();
    let store = fresh(&dbs).await;
    let a = new_account(&store, "a", base()).await;
    let b = new_account(&store, "b", base()).await;
    let imported = import(
        &store,
        &[seattle("0100"), seattle("0101"), seattle("0102")],
        base(),
    )
    .await;
    assert_eq!(imported.inserted, 3);

    // Reserve two for A: B no longer finds or gets them.
    let rid = ReservationId::new();
    let wanted = vec![e164("+12065550100"), e164("+12065550101")];
    let reservation = store
        .create_reservation(&NewReservation {
            id: rid,
            account: a,
            numbers: vec![wanted[0].clone(), wanted[1].clone(), wanted[0].clone()],
            created_at: minutes(1),
            expires_at: hours(4),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reservation.numbers, wanted, "duplicates are dropped");
    let found = store
        .search_available(&seattle_query(10), minutes(2))
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|n| n.e164.as_str()).collect::<Vec<_>>(),
        vec!["+12065550102"]
    );
    let refused = store
        .create_reservation(&NewReservation {
            id: ReservationId::new(),
            account: b,
            numbers: vec![wanted[0].clone(), e164("+12065550199")],
            created_at: minutes(2),
            expires_at: hours(1),
        })
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        refused,
        vec![
            (wanted[0].clone(), ClaimRefusal::ReservedByAnother),
            (e164("+12065550199"), ClaimRefusal::NotFound)
        ]
    );
    let b_order = fulfil(
        &store,
        create(&store, &explicit_order(b, &wanted[..1], minutes(3)))
            .await
            .id(),
        minutes(3),
    )
    .await;
    assert_eq!(b_order.status, OrderStatus::Failed);
    assert_eq!(
        failure_codes(&b_order)
            .get("+12065550100")
            .map(String::as_str),
        Some("NUMBER_RESERVED")
    );

    // A orders both with the reservation id: the reservation is then ORDERED.
    let mut order = explicit_order(a, &wanted, minutes(5));
    order.reservation_ids = vec![rid];
    order.template.label = Some(Label::parse("team", "label").unwrap());
    let done = fulfil(&store, create(&store, &order).await.id(), minutes(5)).await;
    assert_eq!(done.status, OrderStatus::Complete);
    assert_eq!(done.completed_count(), 2);
    let r = store.get_reservation(a, rid).await.unwrap().unwrap();
    assert_eq!(r.status, ReservationStatus::Ordered);
    assert!(store.get_reservation(b, rid).await.unwrap().is_none());
    let n = number(&store, &wanted[0]).await;
    assert_eq!((n.state, n.owner), (NumberState::Assigned, Some(a)));
    assert_eq!(n.assignment.label.as_ref().map(Label::as_str), Some("team"));

    // Update and list by label.
    let patch = AssignmentPatch {
        display_name: Some(Some("Front desk".into())),
        ..Default::default()
    };
    let updated = store
        .update_assignment(a, &wanted[1], &patch, minutes(6))
        .await
        .unwrap();
    assert_eq!(
        updated.assignment.display_name.as_deref(),
        Some("Front desk")
    );
    assert!(matches!(
        store
            .update_assignment(b, &wanted[1], &patch, minutes(6))
            .await,
        Err(Error::NotFound { .. })
    ));
    let filter = NumberFilter {
        display_name: Some("Front desk".into()),
        page_size: 10,
        ..Default::default()
    };
    let listed = store.list_account_numbers(a, &filter).await.unwrap();
    assert_eq!(
        listed.iter().map(|n| n.e164.clone()).collect::<Vec<_>>(),
        vec![wanted[1].clone()]
    );
    let filter = NumberFilter {
        label: Some("team".into()),
        page_size: 1,
        ..Default::default()
    };
    assert_eq!(
        store.list_account_numbers(a, &filter).await.unwrap().len(),
        2,
        "page_size + 1 rows"
    );

    // Release into aging: only A may take it back until it ages out.
    let released = store
        .release_number(a, &wanted[0], days(30), days(1))
        .await
        .unwrap();
    assert_eq!(
        (released.state, released.owner, released.last_owner),
        (NumberState::Aging, None, Some(a))
    );
    assert!(released.assignment.label.is_none());
    assert!(
        store
            .search_available(&seattle_query(10), days(2))
            .await
            .unwrap()
            .iter()
            .all(|n| n.e164 != wanted[0])
    );
    assert_eq!(store.age_numbers(days(29), 10).await.unwrap(), 0);
    assert_eq!(store.age_numbers(days(30), 10).await.unwrap(), 1);
    let aged = number(&store, &wanted[0]).await;
    assert_eq!(
        (aged.state, aged.last_owner),
        (NumberState::Available, None)
    );
    // It can be sold again: the old assignment row was released.
    assign(&store, b, &wanted[..1], days(31)).await;

    let stats = store.inventory_stats().await.unwrap();
    assert_eq!((stats.total, stats.assigned, stats.available), (3, 2, 1));

    let kinds: Vec<&str> = all_events(&store)
        .await
        .iter()
        .map(|e| e.event.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "number.imported",
            "number.reserved",
            "number.reserved",
            "order.received",
            "order.processing",
            "order.failed",
            "order.received",
            "order.processing",
            "number.assigned",
            "number.assigned",
            "order.completed",
            "number.updated",
            "number.released",
            "number.available",
            "order.received",
            "order.processing",
            "number.assigned",
            "order.completed",
        ]
    );
    let for_number = store
        .list_events(&EventFilter {
            e164: Some(wanted[0].clone()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let versions: Vec<i64> = for_number
        .iter()
        .map(|e| e.event.resource_version)
        .collect();
    assert_eq!(
        versions,
        vec![2, 3, 4, 5, 6],
        "reserved, assigned, released, available, assigned again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_expire_and_cannot_be_released_after() {
    let dbs = common::TempDbs::default();
    let store = fresh(&dbs).await;
    let a = new_account(&store, "a", base()).await;
    import(&store, &[seattle("0100")], base()).await;
    let rid = ReservationId::new();
    store
        .create_reservation(&NewReservation {
            id: rid,
            account: a,
            numbers: vec![e164("+12065550100")],
            created_at: base(),
            expires_at: hours(1),
        })
        .await
        .unwrap()
        .unwrap();
    // Expired by time: searchable already, but not releasable.
    assert_eq!(
        store
            .search_available(&seattle_query(10), hours(1))
            .await
            .unwrap()
            .len(),
        1
    );
    match store.release_reservation(a, rid, hours(2)).await {
        Err(Error::Conflict { kind, .. }) => assert_eq!(kind.code(), "RESERVATION_NOT_ACTIVE"),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.expire_reservations(minutes(59), 10).await.unwrap(), 0);
    assert_eq!(store.expire_reservations(hours(1), 10).await.unwrap(), 1);
    assert_eq!(store.expire_reservations(hours(1), 10).await.unwrap(), 0);
    let n = number(&store, &e164("+12065550100")).await;
    assert_eq!(
        (n.state, n.owner, n.reservation_id),
        (NumberState::Available, None, None)
    );
    assert_eq!(
        store.get_reservation(a, rid).await.unwrap().unwrap().status,
        ReservationStatus::Expired
    );
    let kinds: Vec<EventKind> = all_events(&store)
        .await
        .iter()
        .map(|e| e.event.kind)
        .collect();
    assert_eq!(kinds.last(), Some(&EventKind::NumberReservationExpired));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backorders_wait_then_complete_and_announce_once() {
    let dbs = common::TempDbs::default();
    let store = fresh(&dbs).await;
    let a = new_account(&store, "a", base()).await;
    import(&store, &[seattle("0100"), seattle("0101")], base()).await;
    let mut order = search_order(a, seattle_query(10), 3, minutes(1));
    order.backorder_requested = true;
    create(&store, &order).await;
    assert_eq!(
        store
            .claim_next_order(minutes(1), minutes(2))
            .await
            .unwrap(),
        Some(order.id)
    );
    assert_eq!(
        store
            .claim_next_order(minutes(1), minutes(2))
            .await
            .unwrap(),
        None,
        "leased"
    );
    let first = fulfil(&store, order.id, minutes(1)).await;
    assert_eq!(
        (first.status, first.completed_count()),
        (OrderStatus::Backordered, 2)
    );
    let again = fulfil(&store, order.id, minutes(2)).await;
    assert_eq!(
        (again.status, again.completed_count()),
        (OrderStatus::Backordered, 2)
    );
    assert_eq!(store.backordered_orders(10).await.unwrap(), vec![order.id]);
    import(&store, &[seattle("0102")], minutes(3)).await;
    let done = fulfil(&store, order.id, minutes(4)).await;
    assert_eq!(
        (done.status, done.completed_count(), done.completed_at),
        (OrderStatus::Complete, 3, Some(minutes(4)))
    );
    let unchanged = fulfil(&store, order.id, minutes(5)).await;
    assert_eq!(unchanged, done, "a final order is returned unchanged");
    let order_events = store
        .list_events(&EventFilter {
            order: Some(order.id),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let kinds: Vec<&str> = order_events.iter().map(|e| e.event.kind.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "order.received",
            "order.processing",
            "number.assigned",
            "number.assigned",
            "order.backordered",
            "number.assigned",
            "order.completed"
        ]
    );
    let listed = store
        .list_orders(
            a,
            &numbers_core::store::OrderFilter {
                page_size: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed, vec![done.clone()]);

    // Closing: only backordered orders.
    match store.close_backorder(a, order.id, minutes(6)).await {
        Err(Error::Conflict { kind, .. }) => assert_eq!(kind.code(), "ORDER_NOT_BACKORDERED"),
        other => panic!("{other:?}"),
    }
    let mut waiting = search_order(a, seattle_query(10), 1, minutes(7));
    waiting.backorder_requested = true;
    create(&store, &waiting).await;
    assert_eq!(
        fulfil(&store, waiting.id, minutes(7)).await.status,
        OrderStatus::Backordered
    );
    let closed = store
        .close_backorder(a, waiting.id, minutes(8))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((closed.status, closed.closed), (OrderStatus::Failed, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys() {
    let dbs = common::TempDbs::default();
    let store = fresh(&dbs).await;
    let a = new_account(&store, "a", base()).await;
    let mut first = explicit_order(a, &[e164("+12065550100")], base());
    first.idempotency_key = Some("k1".into());
    create(&store, &first).await;
    let mut same = explicit_order(a, &[e164("+12065550100")], minutes(1));
    same.idempotency_key = Some("k1".into());
    same.request_fingerprint = first.request_fingerprint.clone();
    match store.create_order(&same).await.unwrap() {
        CreatedOrder::Existing(o) => assert_eq!(o.id(), first.id),
        other => panic!("{other:?}"),
    }
    let mut different = same.clone();
    different.request_fingerprint = "other".into();
    match store.create_order(&different).await {
        Err(Error::Conflict { kind, .. }) => assert_eq!(kind.code(), "IDEMPOTENCY_KEY_REUSED"),
        other => panic!("{other:?}"),
    }
    // Another account may use the same key.
    let b = new_account(&store, "b", base()).await;
    let mut theirs = explicit_order(b, &[e164("+12065550100")], base());
    theirs.idempotency_key = Some("k1".into());
    create(&store, &theirs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_number_is_sold_once_under_contention() {
    let dbs = common::TempDbs::default();
    let store = fresh(&dbs).await;
    import(&store, &[seattle("0100")], base()).await;
    let mut orders = Vec::new();
    for i in 0..8 {
        let account = new_account(&store, &format!("acct{i}"), base()).await;
        orders.push(
            create(
                &store,
                &explicit_order(account, &[e164("+12065550100")], minutes(1)),
            )
            .await
            .id(),
        );
    }
    let tasks: Vec<_> = orders
        .into_iter()
        .map(|id| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { fulfil(&store, id, minutes(2)).await })
        })
        .collect();
    let mut complete = 0;
    for t in tasks {
        if t.await.unwrap().status == OrderStatus::Complete {
            complete += 1;
        }
    }
    assert_eq!(complete, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_data_and_migrations_run_once() {
    let dir = std::env::temp_dir().join(format!("numbersd-sqlite-reopen-{}", uuid::Uuid::new_v4()));
    let path = dir.join("nested").join("n.db");
    {
        let store = numbers_store_sqlite::SqliteStore::open(&format!("sqlite:{}", path.display()))
            .await
            .unwrap();
        assert_eq!(store.database_path(), path.as_path());
        let store: Arc<dyn Store> = Arc::new(store);
        import(&store, &[seattle("0100")], base()).await;
    }
    for url in [
        format!("sqlite://{}", path.display()),
        path.display().to_string(),
    ] {
        let store: Arc<dyn Store> =
            Arc::new(numbers_store_sqlite::SqliteStore::open(&url).await.unwrap());
        assert_eq!(store.inventory_stats().await.unwrap().total, 1);
        assert_eq!(store.backend(), "sqlite");
        store.ping().await.unwrap();
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_import_counts_inserted_and_existing() {
    let dbs = common::TempDbs::default();
    let store = fresh(&dbs).await;
    let batch: Vec<_> = (0..10_000).map(|i| seattle(&format!("{i:04}"))).collect();
    let started = std::time::Instant::now();
    let first = store.import_numbers(&batch, base()).await.unwrap();
    let elapsed = started.elapsed();
    println!("imported {} numbers in {elapsed:?}", first.inserted);
    assert_eq!((first.inserted, first.existing.len()), (10_000, 0));
    let second = store.import_numbers(&batch[..100], base()).await.unwrap();
    assert_eq!((second.inserted, second.existing.len()), (0, 100));
    let imported = store
        .list_events(&EventFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.kind == EventKind::NumberImported)
        .count();
    assert_eq!(imported, 1, "no event for a batch that inserted nothing");
    let page = store
        .search_available(&seattle_query(50), base())
        .await
        .unwrap();
    assert_eq!(page.len(), 51);
    let next = store
        .search_available(
            &seattle_query(50).with_page(50, Some(page[49].e164.as_str().into())),
            base(),
        )
        .await
        .unwrap();
    assert_eq!(next[0].e164, page[50].e164);
}
