//! Tenants and their API keys (`AccountStore`). Keys are stored as hashes only; the operator's
//! keys have no account (`is_operator`).

use async_trait::async_trait;
use numbers_core::account::{Account, AccountStatus, ApiKey, KeyOwner};
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::store::AccountStore;
use tokio_postgres::{Row, Transaction};

use crate::rows::get;
use crate::{PostgresStore, db_err, unique_violation};

const KEY_COLUMNS: &str = "key_id, account_id, is_operator, secret_hash, created_at, revoked_at";

fn account_from_row(row: &Row) -> Result<Account> {
    let id: String = get(row, 0)?;
    let status: String = get(row, 2)?;
    Ok(Account {
        id: id
            .parse()
            .map_err(|_| Error::internal(format!("stored account id '{id}' is not a UUID")))?,
        name: get(row, 1)?,
        status: AccountStatus::parse(&status),
        created_at: from_millis(get(row, 3)?),
    })
}

fn key_from_row(row: &Row) -> Result<ApiKey> {
    let account: Option<String> = get(row, 1)?;
    let is_operator: bool = get(row, 2)?;
    let owner = match (is_operator, account) {
        (true, _) => KeyOwner::Operator,
        (false, Some(id)) => KeyOwner::Account(
            id.parse()
                .map_err(|_| Error::internal(format!("stored key account '{id}' is not a UUID")))?,
        ),
        (false, None) => {
            return Err(Error::internal(
                "stored API key has neither an account nor the operator flag",
            ));
        }
    };
    Ok(ApiKey {
        key_id: get(row, 0)?,
        owner,
        secret_hash: get(row, 3)?,
        created_at: from_millis(get(row, 4)?),
        revoked_at: get::<Option<i64>>(row, 5)?.map(from_millis),
    })
}

async fn insert_key(tx: &Transaction<'_>, key: &ApiKey) -> Result<()> {
    let (account, is_operator) = match key.owner {
        KeyOwner::Operator => (None, true),
        KeyOwner::Account(id) => (Some(id.to_string()), false),
    };
    tx.execute(
        &format!("INSERT INTO api_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
        &[
            &key.key_id,
            &account,
            &is_operator,
            &key.secret_hash,
            &to_millis(key.created_at),
            &key.revoked_at.map(to_millis),
        ],
    )
    .await
    .map_err(|e| match unique_violation(&e) {
        Some("api_keys_pkey") => Error::conflict(
            numbers_core::error::ConflictKind::KeyExists,
            format!("API key {} already exists", key.key_id),
        ),
        _ => db_err(e),
    })?;
    Ok(())
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn create_account(&self, account: &Account, first_key: &ApiKey) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        tx.execute(
            "INSERT INTO accounts (id, name, status, created_at) VALUES ($1, $2, $3, $4)",
            &[
                &account.id.to_string(),
                &account.name,
                &account.status.as_str(),
                &to_millis(account.created_at),
            ],
        )
        .await
        .map_err(|e| match unique_violation(&e) {
            Some("accounts_pkey") => Error::conflict(
                numbers_core::error::ConflictKind::AccountExists,
                format!("account {} already exists", account.id),
            ),
            _ => db_err(e),
        })?;
        insert_key(&tx, first_key).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn get_account(&self, id: AccountId) -> Result<Option<Account>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT id, name, status, created_at FROM accounts WHERE id = $1",
                &[&id.to_string()],
            )
            .await
            .map_err(db_err)?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn list_accounts(&self) -> Result<Vec<Account>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, name, status, created_at FROM accounts ORDER BY created_at, id",
                &[],
            )
            .await
            .map_err(db_err)?;
        rows.iter().map(account_from_row).collect()
    }

    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        insert_key(&tx, key).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKey>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = $1"),
                &[&key_id],
            )
            .await
            .map_err(db_err)?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn list_api_keys(&self, owner: KeyOwner) -> Result<Vec<ApiKey>> {
        let client = self.client().await?;
        let rows = match owner {
            KeyOwner::Operator => {
                client
                    .query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE is_operator ORDER BY created_at, key_id"), &[])
                    .await
            }
            KeyOwner::Account(id) => {
                client
                    .query(
                        &format!(
                            "SELECT {KEY_COLUMNS} FROM api_keys WHERE account_id = $1 AND NOT is_operator \
                             ORDER BY created_at, key_id"
                        ),
                        &[&id.to_string()],
                    )
                    .await
            }
        }
        .map_err(db_err)?;
        rows.iter().map(key_from_row).collect()
    }

    async fn revoke_api_key(&self, key_id: &str, at: Timestamp) -> Result<bool> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE api_keys SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL",
                &[&key_id, &to_millis(at)],
            )
            .await
            .map_err(db_err)?;
        Ok(n > 0)
    }
}
