//! Per-account callback settings: the HMAC secret callbacks are signed with.

use crate::callback::HmacSecret;
use crate::error::Result;
use crate::ids::AccountId;

use super::Service;

impl Service {
    pub async fn callback_secret(&self, account: AccountId) -> Result<Option<HmacSecret>> {
        self.store.get_callback_secret(account).await
    }

    pub async fn set_callback_secret(
        &self,
        account: AccountId,
        secret: &HmacSecret,
    ) -> Result<HmacSecret> {
        self.store
            .set_callback_secret(account, secret, self.now())
            .await?;
        Ok(secret.clone())
    }
}
