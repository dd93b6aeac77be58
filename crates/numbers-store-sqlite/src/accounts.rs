//! `AccountStore`: tenant accounts and their API keys (only secret hashes are stored). The rows
//! and statements are `numbers_store_sql::account_rows`.

use async_trait::async_trait;
use numbers_core::account::{Account, ApiKey, KeyOwner};
use numbers_core::clock::Timestamp;
use numbers_core::error::{ConflictKind, Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::store::AccountStore;
use numbers_store_sql::account_rows::{self as sql, ACCOUNT_PKEY, KEY_PKEY};
use rusqlite::Connection;

use crate::SqliteStore;
use crate::statements::{execute, execute_unique, query, query_opt};

fn insert_key(conn: &Connection, key: &ApiKey) -> Result<()> {
    execute_unique(conn, &sql::insert_key(key), KEY_PKEY, || {
        Error::conflict(
            ConflictKind::KeyExists,
            format!("API key {} already exists", key.key_id),
        )
    })?;
    Ok(())
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, account: &Account, first_key: &ApiKey) -> Result<()> {
        let (account, key) = (account.clone(), first_key.clone());
        self.write(move |tx| {
            execute_unique(tx, &sql::insert_account(&account), ACCOUNT_PKEY, || {
                Error::conflict(
                    ConflictKind::AccountExists,
                    format!("account {} already exists", account.id),
                )
            })?;
            insert_key(tx, &key)
        })
        .await
    }

    async fn get_account(&self, id: AccountId) -> Result<Option<Account>> {
        self.read(move |tx| query_opt(tx, &sql::select_account(id)))
            .await
    }

    async fn list_accounts(&self) -> Result<Vec<Account>> {
        self.read(|tx| query(tx, &sql::list_accounts())).await
    }

    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        let key = key.clone();
        self.write(move |tx| insert_key(tx, &key)).await
    }

    async fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKey>> {
        let stmt = sql::select_key(key_id);
        self.read(move |tx| query_opt(tx, &stmt)).await
    }

    async fn list_api_keys(&self, owner: KeyOwner) -> Result<Vec<ApiKey>> {
        self.read(move |tx| query(tx, &sql::list_keys(owner))).await
    }

    async fn revoke_api_key(&self, key_id: &str, at: Timestamp) -> Result<bool> {
        let stmt = sql::revoke_key(key_id, at);
        self.write(move |tx| Ok(execute(tx, &stmt)? > 0)).await
    }
}
