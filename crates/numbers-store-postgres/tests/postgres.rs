//! PostgreSQL-specific behaviour the shared suite cannot see: several store instances (as
//! several numbersd processes) on one database racing for the same numbers and orders,
//! concurrent migrations, and the full lifecycle with its events. Skips (saying so) when
//! `NUMBERSD_TEST_POSTGRES_URL` is not set.

// Test code: a failed unwrap is a failed test, with its location.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use numbers_core::account::{Account, AccountStatus, IssuedKey, KeyOwner};
use numbers_core::clock::Timestamp;
use numbers_core::error::Error;
use numbers_core::event::EventKind;
use numbers_core::ids::{AccountId, OrderId, ReservationId};
use numbers_core::number::assignment::AssignmentPatch;
use numbers_core::number::{AssignmentData, E164, NumberState};
use numbers_core::order::{NewOrder, Order, OrderRequest, OrderStatus};
use numbers_core::reservation::{NewReservation, ReservationStatus};
use numbers_core::search::SearchQuery;
use numbers_core::store::{CreatedOrder, EventFilter, InventoryStore, Store};
use numbers_store_conformance::fixtures::{at, seattle};
use numbers_store_postgres::PostgresStore;

async fn account(store: &dyn Store, now: Timestamp) -> AccountId {
    let id = AccountId::new();
    let account = Account {
        id,
        name: format!("acct {id}"),
        status: AccountStatus::Active,
        created_at: now,
    };
    store
        .create_account(
            &account,
            &IssuedKey::generate(None).stored(KeyOwner::Account(id), now),
        )
        .await
        .unwrap();
    id
}

fn order(account: AccountId, request: OrderRequest, now: Timestamp) -> NewOrder {
    let id = OrderId::new();
    NewOrder {
        id,
        account,
        request,
        partial_allowed: true,
        backorder_requested: false,
        reservation_ids: vec![],
        template: AssignmentData::default(),
        name: None,
        customer_order_id: None,
        idempotency_key: None,
        request_fingerprint: format!("fp-{id}"),
        dialect_data: serde_json::json!({}),
        created_at: now,
    }
}

/// fulfil_order, retrying on `Conflict RETRY` as the worker does.
async fn fulfil(store: &dyn Store, id: OrderId, now: Timestamp) -> Order {
    for _ in 0..500 {
        match store.fulfil_order(id, now).await {
            Ok(o) => return o,
            Err(e) if e.is_retry() => tokio::task::yield_now().await,
            Err(e) => panic!("fulfil_order failed: {e:?}"),
        }
    }
    panic!("fulfil_order kept asking to retry")
}

fn seattle_numbers(n: usize) -> Vec<numbers_core::number::NewNumber> {
    (0..n)
        .map(|i| seattle(&format!("{:04}", 100 + i)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_with_events() {
    let Some(url) = common::server_url() else {
        return;
    };
    let dbs = common::FreshDbs::new(url);
    let store: Arc<dyn Store> = Arc::new(dbs.store().await);
    let a = account(&*store, at(0)).await;
    let b = account(&*store, at(0)).await;
    let numbers = seattle_numbers(4);
    let e: Vec<E164> = numbers.iter().map(|n| n.e164.clone()).collect();
    let outcome = store.import_numbers(&numbers, at(0)).await.unwrap();
    assert_eq!(outcome.inserted, 4);
    let again = store.import_numbers(&numbers[..2], at(1)).await.unwrap();
    assert_eq!((again.inserted, again.existing.len()), (0, 2));

    // Reserve two for a; b cannot have them; a orders one of them with the reservation id.
    let rid = ReservationId::new();
    let r = NewReservation {
        id: rid,
        account: a,
        numbers: vec![e[0].clone(), e[1].clone()],
        created_at: at(10),
        expires_at: at(3600),
    };
    store.create_reservation(&r).await.unwrap().unwrap();
    let refused = store
        .create_reservation(&NewReservation {
            id: ReservationId::new(),
            account: b,
            numbers: vec![e[1].clone(), e[2].clone()],
            ..r.clone()
        })
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refused.len(), 1);
    assert_eq!(
        store.get_number(&e[2]).await.unwrap().unwrap().state,
        NumberState::Available,
        "refusal wrote nothing"
    );

    let mut o = order(
        a,
        OrderRequest::Numbers(vec![e[0].clone(), e[1].clone()]),
        at(20),
    );
    o.reservation_ids = vec![rid];
    o.template.display_name = Some("desk".into());
    store.create_order(&o).await.unwrap();
    let done = fulfil(&*store, o.id, at(21)).await;
    assert_eq!(done.status, OrderStatus::Complete, "{done:#?}");
    assert_eq!(
        store.get_reservation(a, rid).await.unwrap().unwrap().status,
        ReservationStatus::Ordered
    );
    let n0 = store.get_number(&e[0]).await.unwrap().unwrap();
    assert_eq!(
        (n0.state, n0.owner, n0.assignment.display_name.as_deref()),
        (NumberState::Assigned, Some(a), Some("desk"))
    );

    // Update, release into aging, age back.
    let patch = AssignmentPatch {
        display_name: Some(Some("front".into())),
        ..Default::default()
    };
    let updated = store
        .update_assignment(a, &e[0], &patch, at(30))
        .await
        .unwrap();
    assert_eq!(updated.version, n0.version + 1);
    assert!(matches!(
        store.update_assignment(b, &e[0], &patch, at(30)).await,
        Err(Error::NotFound { .. })
    ));
    let released = store
        .release_number(a, &e[0], at(1000), at(40))
        .await
        .unwrap();
    assert_eq!(
        (released.state, released.last_owner),
        (NumberState::Aging, Some(a))
    );
    assert_eq!(store.age_numbers(at(999), 10).await.unwrap(), 0);
    assert_eq!(store.age_numbers(at(1000), 10).await.unwrap(), 1);
    let aged = store.get_number(&e[0]).await.unwrap().unwrap();
    assert_eq!(
        (aged.state, aged.last_owner),
        (NumberState::Available, None)
    );

    // Reserve and let expire.
    let r2 = NewReservation {
        id: ReservationId::new(),
        account: b,
        numbers: vec![e[3].clone()],
        created_at: at(50),
        expires_at: at(60),
    };
    store.create_reservation(&r2).await.unwrap().unwrap();
    assert_eq!(store.expire_reservations(at(59), 10).await.unwrap(), 0);
    assert_eq!(store.expire_reservations(at(60), 10).await.unwrap(), 1);
    assert_eq!(
        store.get_number(&e[3]).await.unwrap().unwrap().state,
        NumberState::Available
    );

    let kinds: Vec<EventKind> = store
        .list_events(&EventFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|e| e.event.kind)
        .collect();
    use EventKind::*;
    assert_eq!(
        kinds,
        vec![
            NumberImported,
            NumberReserved,
            NumberReserved,
            OrderReceived,
            OrderProcessing,
            NumberAssigned,
            NumberAssigned,
            OrderCompleted,
            NumberUpdated,
            NumberReleased,
            NumberAvailable,
            NumberReserved,
            NumberReservationExpired,
        ]
    );
    let for_number = store
        .list_events(&EventFilter {
            e164: Some(e[0].clone()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(for_number.len(), 5);
    assert!(
        for_number
            .windows(2)
            .all(|w| w[0].seq < w[1].seq
                && w[0].event.resource_version < w[1].event.resource_version)
    );
    dbs.drop_all().await;
}

/// Four "processes" (store instances with their own pools) race explicit orders for the same
/// numbers: every number ends assigned exactly once, and the live-assignment index agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_orders_race_across_processes() {
    let Some(url) = common::server_url() else {
        return;
    };
    let dbs = common::FreshDbs::new(url.clone());
    let first = dbs.store().await;
    let db_url = first_url(&dbs, &first).await;
    let mut stores: Vec<Arc<dyn Store>> = vec![Arc::new(first)];
    for _ in 0..3 {
        stores.push(Arc::new(PostgresStore::connect(&db_url).await.unwrap()));
    }
    let numbers = seattle_numbers(6);
    stores[0].import_numbers(&numbers, at(0)).await.unwrap();
    let e: Vec<E164> = numbers.iter().map(|n| n.e164.clone()).collect();
    let mut orders = Vec::new();
    for i in 0..16 {
        let acct = account(&*stores[0], at(0)).await;
        // Overlapping subsets in different orders, to provoke lock-order trouble.
        let mut wanted: Vec<E164> = e.iter().skip(i % 3).step_by(1 + i % 2).cloned().collect();
        if i % 2 == 0 {
            wanted.reverse();
        }
        let o = order(acct, OrderRequest::Numbers(wanted), at(1));
        stores[0].create_order(&o).await.unwrap();
        orders.push(o.id);
    }
    let mut tasks = Vec::new();
    for (i, id) in orders.into_iter().enumerate() {
        let store = stores[i % stores.len()].clone();
        tasks.push(tokio::spawn(
            async move { fulfil(&*store, id, at(2)).await },
        ));
    }
    let mut winners: HashMap<E164, usize> = HashMap::new();
    for t in tasks {
        let done = t.await.unwrap();
        for item in done.completed() {
            *winners.entry(item.e164.clone().unwrap()).or_default() += 1;
        }
    }
    assert_eq!(winners.len(), e.len(), "every number sold: {winners:?}");
    assert!(
        winners.values().all(|&c| c == 1),
        "no number sold twice: {winners:?}"
    );
    for n in &e {
        assert_eq!(
            stores[1].get_number(n).await.unwrap().unwrap().state,
            NumberState::Assigned
        );
    }
    dbs.drop_all().await;
}

/// Search orders from several processes take disjoint numbers (SKIP LOCKED), and the queue
/// hands each order to exactly one claimer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_orders_and_queue_across_processes() {
    let Some(url) = common::server_url() else {
        return;
    };
    let dbs = common::FreshDbs::new(url);
    let first = dbs.store().await;
    let db_url = first_url(&dbs, &first).await;
    let stores: Vec<Arc<dyn Store>> = vec![
        Arc::new(first),
        Arc::new(PostgresStore::connect(&db_url).await.unwrap()),
        Arc::new(PostgresStore::connect(&db_url).await.unwrap()),
    ];
    stores[0]
        .import_numbers(&seattle_numbers(50), at(0))
        .await
        .unwrap();
    let query = SearchQuery::builder()
        .country(Some("US"), "country")
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..12 {
        let acct = account(&*stores[0], at(0)).await;
        let o = order(
            acct,
            OrderRequest::Search {
                query: query.clone(),
                quantity: 5,
            },
            at(i),
        );
        stores[0].create_order(&o).await.unwrap();
        ids.push(o.id);
    }
    // Claim concurrently: every order exactly once.
    let mut claimers = Vec::new();
    for s in &stores {
        let s = s.clone();
        claimers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while let Some(id) = s.claim_next_order(at(100), at(160)).await.unwrap() {
                mine.push(id);
            }
            mine
        }));
    }
    let mut claimed = Vec::new();
    for c in claimers {
        claimed.extend(c.await.unwrap());
    }
    assert_eq!(claimed.iter().collect::<HashSet<_>>().len(), 12);
    assert_eq!(claimed.len(), 12);

    let mut tasks = Vec::new();
    for (i, id) in ids.into_iter().enumerate() {
        let s = stores[i % stores.len()].clone();
        tasks.push(tokio::spawn(async move { fulfil(&*s, id, at(101)).await }));
    }
    let mut won = HashSet::new();
    let mut total = 0;
    for t in tasks {
        let o = t.await.unwrap();
        for item in o.completed() {
            total += 1;
            assert!(won.insert(item.e164.clone().unwrap()), "number sold twice");
        }
    }
    assert_eq!(total, 50, "10 orders complete, the rest share what is left");
    let stats = stores[0].inventory_stats().await.unwrap();
    assert_eq!((stats.assigned, stats.available), (50, 0));
    dbs.drop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_key_under_concurrency() {
    let Some(url) = common::server_url() else {
        return;
    };
    let dbs = common::FreshDbs::new(url);
    let store: Arc<dyn Store> = Arc::new(dbs.store().await);
    let a = account(&*store, at(0)).await;
    let base = order(a, OrderRequest::Numbers(vec![seattle("0100").e164]), at(1));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = store.clone();
        let o = NewOrder {
            id: OrderId::new(),
            idempotency_key: Some("k1".into()),
            request_fingerprint: "same".into(),
            ..base.clone()
        };
        tasks.push(tokio::spawn(
            async move { s.create_order(&o).await.unwrap() },
        ));
    }
    let mut created = 0;
    let mut ids = HashSet::new();
    for t in tasks {
        match t.await.unwrap() {
            CreatedOrder::Created(o) => {
                created += 1;
                ids.insert(o.id());
            }
            CreatedOrder::Existing(o) => {
                ids.insert(o.id());
            }
        }
    }
    assert_eq!((created, ids.len()), (1, 1));
    let other = NewOrder {
        id: OrderId::new(),
        idempotency_key: Some("k1".into()),
        request_fingerprint: "different".into(),
        ..base
    };
    assert!(matches!(
        store.create_order(&other).await,
        Err(Error::Conflict {
            kind: numbers_core::error::ConflictKind::IdempotencyKeyReused,
            ..
        })
    ));
    dbs.drop_all().await;
}

/// Two processes starting together on a fresh database both come up (one migrates, one waits).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations() {
    let Some(url) = common::server_url() else {
        return;
    };
    let name = format!("numbersd_mig_{}", uuid::Uuid::new_v4().simple());
    let db_url = numbers_store_postgres::create_database(&url, &name)
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        PostgresStore::connect(&db_url),
        PostgresStore::connect(&db_url)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    use numbers_core::store::HealthStore;
    a.ping().await.unwrap();
    b.ping().await.unwrap();
    assert!(a.database_size_bytes().await.unwrap() > 0);
    drop((a, b));
    let dbs = common::FreshDbs::new(url);
    dbs.adopt(name);
    dbs.drop_all().await;
}

/// Bulk import throughput (printed; the assertion only guards against pathologies).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_import_throughput() {
    let Some(url) = common::server_url() else {
        return;
    };
    let dbs = common::FreshDbs::new(url);
    let store = dbs.store().await;
    let numbers: Vec<_> = (0..100_000)
        .map(|i| {
            let mut n = seattle("0100");
            n.e164 = E164::from_trusted(format!("+1206{}", 2_000_000 + i));
            n
        })
        .collect();
    let started = std::time::Instant::now();
    let outcome = store.import_numbers(&numbers, at(0)).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(outcome.inserted, 100_000);
    println!(
        "imported 100000 numbers in {secs:.2}s: {:.0}/s",
        100_000.0 / secs
    );
    let repeat = store.import_numbers(&numbers[..1000], at(1)).await.unwrap();
    assert_eq!((repeat.inserted, repeat.existing.len()), (0, 1000));
    dbs.drop_all().await;
}

/// The URL of the database `first` is connected to (the last one `dbs` created).
async fn first_url(dbs: &common::FreshDbs, _first: &PostgresStore) -> String {
    dbs.last_url()
}
