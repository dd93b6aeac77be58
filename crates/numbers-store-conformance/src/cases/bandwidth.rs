//! Sites and SIP peers (scoping, default-peer rule, delete rules), disconnect orders (release of
//! every number still on the account in one step, per-number failures, purge, protected flag,
//! events) and order notes.

use numbers_core::disconnect::{DisconnectMode, NOT_ON_ACCOUNT, NewDisconnect, ProtectedChange};
use numbers_core::error::ConflictKind;
use numbers_core::event::EventKind;
use numbers_core::ids::{DisconnectId, OrderId};
use numbers_core::note::NoteText;
use numbers_core::number::NumberState;
use numbers_core::order::{ItemOutcome, OrderStatus};
use numbers_core::service::AgingPolicy;
use numbers_core::site::{PeerFields, SiteAddress, SiteFields};
use numbers_core::store::{DisconnectFilter, EventFilter};

use crate::fixtures::{self, at, e164, minutes};
use crate::support::{
    DynStore, all_events, assign, expect_conflict, import, new_account, number, of_kind,
};

fn site(name: &str) -> SiteFields {
    SiteFields::parse(
        Some(name),
        Some("desc"),
        None,
        None,
        Some(SiteAddress {
            city: Some("Raleigh".into()),
            state_code: Some("NC".into()),
            ..Default::default()
        }),
    )
    .expect("site fields")
}

fn peer(name: &str, is_default: bool) -> PeerFields {
    PeerFields::parse(Some(name), None, is_default).expect("peer fields")
}

pub async fn sites_and_peers(store: DynStore) {
    let acme = new_account(&store, "acme", at(0)).await;
    let globex = new_account(&store, "globex", at(0)).await;
    let s1 = store
        .create_site(acme, &site("Raleigh"), at(1))
        .await
        .expect("create_site");
    let s2 = store
        .create_site(acme, &site("Cary"), at(2))
        .await
        .expect("create_site");
    assert!(s2.id > s1.id, "site ids are numeric and increasing");
    assert_eq!(
        s1.fields,
        site("Raleigh"),
        "fields round-trip, address included"
    );
    assert_eq!(
        store.get_site(acme, s1.id).await.expect("get_site"),
        Some(s1.clone())
    );
    assert_eq!(
        store.get_site(globex, s1.id).await.expect("get_site"),
        None,
        "another account's site is invisible"
    );
    assert_eq!(
        store
            .list_sites(acme)
            .await
            .expect("list_sites")
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![s1.id, s2.id]
    );
    assert!(
        store
            .list_sites(globex)
            .await
            .expect("list_sites")
            .is_empty()
    );
    let renamed = store
        .update_site(acme, s1.id, &site("Raleigh HQ"), at(3))
        .await
        .expect("update_site")
        .expect("site exists");
    assert_eq!(renamed.fields.name, "Raleigh HQ");
    assert_eq!(renamed.updated_at, at(3));
    assert_eq!(
        store
            .update_site(globex, s1.id, &site("x"), at(3))
            .await
            .expect("update_site"),
        None
    );

    // The first peer becomes the default; a later one asking to be default takes over.
    let p1 = store
        .create_peer(acme, s1.id, &peer("pbx-1", false), at(4))
        .await
        .expect("create_peer")
        .expect("site exists");
    assert!(
        p1.fields.is_default,
        "the first peer of a site is its default"
    );
    let p2 = store
        .create_peer(acme, s1.id, &peer("pbx-2", false), at(5))
        .await
        .expect("create_peer")
        .expect("site exists");
    assert!(!p2.fields.is_default);
    let p3 = store
        .create_peer(acme, s1.id, &peer("pbx-3", true), at(6))
        .await
        .expect("create_peer")
        .expect("site exists");
    assert!(p3.fields.is_default);
    let peers = store
        .list_peers(acme, s1.id)
        .await
        .expect("list_peers")
        .expect("site exists");
    let defaults: Vec<i64> = peers
        .iter()
        .filter(|p| p.fields.is_default)
        .map(|p| p.id)
        .collect();
    assert_eq!(defaults, vec![p3.id], "exactly one default peer per site");
    expect_conflict(
        store
            .create_peer(acme, s1.id, &peer("pbx-2", false), at(7))
            .await,
        ConflictKind::PeerNameTaken,
        "duplicate peer name",
    );
    assert_eq!(
        store
            .create_peer(globex, s1.id, &peer("x", false), at(7))
            .await
            .expect("create_peer"),
        None
    );
    assert_eq!(
        store.list_peers(globex, s1.id).await.expect("list_peers"),
        None
    );
    assert_eq!(
        store.get_peer(acme, s2.id, p1.id).await.expect("get_peer"),
        None,
        "a peer is found only under its site"
    );
    // Un-asking default on the default peer keeps it default (a site keeps one until another takes it).
    let p3b = store
        .update_peer(acme, s1.id, p3.id, &peer("pbx-3b", false), at(8))
        .await
        .expect("update_peer")
        .expect("peer exists");
    assert!(p3b.fields.is_default);
    assert_eq!(p3b.fields.name, "pbx-3b");
    let p1b = store
        .update_peer(acme, s1.id, p1.id, &peer("pbx-1", true), at(9))
        .await
        .expect("update_peer")
        .expect("peer exists");
    assert!(p1b.fields.is_default);
    let p3c = store
        .get_peer(acme, s1.id, p3.id)
        .await
        .expect("get_peer")
        .expect("peer exists");
    assert!(
        !p3c.fields.is_default,
        "the previous default stops being one"
    );

    expect_conflict(
        store.delete_site(acme, s1.id).await,
        ConflictKind::SiteHasPeers,
        "deleting a site with peers",
    );
    for p in [p1.id, p2.id, p3.id] {
        assert!(
            store
                .delete_peer(acme, s1.id, p)
                .await
                .expect("delete_peer")
        );
    }
    assert!(
        !store
            .delete_peer(acme, s1.id, p1.id)
            .await
            .expect("delete_peer again")
    );
    assert!(
        !store
            .delete_site(globex, s1.id)
            .await
            .expect("delete_site by another account")
    );
    assert!(store.delete_site(acme, s1.id).await.expect("delete_site"));
    assert_eq!(store.get_site(acme, s1.id).await.expect("get_site"), None);
}

fn disconnect(
    account: numbers_core::ids::AccountId,
    numbers: &[&str],
    mode: DisconnectMode,
    protected: ProtectedChange,
    at: numbers_core::clock::Timestamp,
) -> NewDisconnect {
    NewDisconnect {
        id: DisconnectId::new(),
        account,
        numbers: numbers.iter().map(|n| e164(n)).collect(),
        mode,
        protected,
        name: Some("cleanup".into()),
        customer_order_id: Some("c-1".into()),
        created_at: at,
    }
}

pub async fn disconnect_processing(store: DynStore) {
    import(&store, &fixtures::catalogue(), at(0)).await;
    let acme = new_account(&store, "acme", at(0)).await;
    let globex = new_account(&store, "globex", at(0)).await;
    assign(
        &store,
        acme,
        &[
            e164("+12065550100"),
            e164("+12065550101"),
            e164("+18005550199"),
        ],
        at(10),
    )
    .await;
    assign(&store, globex, &[e164("+12065550123")], at(10)).await;
    let aging = AgingPolicy::default();

    assert_eq!(
        store
            .process_next_disconnect(&aging, minutes(1))
            .await
            .expect("process"),
        None,
        "nothing waiting"
    );
    let d1 = disconnect(
        acme,
        &["+12065550101", "+12065550100", "+12065550123"],
        DisconnectMode::Normal,
        ProtectedChange::Set,
        minutes(1),
    );
    let created = store
        .create_disconnect(&d1)
        .await
        .expect("create_disconnect");
    assert_eq!(created.status, OrderStatus::Received);
    assert_eq!(created.new, d1, "the submission round-trips");
    assert!(created.items.is_empty());
    let d2 = disconnect(
        acme,
        &["+18005550199"],
        DisconnectMode::Purge,
        ProtectedChange::Unchanged,
        minutes(2),
    );
    store
        .create_disconnect(&d2)
        .await
        .expect("create_disconnect");
    assert_eq!(
        store
            .get_disconnect(globex, d1.id)
            .await
            .expect("get_disconnect"),
        None
    );

    let done = store
        .process_next_disconnect(&aging, minutes(3))
        .await
        .expect("process")
        .expect("d1 waits");
    assert_eq!(done.id(), d1.id, "the oldest waiting disconnect goes first");
    assert_eq!(done.status, OrderStatus::Partial);
    assert_eq!(done.completed_at, Some(minutes(3)));
    assert_eq!(done.items.len(), 3);
    assert_eq!(
        done.disconnected()
            .map(|e| e.as_str().to_string())
            .collect::<Vec<_>>(),
        vec!["+12065550100", "+12065550101"]
    );
    let failures: Vec<_> = done
        .failures()
        .map(|(e, code, _)| (e.as_str().to_string(), code.to_string()))
        .collect();
    assert_eq!(
        failures,
        vec![("+12065550123".to_string(), NOT_ON_ACCOUNT.to_string())],
        "another account's number fails"
    );
    for n in ["+12065550100", "+12065550101"] {
        let n = number(&store, &e164(n)).await;
        assert_eq!(n.state, NumberState::Aging);
        assert_eq!(n.owner, None);
        assert_eq!(n.last_owner, Some(acme));
        assert_eq!(
            n.available_after,
            Some(minutes(3) + aging.period_for("US", n.number_type))
        );
        assert!(n.protected, "Protected TRUE set the flag");
        assert!(n.assignment.site_id.is_none(), "assignment data is cleared");
    }
    let theirs = number(&store, &e164("+12065550123")).await;
    assert_eq!(
        (theirs.state, theirs.owner),
        (NumberState::Assigned, Some(globex)),
        "untouched"
    );
    assert_eq!(
        store
            .get_disconnect(acme, d1.id)
            .await
            .expect("get_disconnect"),
        Some(done.clone())
    );

    let purged = store
        .process_next_disconnect(&aging, minutes(4))
        .await
        .expect("process")
        .expect("d2 waits");
    assert_eq!(purged.status, OrderStatus::Complete);
    let tf = number(&store, &e164("+18005550199")).await;
    assert_eq!(tf.state, NumberState::Available, "purge skips aging");
    assert_eq!(tf.available_after, Some(minutes(4)));

    // A disconnect of nothing the account holds fails whole.
    let d3 = disconnect(
        acme,
        &["+12065550100"],
        DisconnectMode::Normal,
        ProtectedChange::Unchanged,
        minutes(5),
    );
    store
        .create_disconnect(&d3)
        .await
        .expect("create_disconnect");
    let failed = store
        .process_next_disconnect(&aging, minutes(6))
        .await
        .expect("process")
        .expect("d3 waits");
    assert_eq!(failed.status, OrderStatus::Failed);
    assert!(matches!(
        failed.items[0].outcome,
        ItemOutcome::Failed { .. }
    ));
    assert_eq!(
        store
            .process_next_disconnect(&aging, minutes(7))
            .await
            .expect("process"),
        None
    );

    let listed = store
        .list_disconnects(
            acme,
            &DisconnectFilter {
                page_size: 2,
                ..Default::default()
            },
        )
        .await
        .expect("list_disconnects");
    assert_eq!(
        listed.iter().map(|d| d.id()).collect::<Vec<_>>(),
        vec![d3.id, d2.id, d1.id],
        "newest first, one extra row"
    );
    let next = store
        .list_disconnects(
            acme,
            &DisconnectFilter {
                page_size: 2,
                before: Some(d2.id),
                ..Default::default()
            },
        )
        .await
        .expect("list_disconnects");
    assert_eq!(next.iter().map(|d| d.id()).collect::<Vec<_>>(), vec![d1.id]);
    let failed_only = store
        .list_disconnects(
            acme,
            &DisconnectFilter {
                page_size: 10,
                statuses: vec![OrderStatus::Failed],
                ..Default::default()
            },
        )
        .await
        .expect("list_disconnects");
    assert_eq!(failed_only.len(), 1);
    assert!(
        store
            .list_disconnects(
                globex,
                &DisconnectFilter {
                    page_size: 10,
                    ..Default::default()
                }
            )
            .await
            .expect("list")
            .is_empty()
    );

    let events = all_events(&store).await;
    assert_eq!(of_kind(&events, EventKind::DisconnectReceived).len(), 3);
    assert_eq!(of_kind(&events, EventKind::DisconnectPartial).len(), 1);
    assert_eq!(of_kind(&events, EventKind::DisconnectCompleted).len(), 1);
    assert_eq!(of_kind(&events, EventKind::DisconnectFailed).len(), 1);
    // Each outcome event names the numbers it disconnected (Bandwidth's notification lists them).
    let purged_event = of_kind(&events, EventKind::DisconnectCompleted)[0].clone();
    assert_eq!(
        purged_event.event.details["numbers"],
        serde_json::json!(["+18005550199"])
    );
    assert_eq!(
        purged_event.event.details["disconnect_id"],
        serde_json::json!(d2.id.to_string())
    );
    let failed_event = of_kind(&events, EventKind::DisconnectFailed)[0].clone();
    assert_eq!(failed_event.event.details["numbers"], serde_json::json!([]));
    let released = of_kind(&events, EventKind::NumberReleased);
    assert_eq!(
        released.len(),
        3,
        "one number.released per disconnected number"
    );
    assert!(
        released
            .iter()
            .all(|e| e.event.account_id == Some(acme)
                && e.event.details["disconnect_id"].is_string())
    );
}

pub async fn order_notes(store: DynStore) {
    import(&store, &fixtures::catalogue(), at(0)).await;
    let acme = new_account(&store, "acme", at(0)).await;
    let globex = new_account(&store, "globex", at(0)).await;
    let order = assign(&store, acme, &[e164("+12065550100")], at(10)).await;
    let text = NoteText::parse(Some("jbm"), Some("please hurry")).expect("note");
    let n1 = store
        .add_order_note(acme, order.id(), &text, at(20))
        .await
        .expect("add_order_note")
        .expect("order exists");
    let n2 = store
        .add_order_note(
            acme,
            order.id(),
            &NoteText::parse(Some("jbm"), Some("thanks")).expect("note"),
            at(30),
        )
        .await
        .expect("add_order_note")
        .expect("order exists");
    assert!(n2.id > n1.id);
    assert_eq!(
        (n1.text.clone(), n1.created_at, n1.order_id),
        (text, at(20), order.id())
    );
    let notes = store
        .list_order_notes(acme, order.id())
        .await
        .expect("list")
        .expect("order exists");
    assert_eq!(notes, vec![n1, n2]);
    assert_eq!(
        store
            .add_order_note(
                globex,
                order.id(),
                &NoteText::parse(Some("x"), Some("y")).expect("note"),
                at(40)
            )
            .await
            .expect("add"),
        None
    );
    assert_eq!(
        store
            .list_order_notes(globex, order.id())
            .await
            .expect("list"),
        None
    );
    assert_eq!(
        store
            .list_order_notes(acme, OrderId::new())
            .await
            .expect("list"),
        None
    );
    let events = store
        .list_events(&EventFilter {
            order: Some(order.id()),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("list_events");
    assert_eq!(
        of_kind(&events, EventKind::OrderNoteAdded).len(),
        2,
        "each note is an event of its order"
    );
}
