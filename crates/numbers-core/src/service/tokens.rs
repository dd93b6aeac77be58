//! OAuth2 client credentials: issuing bearer tokens for an API key, and checking presented ones.

use crate::account::hash_secret;
use crate::account::{AccountStatus, KeyOwner};
use crate::error::{Error, Result};
use crate::token::{IssuedToken, TokenCheck};

use super::Service;

const TOKEN_PRUNE_BATCH: u32 = 1000;

impl Service {
    /// A new token for a valid key id and secret (`Unauthorized` otherwise, as for Basic).
    pub async fn issue_access_token(&self, key_id: &str, secret: &str) -> Result<IssuedToken> {
        let principal = self.authenticate(key_id, secret).await?;
        let owner = match principal {
            crate::account::Principal::Operator => KeyOwner::Operator,
            crate::account::Principal::Account(id) => KeyOwner::Account(id),
        };
        let issued = IssuedToken::generate(key_id, owner, self.now());
        self.store.insert_access_token(&issued.stored).await?;
        Ok(issued)
    }

    /// A presented bearer token: valid (with its principal), expired, or `Unauthorized` when
    /// unknown or when its key was revoked since. A suspended account is `Forbidden`, as with Basic.
    pub async fn check_access_token(&self, token: &str) -> Result<TokenCheck> {
        let stored = self
            .store
            .find_access_token(&hash_secret(token))
            .await?
            .ok_or(Error::Unauthorized)?;
        if stored.expires_at <= self.now() {
            return Ok(TokenCheck::Expired);
        }
        let key = self
            .store
            .find_api_key(&stored.key_id)
            .await?
            .filter(|k| k.revoked_at.is_none() && k.owner == stored.owner)
            .ok_or(Error::Unauthorized)?;
        if let KeyOwner::Account(id) = key.owner {
            let account = self
                .store
                .get_account(id)
                .await?
                .ok_or(Error::Unauthorized)?;
            if account.status != AccountStatus::Active {
                return Err(Error::Forbidden("this account is suspended".into()));
            }
        }
        Ok(TokenCheck::Valid(key.owner.principal()))
    }

    /// Deletes tokens that expired a day ago or more (kept that long so an expired token still
    /// answers "expired", which makes clients refresh, rather than "unknown").
    pub(super) async fn prune_access_tokens(&self) -> Result<u32> {
        let before = self.now() - chrono::Duration::days(1);
        let mut total = 0;
        loop {
            let n = self
                .store
                .prune_access_tokens(before, TOKEN_PRUNE_BATCH)
                .await?;
            total += n;
            if n < TOKEN_PRUNE_BATCH {
                return Ok(total);
            }
        }
    }
}
