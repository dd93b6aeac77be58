//! `accounts` and `api_keys` (migration 0001) for both stores: their columns, the mapping of a
//! row to `Account` / `ApiKey`, and every statement the `AccountStore` calls run. Keys are stored
//! as hashes only; the operator's keys have no account (`is_operator`), the same owner columns
//! `access_tokens` has (`owner_columns`, `owner_from_columns`).

use numbers_core::account::{Account, AccountStatus, ApiKey, KeyOwner};
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::ids::AccountId;

use crate::statement::{FromRow, SqlRow, Statement, UniqueKey, insert_sql, parse_id};

pub const ACCOUNT_COLUMNS: &str = "id, name, status, created_at";
pub const KEY_COLUMNS: &str =
    "key_id, account_id, is_operator, secret_hash, created_at, revoked_at";

/// The primary keys a create may hit.
pub const ACCOUNT_PKEY: UniqueKey = UniqueKey {
    constraint: "accounts_pkey",
    columns: "accounts.id",
};
pub const KEY_PKEY: UniqueKey = UniqueKey {
    constraint: "api_keys_pkey",
    columns: "api_keys.key_id",
};

/// `(account_id, is_operator)` of an owner.
pub fn owner_columns(owner: KeyOwner) -> (Option<String>, bool) {
    match owner {
        KeyOwner::Operator => (None, true),
        KeyOwner::Account(id) => (Some(id.to_string()), false),
    }
}

/// The owner `owner_columns` wrote; `what` names the row in the error of a row with neither.
pub fn owner_from_columns(
    is_operator: bool,
    account: Option<String>,
    what: &str,
) -> Result<KeyOwner> {
    match (is_operator, account) {
        (true, _) => Ok(KeyOwner::Operator),
        (false, Some(a)) => Ok(KeyOwner::Account(parse_id("account id", &a)?)),
        (false, None) => Err(Error::internal(format!("stored {what} has no owner"))),
    }
}

impl FromRow for Account {
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(Account {
            id: parse_id("account id", &row.text(0)?)?,
            name: row.text(1)?,
            status: AccountStatus::parse(&row.text(2)?),
            created_at: from_millis(row.int(3)?),
        })
    }
}

impl FromRow for ApiKey {
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(ApiKey {
            key_id: row.text(0)?,
            owner: owner_from_columns(row.bool(2)?, row.opt_text(1)?, "API key")?,
            secret_hash: row.text(3)?,
            created_at: from_millis(row.int(4)?),
            revoked_at: row.opt_int(5)?.map(from_millis),
        })
    }
}

pub fn insert_account(a: &Account) -> Statement {
    Statement::new(insert_sql("accounts", ACCOUNT_COLUMNS))
        .bind(a.id.to_string())
        .bind(&a.name)
        .bind(a.status.as_str())
        .bind(to_millis(a.created_at))
}

pub fn select_account(id: AccountId) -> Statement {
    Statement::new(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"
    ))
    .bind(id.to_string())
}

pub fn list_accounts() -> Statement {
    Statement::new(format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY created_at, id"
    ))
}

pub fn insert_key(k: &ApiKey) -> Statement {
    let (account, is_operator) = owner_columns(k.owner);
    Statement::new(insert_sql("api_keys", KEY_COLUMNS))
        .bind(&k.key_id)
        .bind(account)
        .bind(is_operator)
        .bind(&k.secret_hash)
        .bind(to_millis(k.created_at))
        .bind(k.revoked_at.map(to_millis))
}

pub fn select_key(key_id: &str) -> Statement {
    Statement::new(format!(
        "SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = $1"
    ))
    .bind(key_id)
}

pub fn list_keys(owner: KeyOwner) -> Statement {
    match owner {
        KeyOwner::Operator => Statement::new(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE is_operator ORDER BY created_at, key_id"
        )),
        KeyOwner::Account(id) => Statement::new(format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE account_id = $1 AND NOT is_operator \
             ORDER BY created_at, key_id"
        ))
        .bind(id.to_string()),
    }
}

pub fn revoke_key(key_id: &str, at: Timestamp) -> Statement {
    Statement::new("UPDATE api_keys SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL")
        .bind(key_id)
        .bind(to_millis(at))
}
