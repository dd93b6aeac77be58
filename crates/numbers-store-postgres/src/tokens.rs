//! `TokenStore` (OAuth2 access tokens, stored by hash) and `CallbackSecretStore` (the per-account
//! HMAC secret for callbacks).

use async_trait::async_trait;
use numbers_core::account::KeyOwner;
use numbers_core::callback::HmacSecret;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::store::{CallbackSecretStore, TokenStore};
use numbers_core::token::StoredToken;
use numbers_store_sql::sealed_fields::{open_callback_secret, seal_callback_secret};

use crate::rows::get;
use crate::{PostgresStore, db_err};

#[async_trait]
impl TokenStore for PostgresStore {
    async fn insert_access_token(&self, token: &StoredToken) -> Result<()> {
        let (account, is_operator) = match token.owner {
            KeyOwner::Operator => (None, true),
            KeyOwner::Account(id) => (Some(id.to_string()), false),
        };
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO access_tokens (token_hash, key_id, account_id, is_operator, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &token.token_hash,
                    &token.key_id,
                    &account,
                    &is_operator,
                    &to_millis(token.issued_at),
                    &to_millis(token.expires_at),
                ],
            )
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn find_access_token(&self, token_hash: &str) -> Result<Option<StoredToken>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT token_hash, key_id, account_id, is_operator, issued_at, expires_at \
                 FROM access_tokens WHERE token_hash = $1",
                &[&token_hash],
            )
            .await
            .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let account: Option<String> = get(&row, 2)?;
        let owner =
            match (get::<bool>(&row, 3)?, account) {
                (true, _) => KeyOwner::Operator,
                (false, Some(a)) => KeyOwner::Account(a.parse().map_err(|_| {
                    Error::internal(format!("stored account id '{a}' is not a UUID"))
                })?),
                (false, None) => return Err(Error::internal("stored access token has no owner")),
            };
        Ok(Some(StoredToken {
            token_hash: get(&row, 0)?,
            key_id: get(&row, 1)?,
            owner,
            issued_at: from_millis(get(&row, 4)?),
            expires_at: from_millis(get(&row, 5)?),
        }))
    }

    async fn prune_access_tokens(&self, before: Timestamp, limit: u32) -> Result<u32> {
        let client = self.client().await?;
        let n = client
            .execute(
                "DELETE FROM access_tokens WHERE token_hash IN \
                 (SELECT token_hash FROM access_tokens WHERE expires_at < $1 LIMIT $2)",
                &[&to_millis(before), &i64::from(limit)],
            )
            .await
            .map_err(db_err)?;
        Ok(n as u32)
    }
}

#[async_trait]
impl CallbackSecretStore for PostgresStore {
    async fn get_callback_secret(&self, account: AccountId) -> Result<Option<HmacSecret>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT hmac_secret FROM callback_secrets WHERE account_id = $1",
                &[&account.to_string()],
            )
            .await
            .map_err(db_err)?;
        row.map(|r| {
            let s: String = get(&r, 0)?;
            open_callback_secret(&self.secrets, &s)
        })
        .transpose()
    }

    async fn set_callback_secret(
        &self,
        account: AccountId,
        secret: &HmacSecret,
        now: Timestamp,
    ) -> Result<()> {
        let sealed = seal_callback_secret(&self.secrets, secret)?;
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO callback_secrets (account_id, hmac_secret, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT ON CONSTRAINT callback_secrets_pkey \
                 DO UPDATE SET hmac_secret = excluded.hmac_secret, updated_at = excluded.updated_at",
                &[&account.to_string(), &sealed, &to_millis(now)],
            )
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
