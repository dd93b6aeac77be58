//! `TokenStore` (OAuth2 access tokens, stored by hash) and `CallbackSecretStore` (the per-account
//! HMAC secret for callbacks, stored sealed). The rows and statements are
//! `numbers_store_sql::token_rows`.

use async_trait::async_trait;
use numbers_core::callback::HmacSecret;
use numbers_core::clock::Timestamp;
use numbers_core::error::Result;
use numbers_core::ids::AccountId;
use numbers_core::store::{CallbackSecretStore, TokenStore};
use numbers_core::token::StoredToken;
use numbers_store_sql::sealed_fields::{open_callback_secret, seal_callback_secret};
use numbers_store_sql::token_rows as sql;

use crate::SqliteStore;
use crate::statements::{execute, query_opt};

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_access_token(&self, token: &StoredToken) -> Result<()> {
        let stmt = sql::insert_token(token);
        self.write(move |tx| execute(tx, &stmt).map(drop)).await
    }

    async fn find_access_token(&self, token_hash: &str) -> Result<Option<StoredToken>> {
        let stmt = sql::select_token(token_hash);
        self.read(move |tx| query_opt(tx, &stmt)).await
    }

    async fn prune_access_tokens(&self, before: Timestamp, limit: u32) -> Result<u32> {
        let stmt = sql::prune_tokens(before, limit);
        self.write(move |tx| Ok(execute(tx, &stmt)? as u32)).await
    }
}

#[async_trait]
impl CallbackSecretStore for SqliteStore {
    async fn get_callback_secret(&self, account: AccountId) -> Result<Option<HmacSecret>> {
        let stmt = sql::select_callback_secret(account);
        let sealed: Option<String> = self.read(move |tx| query_opt(tx, &stmt)).await?;
        sealed
            .map(|s| open_callback_secret(&self.secrets, &s))
            .transpose()
    }

    async fn set_callback_secret(
        &self,
        account: AccountId,
        secret: &HmacSecret,
        now: Timestamp,
    ) -> Result<()> {
        let sealed = seal_callback_secret(&self.secrets, secret)?;
        let stmt = sql::upsert_callback_secret(account, sealed, now);
        self.write(move |tx| execute(tx, &stmt).map(drop)).await
    }
}
