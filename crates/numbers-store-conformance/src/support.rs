//! Helpers the cases share: building orders, placing them, reading numbers and events, and
//! asserting on error variants. They panic with the operation that failed, so a store bug shows up
//! as "fulfil_order(…) failed: …" rather than a bare `unwrap` location. Also the naming of the
//! per-test PostgreSQL databases the store test suites create.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Arc;

use numbers_core::clock::Timestamp;
use numbers_core::error::{ConflictKind, Error, Result};
use numbers_core::event::{Event, EventKind};
use numbers_core::ids::{AccountId, OrderId, ReservationId};
use numbers_core::number::{AssignmentData, ClaimRefusal, E164, NewNumber, Number, NumberState};
use numbers_core::order::{ItemOutcome, NewOrder, Order, OrderRequest, OrderStatus};
use numbers_core::reservation::{NewReservation, Reservation};
use numbers_core::search::SearchQuery;
use numbers_core::store::{CreatedOrder, EventFilter, ImportOutcome, Store};

use crate::fixtures;

pub type DynStore = Arc<dyn Store>;

/// Creates an account (with its first key) at `at`.
pub async fn new_account(store: &DynStore, name: &str, at: Timestamp) -> AccountId {
    let (account, key) = fixtures::account(name, at);
    store
        .create_account(&account, &key)
        .await
        .unwrap_or_else(|e| panic!("create_account({name}) failed: {e:?}"));
    account.id
}

pub async fn import(store: &DynStore, numbers: &[NewNumber], at: Timestamp) -> ImportOutcome {
    store
        .import_numbers(numbers, at)
        .await
        .unwrap_or_else(|e| panic!("import_numbers({} numbers) failed: {e:?}", numbers.len()))
}

/// The number as stored; panics when it is missing.
pub async fn number(store: &DynStore, e164: &E164) -> Number {
    store
        .get_number(e164)
        .await
        .unwrap_or_else(|e| panic!("get_number({e164}) failed: {e:?}"))
        .unwrap_or_else(|| panic!("get_number({e164}) returned None for a number in the inventory"))
}

pub async fn numbers(store: &DynStore, e164s: &[E164]) -> Vec<Number> {
    let mut out = Vec::with_capacity(e164s.len());
    for e in e164s {
        out.push(number(store, e).await);
    }
    out
}

/// An explicit-numbers order with the defaults most cases want: partial allowed, no backorder,
/// no reservation, no template, a fingerprint unique to this order.
pub fn explicit_order(account: AccountId, wanted: &[E164], created_at: Timestamp) -> NewOrder {
    new_order(account, OrderRequest::Numbers(wanted.to_vec()), created_at)
}

pub fn search_order(
    account: AccountId,
    query: SearchQuery,
    quantity: u32,
    created_at: Timestamp,
) -> NewOrder {
    new_order(
        account,
        OrderRequest::Search { query, quantity },
        created_at,
    )
}

fn new_order(account: AccountId, request: OrderRequest, created_at: Timestamp) -> NewOrder {
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
        dialect_data: serde_json::json!({ "dialect": "native" }),
        created_at,
    }
}

/// `create_order`, expecting a new order.
pub async fn create(store: &DynStore, order: &NewOrder) -> Order {
    match store.create_order(order).await {
        Ok(CreatedOrder::Created(o)) => o,
        other => panic!(
            "create_order({}) should create a new order, got {other:?}",
            order.id
        ),
    }
}

/// `fulfil_order`, retrying while the store asks for it (`Conflict RETRY`), as the worker does.
pub async fn fulfil(store: &DynStore, id: OrderId, now: Timestamp) -> Order {
    for _ in 0..200 {
        match store.fulfil_order(id, now).await {
            Ok(order) => return order,
            Err(e) if e.is_retry() => tokio::task::yield_now().await,
            Err(e) => panic!("fulfil_order({id}) failed: {e:?}"),
        }
    }
    panic!("fulfil_order({id}) still asked to RETRY after 200 attempts")
}

/// Creates and fulfils an order at `now`.
pub async fn place(store: &DynStore, order: &NewOrder, now: Timestamp) -> Order {
    create(store, order).await;
    fulfil(store, order.id, now).await
}

/// Gives `account` the numbers through a complete explicit order at `now`.
pub async fn assign(
    store: &DynStore,
    account: AccountId,
    wanted: &[E164],
    now: Timestamp,
) -> Order {
    let order = place(store, &explicit_order(account, wanted, now), now).await;
    assert_eq!(
        order.status,
        OrderStatus::Complete,
        "setup order for {wanted:?} should complete: {order:#?}"
    );
    order
}

/// Every event in the log, in seq order.
pub async fn all_events(store: &DynStore) -> Vec<Event> {
    events(
        store,
        EventFilter {
            limit: 100_000,
            ..Default::default()
        },
    )
    .await
}

pub async fn events(store: &DynStore, filter: EventFilter) -> Vec<Event> {
    store
        .list_events(&filter)
        .await
        .unwrap_or_else(|e| panic!("list_events({filter:?}) failed: {e:?}"))
}

pub fn of_kind(events: &[Event], kind: EventKind) -> Vec<Event> {
    events
        .iter()
        .filter(|e| e.event.kind == kind)
        .cloned()
        .collect()
}

/// Events appended after `seq`.
pub async fn events_since(store: &DynStore, seq: i64) -> Vec<Event> {
    events(
        store,
        EventFilter {
            after_seq: Some(seq),
            limit: 100_000,
            ..Default::default()
        },
    )
    .await
}

/// The seq of the newest event (0 when the log is empty).
pub async fn last_seq(store: &DynStore) -> i64 {
    all_events(store).await.last().map_or(0, |e| e.seq)
}

#[track_caller]
pub fn expect_conflict<T: Debug>(result: Result<T>, expected: ConflictKind, what: &str) {
    match result {
        Err(Error::Conflict { kind, .. }) if kind == expected => {}
        other => panic!("{what}: expected a {expected:?} conflict, got {other:?}"),
    }
}

#[track_caller]
pub fn expect_not_found<T: Debug>(result: Result<T>, what: &str) {
    match result {
        Err(Error::NotFound { .. }) => {}
        other => panic!("{what}: expected NotFound, got {other:?}"),
    }
}

/// The failed items of an order as `e164 (or "-") → code`.
pub fn failure_codes(order: &Order) -> BTreeMap<String, String> {
    order
        .failed()
        .map(|(item, code, _)| {
            (
                item.e164
                    .as_ref()
                    .map_or_else(|| "-".to_string(), |e| e.to_string()),
                code.to_string(),
            )
        })
        .collect()
}

/// The e164s an order won, sorted.
pub fn completed_numbers(order: &Order) -> Vec<E164> {
    let mut won: Vec<E164> = order.completed().filter_map(|i| i.e164.clone()).collect();
    won.sort();
    won
}

/// Asserts a number is ASSIGNED to `account` with the lifecycle fields an assignment sets.
#[track_caller]
pub fn assert_assigned(n: &Number, account: AccountId, at: Timestamp) {
    assert_eq!(
        n.state,
        NumberState::Assigned,
        "{} should be ASSIGNED: {n:#?}",
        n.e164
    );
    assert_eq!(n.owner, Some(account), "{} owner", n.e164);
    assert!(
        n.assignment_id.is_some(),
        "{} should carry an assignment id",
        n.e164
    );
    assert_eq!(n.assigned_at, Some(at), "{} assigned_at", n.e164);
    assert_eq!(
        n.reservation_id, None,
        "{} reservation_id after assignment",
        n.e164
    );
    assert_eq!(
        n.reserved_until, None,
        "{} reserved_until after assignment",
        n.e164
    );
    assert_eq!(
        n.available_after, None,
        "{} available_after after assignment",
        n.e164
    );
    assert_eq!(n.updated_at, at, "{} updated_at", n.e164);
}

/// Asserts a number is back on sale: AVAILABLE and held by nobody.
#[track_caller]
pub fn assert_unheld(n: &Number, state: NumberState) {
    assert_eq!(n.state, state, "{} state: {n:#?}", n.e164);
    assert_eq!(n.owner, None, "{} owner", n.e164);
    assert_eq!(n.assignment_id, None, "{} assignment_id", n.e164);
    assert_eq!(n.reservation_id, None, "{} reservation_id", n.e164);
    assert_eq!(n.reserved_until, None, "{} reserved_until", n.e164);
    assert_eq!(n.assigned_at, None, "{} assigned_at", n.e164);
    assert_eq!(
        n.assignment,
        AssignmentData::default(),
        "{} assignment data",
        n.e164
    );
}

/// Is the outcome of this item COMPLETED?
pub fn is_completed(outcome: &ItemOutcome) -> bool {
    *outcome == ItemOutcome::Completed
}

pub fn reservation(
    account: AccountId,
    wanted: &[E164],
    created_at: Timestamp,
    expires_at: Timestamp,
) -> NewReservation {
    NewReservation {
        id: ReservationId::new(),
        account,
        numbers: wanted.to_vec(),
        created_at,
        expires_at,
    }
}

/// `create_reservation`, expecting it to succeed.
pub async fn reserve(store: &DynStore, r: &NewReservation) -> Reservation {
    match store.create_reservation(r).await {
        Ok(Ok(made)) => made,
        other => panic!(
            "create_reservation({:?}) should succeed, got {other:?}",
            r.numbers
        ),
    }
}

/// `create_reservation`, expecting refusals; returns them keyed by number.
pub async fn reserve_refused(store: &DynStore, r: &NewReservation) -> BTreeMap<E164, ClaimRefusal> {
    match store.create_reservation(r).await {
        Ok(Err(refusals)) => refusals.into_iter().collect(),
        other => panic!(
            "create_reservation({:?}) should be refused, got {other:?}",
            r.numbers
        ),
    }
}

/// The prefix of the databases a test creates next to `dbname` (the database of
/// `NUMBERSD_TEST_POSTGRES_URL`): that name as a plain lower-case identifier, short enough to
/// leave room for "_" and 32 hex digits within PostgreSQL's 63 bytes, so whoever made `dbname`
/// (`.ci/run`) finds and drops them by its name.
pub fn test_database_prefix(dbname: Option<&str>) -> String {
    let mut prefix: String = dbname
        .unwrap_or("numbersd_test")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    prefix.truncate(30);
    prefix
}
