//! `TokenStore` (OAuth2 access tokens, stored by hash) and `CallbackSecretStore` (the per-account
//! HMAC secret for callbacks, stored sealed).

use async_trait::async_trait;
use numbers_core::account::KeyOwner;
use numbers_core::callback::HmacSecret;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::store::{CallbackSecretStore, TokenStore};
use numbers_core::token::StoredToken;
use numbers_store_sql::sealed_fields::{open_callback_secret, seal_callback_secret};
use rusqlite::{OptionalExtension, params};

use crate::SqliteStore;
use crate::db::{DbResult, parse_id};

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_access_token(&self, token: &StoredToken) -> Result<()> {
        let token = token.clone();
        self.write(move |tx| {
            let (account, is_operator) = match token.owner {
                KeyOwner::Operator => (None, true),
                KeyOwner::Account(id) => (Some(id.to_string()), false),
            };
            tx.prepare_cached(
                "INSERT INTO access_tokens (token_hash, key_id, account_id, is_operator, issued_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .db()?
            .execute(params![
                token.token_hash,
                token.key_id,
                account,
                is_operator,
                to_millis(token.issued_at),
                to_millis(token.expires_at)
            ])
            .db()?;
            Ok(())
        })
        .await
    }

    async fn find_access_token(&self, token_hash: &str) -> Result<Option<StoredToken>> {
        let hash = token_hash.to_string();
        self.read(move |tx| {
            let raw = tx
                .prepare_cached(
                    "SELECT token_hash, key_id, account_id, is_operator, issued_at, expires_at \
                     FROM access_tokens WHERE token_hash = ?1",
                )
                .db()?
                .query_row([&hash], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, bool>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                })
                .optional()
                .db()?;
            raw.map(
                |(token_hash, key_id, account, is_operator, issued, expires)| {
                    let owner = match (is_operator, account) {
                        (true, _) => KeyOwner::Operator,
                        (false, Some(a)) => KeyOwner::Account(parse_id("account id", &a)?),
                        (false, None) => {
                            return Err(Error::internal("stored access token has no owner"));
                        }
                    };
                    Ok(StoredToken {
                        token_hash,
                        key_id,
                        owner,
                        issued_at: from_millis(issued),
                        expires_at: from_millis(expires),
                    })
                },
            )
            .transpose()
        })
        .await
    }

    async fn prune_access_tokens(&self, before: Timestamp, limit: u32) -> Result<u32> {
        self.write(move |tx| {
            let n = tx
                .prepare_cached(
                    "DELETE FROM access_tokens WHERE token_hash IN \
                     (SELECT token_hash FROM access_tokens WHERE expires_at < ?1 LIMIT ?2)",
                )
                .db()?
                .execute(params![to_millis(before), i64::from(limit)])
                .db()?;
            Ok(n as u32)
        })
        .await
    }
}

#[async_trait]
impl CallbackSecretStore for SqliteStore {
    async fn get_callback_secret(&self, account: AccountId) -> Result<Option<HmacSecret>> {
        let secrets = self.secrets.clone();
        self.read(move |tx| {
            let secret: Option<String> = tx
                .prepare_cached("SELECT hmac_secret FROM callback_secrets WHERE account_id = ?1")
                .db()?
                .query_row([account.to_string()], |r| r.get(0))
                .optional()
                .db()?;
            secret
                .map(|s| open_callback_secret(&secrets, &s))
                .transpose()
        })
        .await
    }

    async fn set_callback_secret(
        &self,
        account: AccountId,
        secret: &HmacSecret,
        now: Timestamp,
    ) -> Result<()> {
        let secret = seal_callback_secret(&self.secrets, secret)?;
        self.write(move |tx| {
            tx.prepare_cached(
                "INSERT INTO callback_secrets (account_id, hmac_secret, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (account_id) DO UPDATE SET hmac_secret = excluded.hmac_secret, updated_at = excluded.updated_at",
            )
            .db()?
            .execute(params![account.to_string(), secret, to_millis(now)])
            .db()?;
            Ok(())
        })
        .await
    }
}
