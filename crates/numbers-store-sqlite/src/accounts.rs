//! `AccountStore`: tenant accounts and their API keys (only secret hashes are stored).

use async_trait::async_trait;
use numbers_core::account::{Account, AccountStatus, ApiKey, KeyOwner};
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::store::AccountStore;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::db::{DbResult, is_unique_violation, parse_id};

fn insert_key(conn: &Connection, key: &ApiKey) -> Result<()> {
    let (account, is_operator) = match key.owner {
        KeyOwner::Operator => (None, true),
        KeyOwner::Account(id) => (Some(id.to_string()), false),
    };
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO api_keys (key_id, account_id, is_operator, secret_hash, created_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .db()?;
    stmt.execute(params![
        key.key_id,
        account,
        is_operator,
        key.secret_hash,
        to_millis(key.created_at),
        key.revoked_at.map(to_millis)
    ])
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::conflict(
                numbers_core::error::ConflictKind::KeyExists,
                format!("API key {} already exists", key.key_id),
            )
        } else {
            Error::internal(format!("sqlite: {e}"))
        }
    })?;
    Ok(())
}

const KEY_COLUMNS: &str = "key_id, account_id, is_operator, secret_hash, created_at, revoked_at";

type RawKey = (String, Option<String>, bool, String, i64, Option<i64>);

fn raw_key(r: &Row<'_>) -> rusqlite::Result<RawKey> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn key_from_raw(raw: RawKey) -> Result<ApiKey> {
    let (key_id, account, is_operator, secret_hash, created_at, revoked_at) = raw;
    let owner = match (is_operator, account) {
        (true, _) => KeyOwner::Operator,
        (false, Some(a)) => KeyOwner::Account(parse_id("account id", &a)?),
        (false, None) => return Err(Error::internal(format!("stored key {key_id} has no owner"))),
    };
    Ok(ApiKey {
        key_id,
        owner,
        secret_hash,
        created_at: from_millis(created_at),
        revoked_at: revoked_at.map(from_millis),
    })
}

type RawAccount = (String, String, String, i64);

fn account_from_raw(raw: RawAccount) -> Result<Account> {
    let (id, name, status, created_at) = raw;
    Ok(Account {
        id: parse_id("account id", &id)?,
        name,
        status: AccountStatus::parse(&status),
        created_at: from_millis(created_at),
    })
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, account: &Account, first_key: &ApiKey) -> Result<()> {
        let (account, key) = (account.clone(), first_key.clone());
        self.write(move |tx| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO accounts (id, name, status, created_at) VALUES (?1, ?2, ?3, ?4)",
                )
                .db()?;
            stmt.execute(params![
                account.id.to_string(),
                account.name,
                account.status.as_str(),
                to_millis(account.created_at)
            ])
            .map_err(|e| {
                if is_unique_violation(&e) {
                    Error::conflict(
                        numbers_core::error::ConflictKind::AccountExists,
                        format!("account {} already exists", account.id),
                    )
                } else {
                    Error::internal(format!("sqlite: {e}"))
                }
            })?;
            insert_key(tx, &key)
        })
        .await
    }

    async fn get_account(&self, id: AccountId) -> Result<Option<Account>> {
        self.read(move |tx| {
            let mut stmt = tx
                .prepare_cached("SELECT id, name, status, created_at FROM accounts WHERE id = ?1")
                .db()?;
            let raw = stmt
                .query_row([id.to_string()], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
                .db()?;
            raw.map(account_from_raw).transpose()
        })
        .await
    }

    async fn list_accounts(&self) -> Result<Vec<Account>> {
        self.read(move |tx| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT id, name, status, created_at FROM accounts ORDER BY created_at, id",
                )
                .db()?;
            let raw = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .db()?
                .collect::<rusqlite::Result<Vec<RawAccount>>>()
                .db()?;
            raw.into_iter().map(account_from_raw).collect()
        })
        .await
    }

    async fn insert_api_key(&self, key: &ApiKey) -> Result<()> {
        let key = key.clone();
        self.write(move |tx| insert_key(tx, &key)).await
    }

    async fn find_api_key(&self, key_id: &str) -> Result<Option<ApiKey>> {
        let key_id = key_id.to_string();
        self.read(move |tx| {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = ?1"
                ))
                .db()?;
            stmt.query_row([key_id], raw_key)
                .optional()
                .db()?
                .map(key_from_raw)
                .transpose()
        })
        .await
    }

    async fn list_api_keys(&self, owner: KeyOwner) -> Result<Vec<ApiKey>> {
        self.read(move |tx| {
            let raw = match owner {
                KeyOwner::Operator => {
                    let mut stmt = tx
                        .prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE is_operator ORDER BY created_at, key_id"))
                        .db()?;
                    stmt.query_map([], raw_key).db()?.collect::<rusqlite::Result<Vec<_>>>().db()?
                }
                KeyOwner::Account(id) => {
                    let mut stmt = tx
                        .prepare_cached(&format!(
                            "SELECT {KEY_COLUMNS} FROM api_keys WHERE account_id = ?1 AND NOT is_operator ORDER BY created_at, key_id"
                        ))
                        .db()?;
                    stmt.query_map([id.to_string()], raw_key).db()?.collect::<rusqlite::Result<Vec<_>>>().db()?
                }
            };
            raw.into_iter().map(key_from_raw).collect()
        })
        .await
    }

    async fn revoke_api_key(&self, key_id: &str, at: Timestamp) -> Result<bool> {
        let key_id = key_id.to_string();
        self.write(move |tx| {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE api_keys SET revoked_at = ?1 WHERE key_id = ?2 AND revoked_at IS NULL",
                )
                .db()?;
            Ok(stmt.execute(params![to_millis(at), key_id]).db()? > 0)
        })
        .await
    }
}
