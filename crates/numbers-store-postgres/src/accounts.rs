//! `AccountStore`: tenant accounts and their API keys (only secret hashes are stored). The rows
//! and statements are `numbers_store_sql::account_rows`.

use async_trait::async_trait;
use numbers_core::account::{Account, ApiKey, KeyOwner};
use numbers_core::clock::Timestamp;
use numbers_core::error::{ConflictKind, Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::store::AccountStore;
use numbers_store_sql::account_rows::{self as sql, ACCOUNT_PKEY, KEY_PKEY};

use crate::statements::{Client, execute, execute_unique, query, query_opt};
use crate::{PostgresStore, db_err};

async fn insert_key(c: &impl Client, key: &ApiKey) -> Result<()> {
    execute_unique(c, &sql::insert_key(key), KEY_PKEY, || {
        Error::conflict(
            ConflictKind::KeyExists,
            format!("API key {} already exists", key.key_id),
        )
    })
    .await?;
    Ok(())
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn create_account(&self, account: &Account, first_key: &ApiKey) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        execute_unique(&*tx, &sql::insert_account(account), ACCOUNT_PKEY, || {
            Error::conflict(
                ConflictKind::AccountExists,
                format!("account {} already exists", account.id),
            )
        })
        .await?;
        insert_key(&*tx, first_key).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_account(&self, id: AccountId) -> Result<Option<Account>> {
        query_opt(&**self.client().await?, &sql::select_account(id)).await
    }

    async fn list_accounts(&self) -> Result<Vec<Account>> {
        query(&**self.client().await?, &sql::list_accounts()).await
    }

    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        insert_key(&**self.client().await?, key).await
    }

    async fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKey>> {
        query_opt(&**self.client().await?, &sql::select_key(key_id)).await
    }

    async fn list_api_keys(&self, owner: KeyOwner) -> Result<Vec<ApiKey>> {
        query(&**self.client().await?, &sql::list_keys(owner)).await
    }

    async fn revoke_api_key(&self, key_id: &str, at: Timestamp) -> Result<bool> {
        Ok(execute(&**self.client().await?, &sql::revoke_key(key_id, at)).await? > 0)
    }
}
