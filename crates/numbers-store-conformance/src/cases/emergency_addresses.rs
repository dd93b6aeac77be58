//! `EmergencyAddressStore`: an address is written only for a number assigned to the account,
//! read back as written, replaced by the next put, removed by delete, and belongs to the
//! assignment: releasing the number hides it, and a new assignment of the same number starts
//! without one.

use numbers_core::emergency::EmergencyAddress;

use crate::fixtures::{at, days, e164, minutes, seattle};
use crate::support::{DynStore, assign, import, new_account};

fn address(street: &str) -> EmergencyAddress {
    EmergencyAddress {
        display_name: "Acme HQ".into(),
        street_number: "1201".into(),
        street_info: street.into(),
        location: Some("Floor 4".into()),
        city: "Seattle".into(),
        state: "WA".into(),
        postal_code: "98101".into(),
        postal_code_plus_four: None,
    }
}

pub async fn emergency_addresses(store: DynStore) {
    let acme = new_account(&store, "Acme", at(0)).await;
    let globex = new_account(&store, "Globex", at(0)).await;
    import(&store, &[seattle("0100"), seattle("0101")], at(0)).await;
    let (mine, free) = (e164("+12065550100"), e164("+12065550101"));
    assign(&store, acme, std::slice::from_ref(&mine), minutes(1)).await;

    let get = |account, n| {
        let store = store.clone();
        async move {
            store
                .get_emergency_address(account, &n)
                .await
                .expect("get_emergency_address")
        }
    };
    assert_eq!(get(acme, mine.clone()).await, None, "none before a put");
    for (account, n, why) in [
        (globex, &mine, "another account's number"),
        (acme, &free, "a number on offer"),
    ] {
        assert!(
            !store
                .put_emergency_address(account, n, &address("3rd Ave"), minutes(2))
                .await
                .expect("put"),
            "{why}: nothing written"
        );
    }
    assert_eq!(
        get(globex, mine.clone()).await,
        None,
        "only the owner reads it"
    );

    assert!(
        store
            .put_emergency_address(acme, &mine, &address("3rd Ave"), minutes(2))
            .await
            .expect("put")
    );
    assert_eq!(get(acme, mine.clone()).await, Some(address("3rd Ave")));
    assert!(
        store
            .put_emergency_address(acme, &mine, &address("4th Ave"), minutes(3))
            .await
            .expect("put again")
    );
    assert_eq!(
        get(acme, mine.clone()).await,
        Some(address("4th Ave")),
        "the second put replaces the first"
    );
    assert!(
        store
            .delete_emergency_address(acme, &mine)
            .await
            .expect("delete")
    );
    assert_eq!(get(acme, mine.clone()).await, None);
    assert!(
        !store
            .delete_emergency_address(acme, &mine)
            .await
            .expect("delete"),
        "nothing left to delete"
    );

    // The address belongs to the assignment.
    assert!(
        store
            .put_emergency_address(acme, &mine, &address("3rd Ave"), minutes(4))
            .await
            .expect("put")
    );
    store
        .release_number(acme, &mine, days(1), minutes(5))
        .await
        .expect("release");
    assert_eq!(get(acme, mine.clone()).await, None, "released: gone");
    store.age_numbers(days(2), 100).await.expect("age");
    assign(&store, acme, std::slice::from_ref(&mine), days(2)).await;
    assert_eq!(
        get(acme, mine.clone()).await,
        None,
        "a new assignment starts without the old address"
    );
    assert!(
        !store
            .delete_emergency_address(acme, &mine)
            .await
            .expect("delete"),
        "the stale row is not the new assignment's"
    );
}
