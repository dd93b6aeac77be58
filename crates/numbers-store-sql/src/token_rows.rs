//! `access_tokens` and `callback_secrets` (migration 0005) for both stores: OAuth2 access tokens
//! stored by hash (`TokenStore`), and the per-account HMAC secret for callbacks, stored sealed
//! (`CallbackSecretStore`; sealing in `sealed_fields`).

use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::Result;
use numbers_core::ids::AccountId;
use numbers_core::token::StoredToken;

use crate::account_rows::{owner_columns, owner_from_columns};
use crate::statement::{FromRow, SqlRow, Statement, insert_sql};

pub const TOKEN_COLUMNS: &str =
    "token_hash, key_id, account_id, is_operator, issued_at, expires_at";

impl FromRow for StoredToken {
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(StoredToken {
            token_hash: row.text(0)?,
            key_id: row.text(1)?,
            owner: owner_from_columns(row.bool(3)?, row.opt_text(2)?, "access token")?,
            issued_at: from_millis(row.int(4)?),
            expires_at: from_millis(row.int(5)?),
        })
    }
}

pub fn insert_token(t: &StoredToken) -> Statement {
    let (account, is_operator) = owner_columns(t.owner);
    Statement::new(insert_sql("access_tokens", TOKEN_COLUMNS))
        .bind(&t.token_hash)
        .bind(&t.key_id)
        .bind(account)
        .bind(is_operator)
        .bind(to_millis(t.issued_at))
        .bind(to_millis(t.expires_at))
}

pub fn select_token(token_hash: &str) -> Statement {
    Statement::new(format!(
        "SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE token_hash = $1"
    ))
    .bind(token_hash)
}

/// Deletes at most `limit` tokens that expired before `before`.
pub fn prune_tokens(before: Timestamp, limit: u32) -> Statement {
    Statement::new(
        "DELETE FROM access_tokens WHERE token_hash IN \
         (SELECT token_hash FROM access_tokens WHERE expires_at < $1 LIMIT $2)",
    )
    .bind(to_millis(before))
    .bind(i64::from(limit))
}

/// The sealed secret of `account` (one TEXT column).
pub fn select_callback_secret(account: AccountId) -> Statement {
    Statement::new("SELECT hmac_secret FROM callback_secrets WHERE account_id = $1")
        .bind(account.to_string())
}

/// Sets the (sealed) secret of `account`, replacing the one it had.
pub fn upsert_callback_secret(account: AccountId, sealed: String, now: Timestamp) -> Statement {
    Statement::new(
        "INSERT INTO callback_secrets (account_id, hmac_secret, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id) \
         DO UPDATE SET hmac_secret = excluded.hmac_secret, updated_at = excluded.updated_at",
    )
    .bind(account.to_string())
    .bind(sealed)
    .bind(to_millis(now))
}
