//! Reservations: all-or-nothing creation with per-number refusals, visibility to the owner only,
//! release, expiry by the sweep (and by time alone, through `status_at`), and the events each
//! step appends.

use numbers_core::error::ConflictKind;
use numbers_core::event::EventKind;
use numbers_core::ids::ReservationId;
use numbers_core::number::{ClaimRefusal, E164, NumberState};
use numbers_core::reservation::ReservationStatus;

use crate::fixtures::{at, days, e164, hours, minutes, seattle};
use crate::support::{
    DynStore, assert_unheld, assign, events_since, expect_conflict, import, last_seq, new_account,
    number, of_kind, reservation, reserve, reserve_refused,
};

fn sorted(mut v: Vec<E164>) -> Vec<E164> {
    v.sort();
    v
}

pub async fn reservation_lifecycle(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    import(
        &store,
        &[
            seattle("0100"),
            seattle("0101"),
            seattle("0123"),
            seattle("0199"),
        ],
        at(0),
    )
    .await;
    let (n1, n2, n3, aging) = (
        e164("+12065550100"),
        e164("+12065550101"),
        e164("+12065550123"),
        e164("+12065550199"),
    );

    let seq = last_seq(&store).await;
    let new = reservation(
        acme,
        &[n1.clone(), n2.clone(), n1.clone()],
        minutes(1),
        hours(4),
    );
    let made = reserve(&store, &new).await;
    assert_eq!(
        (made.id, made.account, made.status),
        (new.id, acme, ReservationStatus::Active),
        "created reservation"
    );
    assert_eq!(
        (made.created_at, made.expires_at, made.updated_at),
        (minutes(1), hours(4), minutes(1)),
        "reservation times"
    );
    assert_eq!(
        sorted(made.numbers.clone()),
        vec![n1.clone(), n2.clone()],
        "numbers are de-duplicated"
    );

    for e in [&n1, &n2] {
        let n = number(&store, e).await;
        assert_eq!(n.state, NumberState::Reserved, "{e} state");
        assert_eq!(
            (n.owner, n.reservation_id),
            (Some(acme), Some(made.id)),
            "{e} owner and reservation id"
        );
        assert_eq!(
            n.reserved_until,
            Some(hours(4)),
            "{e} reserved_until = expires_at"
        );
        assert_eq!(
            n.available_after,
            Some(at(0)),
            "{e} available_after is untouched by a reservation"
        );
        assert_eq!(
            (n.version, n.updated_at),
            (2, minutes(1)),
            "{e} version/updated_at"
        );
    }
    assert_eq!(
        number(&store, &n3).await.version,
        1,
        "an unrelated number is untouched"
    );

    let reserved = of_kind(&events_since(&store, seq).await, EventKind::NumberReserved);
    assert_eq!(
        reserved.len(),
        2,
        "one number.reserved event per number: {reserved:#?}"
    );
    for e in [&n1, &n2] {
        let ev = reserved
            .iter()
            .find(|ev| ev.event.e164.as_ref() == Some(e))
            .unwrap_or_else(|| panic!("no number.reserved for {e}"));
        let n = number(&store, e).await;
        assert_eq!(ev.event.account_id, Some(acme), "event account");
        assert_eq!(ev.event.number_id, Some(n.id), "event number id");
        assert_eq!(
            ev.event.reservation_id,
            Some(made.id),
            "event reservation id"
        );
        assert_eq!(
            ev.event.resource_version, n.version,
            "event resource_version = the number's new version"
        );
        assert_eq!(ev.event.at, minutes(1), "event time");
    }

    assert_eq!(
        store
            .get_reservation(acme, made.id)
            .await
            .expect("get_reservation")
            .as_ref(),
        Some(&made)
    );
    assert_eq!(
        store
            .get_reservation(globex, made.id)
            .await
            .expect("get_reservation(other)"),
        None,
        "another account's"
    );
    assert_eq!(
        store
            .get_reservation(acme, ReservationId::new())
            .await
            .expect("get_reservation(unknown)"),
        None
    );
    assert_eq!(
        store
            .inventory_stats()
            .await
            .expect("inventory_stats")
            .reserved,
        2
    );

    assert_eq!(
        store
            .release_reservation(globex, made.id, minutes(10))
            .await
            .expect("release by another"),
        None
    );
    assert_eq!(
        store
            .release_reservation(acme, ReservationId::new(), minutes(10))
            .await
            .expect("release unknown"),
        None
    );
    assert_eq!(
        number(&store, &n1).await.state,
        NumberState::Reserved,
        "release by another account must not release"
    );

    let seq = last_seq(&store).await;
    let released = store
        .release_reservation(acme, made.id, minutes(10))
        .await
        .expect("release_reservation")
        .expect("own reservation");
    assert_eq!(
        (released.id, released.status, released.updated_at),
        (made.id, ReservationStatus::Released, minutes(10))
    );
    for e in [&n1, &n2] {
        let n = number(&store, e).await;
        assert_unheld(&n, NumberState::Available);
        assert_eq!(n.available_after, Some(at(0)), "{e} available_after");
        assert_eq!(
            (n.version, n.updated_at),
            (3, minutes(10)),
            "{e} version/updated_at after release"
        );
    }
    let events = events_since(&store, seq).await;
    let returned = of_kind(&events, EventKind::NumberReservationReleased);
    assert_eq!(
        returned.len(),
        2,
        "one number.reservation_released per number: {events:#?}"
    );
    assert!(
        returned
            .iter()
            .all(|ev| ev.event.reservation_id == Some(made.id) && ev.event.resource_version == 3)
    );
    expect_conflict(
        store.release_reservation(acme, made.id, minutes(11)).await,
        ConflictKind::ReservationNotActive,
        "release twice",
    );
    let stored = store
        .get_reservation(acme, made.id)
        .await
        .expect("get_reservation")
        .expect("still there");
    assert_eq!(stored.status, ReservationStatus::Released);

    // A number aging for its last owner: that owner may reserve it; releasing the reservation
    // puts it back to AGING (its available_after is still in the future).
    assign(&store, acme, std::slice::from_ref(&aging), minutes(20)).await;
    store
        .release_number(acme, &aging, days(2), minutes(30))
        .await
        .expect("release_number");
    let r = reserve(
        &store,
        &reservation(acme, std::slice::from_ref(&aging), minutes(40), hours(4)),
    )
    .await;
    let n = number(&store, &aging).await;
    assert_eq!(
        (n.state, n.available_after),
        (NumberState::Reserved, Some(days(2))),
        "reserved during aging"
    );
    store
        .release_reservation(acme, r.id, hours(1))
        .await
        .expect("release_reservation")
        .expect("own reservation");
    let n = number(&store, &aging).await;
    assert_eq!(
        n.state,
        NumberState::Aging,
        "a reserved number whose available_after is ahead returns to AGING"
    );
    assert_eq!(n.available_after, Some(days(2)));
    assert_eq!(
        (n.owner, n.reservation_id, n.reserved_until),
        (None, None, None)
    );
}

pub async fn reservation_all_or_nothing(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    let initech = new_account(&store, "Initech", at(0)).await;
    import(
        &store,
        &[
            seattle("0100"),
            seattle("0101"),
            seattle("0123"),
            seattle("0199"),
        ],
        at(0),
    )
    .await;
    // On sale only from tomorrow.
    import(&store, &[seattle("1234")], days(1)).await;
    let (reserved, assigned, free, aging) = (
        e164("+12065550100"),
        e164("+12065550101"),
        e164("+12065550123"),
        e164("+12065550199"),
    );
    let missing = e164("+12065550142");
    let tomorrow = e164("+12065551234");
    let acme_reservation = reserve(
        &store,
        &reservation(acme, std::slice::from_ref(&reserved), minutes(1), hours(4)),
    )
    .await;
    assign(&store, globex, std::slice::from_ref(&assigned), minutes(1)).await;
    assign(&store, globex, std::slice::from_ref(&aging), minutes(1)).await;
    store
        .release_number(globex, &aging, days(30), minutes(2))
        .await
        .expect("release_number");

    let seq = last_seq(&store).await;
    let attempt = reservation(
        initech,
        &[
            free.clone(),
            reserved.clone(),
            missing.clone(),
            assigned.clone(),
            aging.clone(),
            tomorrow.clone(),
        ],
        minutes(5),
        hours(1),
    );
    let refusals = reserve_refused(&store, &attempt).await;
    let expected = [
        (reserved.clone(), ClaimRefusal::ReservedByAnother),
        (missing.clone(), ClaimRefusal::NotFound),
        (assigned.clone(), ClaimRefusal::Assigned),
        (aging.clone(), ClaimRefusal::Aging),
        (tomorrow.clone(), ClaimRefusal::NotYetAvailable),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        refusals, expected,
        "every refused number with its reason, and only those"
    );
    let untouched = number(&store, &free).await;
    assert_eq!(
        (untouched.state, untouched.version),
        (NumberState::Available, 1),
        "all or nothing: the free number stays free"
    );
    assert!(
        events_since(&store, seq).await.is_empty(),
        "a refused reservation appends no event"
    );
    assert_eq!(
        store
            .get_reservation(initech, attempt.id)
            .await
            .expect("get_reservation"),
        None,
        "nothing stored"
    );

    // Own reservation, but reserving again without naming it; own assigned number.
    let again = reserve_refused(
        &store,
        &reservation(acme, std::slice::from_ref(&reserved), minutes(6), hours(1)),
    )
    .await;
    assert_eq!(
        again.get(&reserved),
        Some(&ClaimRefusal::ReservationIdMissing),
        "reserving own reserved number again"
    );
    let mine = reserve_refused(
        &store,
        &reservation(
            globex,
            std::slice::from_ref(&assigned),
            minutes(6),
            hours(1),
        ),
    )
    .await;
    assert_eq!(
        mine.get(&assigned),
        Some(&ClaimRefusal::AlreadyYours),
        "reserving an own assigned number"
    );
    // The last owner may take an aging number back.
    reserve(
        &store,
        &reservation(globex, std::slice::from_ref(&aging), minutes(7), hours(1)),
    )
    .await;

    // Nothing was left half done: the free number can still be reserved.
    reserve(
        &store,
        &reservation(initech, std::slice::from_ref(&free), minutes(8), hours(1)),
    )
    .await;
    let held = number(&store, &reserved).await;
    assert_eq!(
        held.reservation_id,
        Some(acme_reservation.id),
        "the refused attempt did not touch the reserved number"
    );
}

pub async fn reservation_expiry(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
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

    let r1 = reserve(
        &store,
        &reservation(acme, &[n[0].clone(), n[1].clone()], minutes(1), minutes(5)),
    )
    .await;
    let r2 = reserve(
        &store,
        &reservation(acme, std::slice::from_ref(&n[2]), minutes(1), hours(1)),
    )
    .await;

    // Expired by time before any sweep.
    let stored = store
        .get_reservation(acme, r1.id)
        .await
        .expect("get_reservation")
        .expect("r1");
    assert_eq!(stored.status_at(minutes(4)), ReservationStatus::Active);
    assert_eq!(
        stored.status_at(minutes(5)),
        ReservationStatus::Expired,
        "expires_at itself is expired"
    );
    expect_conflict(
        store.release_reservation(acme, r1.id, minutes(6)).await,
        ConflictKind::ReservationNotActive,
        "releasing an expired reservation",
    );
    assert_eq!(
        number(&store, &n[0]).await.state,
        NumberState::Reserved,
        "the refused release changed nothing"
    );

    assert_eq!(
        store
            .expire_reservations(minutes(4), 100)
            .await
            .expect("expire_reservations"),
        0,
        "nothing due yet"
    );
    assert_eq!(number(&store, &n[0]).await.state, NumberState::Reserved);

    // Before the sweep, another account takes one of r1's numbers (its reservation ran out).
    let r3 = reserve(
        &store,
        &reservation(globex, std::slice::from_ref(&n[1]), minutes(6), hours(2)),
    )
    .await;

    let seq = last_seq(&store).await;
    assert_eq!(
        store
            .expire_reservations(minutes(6), 100)
            .await
            .expect("expire_reservations"),
        1,
        "only r1 is due"
    );
    assert_unheld(&number(&store, &n[0]).await, NumberState::Available);
    let taken = number(&store, &n[1]).await;
    assert_eq!(
        (taken.state, taken.owner, taken.reservation_id),
        (NumberState::Reserved, Some(globex), Some(r3.id)),
        "a number re-reserved under another reservation is not returned by the old one's expiry"
    );
    let events = events_since(&store, seq).await;
    let expired = of_kind(&events, EventKind::NumberReservationExpired);
    assert_eq!(
        expired.len(),
        1,
        "one number.reservation_expired per returned number: {events:#?}"
    );
    assert_eq!(
        (
            expired[0].event.e164.as_ref(),
            expired[0].event.reservation_id
        ),
        (Some(&n[0]), Some(r1.id))
    );
    assert_eq!(
        expired[0].event.resource_version,
        number(&store, &n[0]).await.version
    );
    let status = |id| {
        let store = store.clone();
        async move {
            store
                .get_reservation(acme, id)
                .await
                .expect("get_reservation")
                .expect("reservation")
                .status
        }
    };
    assert_eq!(status(r1.id).await, ReservationStatus::Expired);
    assert_eq!(status(r2.id).await, ReservationStatus::Active);
    assert_eq!(
        store
            .expire_reservations(minutes(6), 100)
            .await
            .expect("expire_reservations"),
        0,
        "a second sweep finds nothing"
    );

    // The limit bounds one sweep.
    for e in &n[3..6] {
        reserve(
            &store,
            &reservation(acme, std::slice::from_ref(e), minutes(7), minutes(10)),
        )
        .await;
    }
    assert_eq!(
        store
            .expire_reservations(minutes(11), 2)
            .await
            .expect("expire_reservations"),
        2,
        "limit 2"
    );
    assert_eq!(
        store
            .expire_reservations(minutes(11), 2)
            .await
            .expect("expire_reservations"),
        1,
        "the rest"
    );
    assert_eq!(
        store
            .expire_reservations(minutes(11), 2)
            .await
            .expect("expire_reservations"),
        0
    );
    for e in &n[3..6] {
        assert_unheld(&number(&store, e).await, NumberState::Available);
    }
    assert_eq!(
        store
            .expire_reservations(hours(2), 100)
            .await
            .expect("expire_reservations"),
        2,
        "r2 and r3"
    );
    assert_eq!(
        store
            .inventory_stats()
            .await
            .expect("inventory_stats")
            .reserved,
        0
    );
}
