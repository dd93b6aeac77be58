//! Accounts and API keys: creation with a first key, listing, key lookup, duplicate key ids,
//! operator keys and revocation; plus the health calls.

use numbers_core::account::{AccountStatus, ApiKey, KeyOwner};
use numbers_core::error::ConflictKind;
use numbers_core::ids::AccountId;

use crate::fixtures::{self, at};
use crate::support::{DynStore, expect_conflict};

/// `ping` answers and `backend` names one of the two databases.
pub async fn health(store: DynStore) {
    store
        .ping()
        .await
        .unwrap_or_else(|e| panic!("ping failed: {e:?}"));
    let backend = store.backend();
    assert!(
        ["sqlite", "postgres"].contains(&backend),
        "backend() should be sqlite or postgres, got {backend:?}"
    );
}

fn sorted(mut keys: Vec<ApiKey>) -> Vec<ApiKey> {
    keys.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    keys
}

pub async fn accounts_and_keys(store: DynStore) {
    let (acme, acme_key) = fixtures::account("Acme Telecom", at(10));
    let (globex, globex_key) = fixtures::account("Globex", at(20));
    let globex = numbers_core::account::Account {
        status: AccountStatus::Suspended,
        ..globex
    };
    // Created out of order, so list_accounts must really sort by created_at.
    store
        .create_account(&globex, &globex_key)
        .await
        .expect("create_account(globex)");
    store
        .create_account(&acme, &acme_key)
        .await
        .expect("create_account(acme)");

    assert_eq!(
        store.get_account(acme.id).await.expect("get_account"),
        Some(acme.clone()),
        "get_account(acme)"
    );
    assert_eq!(
        store.get_account(globex.id).await.expect("get_account"),
        Some(globex.clone()),
        "suspended status round-trips"
    );
    assert_eq!(
        store
            .get_account(AccountId::new())
            .await
            .expect("get_account(unknown)"),
        None
    );
    assert_eq!(
        store.list_accounts().await.expect("list_accounts"),
        vec![acme.clone(), globex.clone()],
        "list_accounts by created_at"
    );

    // The first key was stored with the account.
    assert_eq!(
        store
            .find_api_key(&acme_key.key_id)
            .await
            .expect("find_api_key"),
        Some(acme_key.clone())
    );
    assert_eq!(
        store
            .find_api_key("key_does_not_exist")
            .await
            .expect("find_api_key(unknown)"),
        None
    );

    let second = fixtures::api_key(KeyOwner::Account(acme.id), at(30));
    store
        .insert_api_key(&second)
        .await
        .expect("insert_api_key(second acme key)");
    expect_conflict(
        store.insert_api_key(&second).await,
        ConflictKind::KeyExists,
        "insert_api_key with a duplicate key id",
    );
    // Same id, different owner: still the same key id.
    let clash = ApiKey {
        owner: KeyOwner::Account(globex.id),
        ..second.clone()
    };
    expect_conflict(
        store.insert_api_key(&clash).await,
        ConflictKind::KeyExists,
        "insert_api_key reusing another account's key id",
    );

    let operator = fixtures::api_key(KeyOwner::Operator, at(40));
    store
        .insert_api_key(&operator)
        .await
        .expect("insert_api_key(operator)");
    assert_eq!(
        store
            .find_api_key(&operator.key_id)
            .await
            .expect("find_api_key(operator)"),
        Some(operator.clone())
    );

    assert_eq!(
        sorted(
            store
                .list_api_keys(KeyOwner::Account(acme.id))
                .await
                .expect("list_api_keys(acme)")
        ),
        sorted(vec![acme_key.clone(), second.clone()]),
        "list_api_keys(acme) lists exactly acme's keys"
    );
    assert_eq!(
        store
            .list_api_keys(KeyOwner::Account(globex.id))
            .await
            .expect("list_api_keys(globex)"),
        vec![globex_key.clone()]
    );
    assert_eq!(
        store
            .list_api_keys(KeyOwner::Operator)
            .await
            .expect("list_api_keys(operator)"),
        vec![operator.clone()]
    );

    assert!(
        store
            .revoke_api_key(&second.key_id, at(50))
            .await
            .expect("revoke_api_key"),
        "revoking a live key returns true"
    );
    let revoked = store
        .find_api_key(&second.key_id)
        .await
        .expect("find_api_key(revoked)")
        .expect("revoked key still found");
    assert_eq!(
        revoked,
        ApiKey {
            revoked_at: Some(at(50)),
            ..second.clone()
        },
        "revoked_at is set, nothing else changes"
    );
    assert!(
        !store
            .revoke_api_key(&second.key_id, at(60))
            .await
            .expect("revoke_api_key again"),
        "revoking twice returns false"
    );
    let still = store
        .find_api_key(&second.key_id)
        .await
        .expect("find_api_key")
        .expect("key");
    assert_eq!(
        still.revoked_at,
        Some(at(50)),
        "a second revoke must not move revoked_at"
    );
    assert!(
        !store
            .revoke_api_key("key_does_not_exist", at(60))
            .await
            .expect("revoke unknown"),
        "revoking an unknown key returns false"
    );
    assert!(
        store
            .revoke_api_key(&operator.key_id, at(70))
            .await
            .expect("revoke operator key")
    );
    // The other keys are untouched.
    assert_eq!(
        store
            .find_api_key(&acme_key.key_id)
            .await
            .expect("find_api_key"),
        Some(acme_key)
    );
}
