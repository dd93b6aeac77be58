//! `CountStore`: the totals of the order and disconnect lists. A total counts what the list's
//! filter (statuses, creation dates, customer order id) matches across every page of the
//! account, and nothing of another account; the page size and keyset do not change it.

use numbers_core::disconnect::{DisconnectMode, NewDisconnect, ProtectedChange};
use numbers_core::ids::{AccountId, DisconnectId};
use numbers_core::order::OrderStatus;
use numbers_core::service::AgingPolicy;
use numbers_core::store::{Counted, DisconnectFilter, OrderFilter};

use crate::fixtures::{at, e164, minutes, seattle};
use crate::support::{DynStore, create, explicit_order, fulfil, import, new_account};

async fn count(store: &DynStore, account: AccountId, what: Counted<'_>) -> u64 {
    store
        .count(account, what)
        .await
        .unwrap_or_else(|e| panic!("count({what:?}) failed: {e:?}"))
}

/// How many orders `list_orders` returns for the filter, paging through all of them.
async fn listed_orders(store: &DynStore, account: AccountId, filter: &OrderFilter) -> u64 {
    let all = OrderFilter {
        page_size: 10_000,
        before: None,
        ..filter.clone()
    };
    let listed = store.list_orders(account, &all).await.expect("list_orders");
    listed.len() as u64
}

pub async fn list_totals(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    let initech = new_account(&store, "Initech", at(0)).await;
    import(&store, &[seattle("0100"), seattle("0101")], at(0)).await;
    let nums = [e164("+12065550100"), e164("+12065550101")];

    // Acme: COMPLETE, COMPLETE, FAILED (already its own), then three RECEIVED. Globex: two.
    let mut acme_orders = Vec::new();
    for i in 0..6 {
        let mut o = explicit_order(
            acme,
            std::slice::from_ref(&nums[i % 2]),
            at(10 * (i as i64 + 1)),
        );
        o.customer_order_id = Some(format!("PO-{}", i % 2));
        acme_orders.push(create(&store, &o).await);
    }
    for o in acme_orders.iter().take(3) {
        fulfil(&store, o.id(), minutes(5)).await;
    }
    for t in [15, 25] {
        create(
            &store,
            &explicit_order(globex, std::slice::from_ref(&nums[0]), at(t)),
        )
        .await;
    }

    let orders = |statuses: Vec<OrderStatus>| OrderFilter {
        statuses,
        page_size: 2,
        ..OrderFilter::default()
    };
    let checks: Vec<(&str, OrderFilter, u64)> = vec![
        ("everything", orders(vec![]), 6),
        ("COMPLETE", orders(vec![OrderStatus::Complete]), 2),
        ("FAILED", orders(vec![OrderStatus::Failed]), 1),
        ("RECEIVED", orders(vec![OrderStatus::Received]), 3),
        (
            "COMPLETE or FAILED",
            orders(vec![OrderStatus::Complete, OrderStatus::Failed]),
            3,
        ),
        ("BACKORDERED", orders(vec![OrderStatus::Backordered]), 0),
        (
            "created in [20 s, 40 s]",
            OrderFilter {
                created_from: Some(at(20)),
                created_to: Some(at(40)),
                ..orders(vec![])
            },
            3,
        ),
        (
            "customer order id PO-1",
            OrderFilter {
                customer_order_id: Some("PO-1".into()),
                ..orders(vec![])
            },
            3,
        ),
        (
            "RECEIVED with PO-0",
            OrderFilter {
                customer_order_id: Some("PO-0".into()),
                ..orders(vec![OrderStatus::Received])
            },
            1,
        ),
        (
            "the keyset is not part of a total",
            OrderFilter {
                before: Some(acme_orders[3].id()),
                page_size: 1,
                ..orders(vec![])
            },
            6,
        ),
    ];
    for (what, filter, want) in &checks {
        assert_eq!(
            count(&store, acme, Counted::Orders(filter)).await,
            *want,
            "count of Acme's orders [{what}]"
        );
        if filter.before.is_none() {
            assert_eq!(
                listed_orders(&store, acme, filter).await,
                *want,
                "the count of [{what}] is what list_orders pages through"
            );
        }
    }
    let everything = orders(vec![]);
    assert_eq!(
        count(&store, globex, Counted::Orders(&everything)).await,
        2,
        "Globex counts only its own orders"
    );
    assert_eq!(
        count(
            &store,
            globex,
            Counted::Orders(&orders(vec![OrderStatus::Complete]))
        )
        .await,
        0,
        "Globex has no COMPLETE order (Acme's do not count)"
    );
    assert_eq!(
        count(&store, initech, Counted::Orders(&everything)).await,
        0,
        "an account without orders"
    );

    // Disconnects: three of Acme's (the oldest is processed: FAILED, its number is not in the
    // inventory), one of Globex's.
    let disconnect = |account, minute| NewDisconnect {
        id: DisconnectId::new(),
        account,
        numbers: vec![e164("+12065550199")],
        mode: DisconnectMode::Normal,
        protected: ProtectedChange::Unchanged,
        name: None,
        customer_order_id: None,
        created_at: minutes(minute),
    };
    for (account, minute) in [(acme, 10), (acme, 11), (globex, 12), (acme, 13)] {
        store
            .create_disconnect(&disconnect(account, minute))
            .await
            .expect("create_disconnect");
    }
    store
        .process_next_disconnect(&AgingPolicy::default(), minutes(20))
        .await
        .expect("process_next_disconnect")
        .expect("a disconnect waits");
    let disconnects = |statuses: Vec<OrderStatus>| DisconnectFilter {
        statuses,
        page_size: 1,
        ..DisconnectFilter::default()
    };
    let checks: Vec<(&str, DisconnectFilter, u64)> = vec![
        ("everything", disconnects(vec![]), 3),
        ("RECEIVED", disconnects(vec![OrderStatus::Received]), 2),
        ("FAILED", disconnects(vec![OrderStatus::Failed]), 1),
        ("COMPLETE", disconnects(vec![OrderStatus::Complete]), 0),
        (
            "created from minute 11",
            DisconnectFilter {
                created_from: Some(minutes(11)),
                ..disconnects(vec![])
            },
            2,
        ),
    ];
    for (what, filter, want) in &checks {
        assert_eq!(
            count(&store, acme, Counted::Disconnects(filter)).await,
            *want,
            "count of Acme's disconnects [{what}]"
        );
        let all = DisconnectFilter {
            page_size: 10_000,
            ..filter.clone()
        };
        let listed = store
            .list_disconnects(acme, &all)
            .await
            .expect("list_disconnects");
        assert_eq!(
            listed.len() as u64,
            *want,
            "the count of [{what}] is what list_disconnects pages through"
        );
    }
    assert_eq!(
        count(&store, globex, Counted::Disconnects(&disconnects(vec![]))).await,
        1,
        "Globex counts only its own disconnects"
    );
    assert_eq!(
        count(
            &store,
            globex,
            Counted::Disconnects(&disconnects(vec![OrderStatus::Failed]))
        )
        .await,
        0,
        "Acme's FAILED disconnect is not Globex's"
    );
}
