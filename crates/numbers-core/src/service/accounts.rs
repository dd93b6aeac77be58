//! Accounts, keys and authentication.

use crate::account::{
    Account, AccountStatus, ApiKey, IssuedKey, KeyOwner, Principal, parse_account_name,
};
use crate::error::{ConflictKind, Error, Resource, Result};
use crate::ids::AccountId;
use crate::signature::{SignatureRefusal, SignedRequest, verify};

use super::Service;

impl Service {
    /// Checks a key id and secret (HTTP Basic, OAuth2 client credentials). Unknown key, wrong
    /// secret and revoked key all answer `Unauthorized`, so keys cannot be probed. A key verified
    /// in the last second is not looked up again (`credential_cache`), but its secret is checked.
    pub async fn authenticate(&self, key_id: &str, secret: &str) -> Result<Principal> {
        if let Some((key, principal)) = self.credentials.get(key_id) {
            return if key.verify(secret) {
                Ok(principal)
            } else {
                Err(Error::Unauthorized)
            };
        }
        let key = self
            .store
            .find_api_key(key_id)
            .await?
            .ok_or(Error::Unauthorized)?;
        if !key.verify(secret) {
            return Err(Error::Unauthorized);
        }
        let principal = self.principal_of(&key).await?;
        self.credentials.put(key, principal);
        Ok(principal)
    }

    /// Checks a signed request (MessageMedia's HMAC scheme, see `signature`). The key's secret is
    /// recomputed from the server secret, so only keys issued under it can sign. The inner error
    /// says why a request was refused; the outer one is a store failure or a suspended account.
    pub async fn authenticate_signed(
        &self,
        request: &SignedRequest<'_>,
    ) -> Result<std::result::Result<Principal, SignatureRefusal>> {
        let Some(server) = &self.config.secret_key else {
            return Ok(Err(SignatureRefusal::NoServerSecret));
        };
        let signing_string = match request.signing_string(self.now()) {
            Ok(s) => s,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let auth = &request.authorization;
        let key = match self.store.find_api_key(&auth.username).await? {
            Some(key) if key.revoked_at.is_none() => key,
            _ => return Ok(Err(SignatureRefusal::BadCredentials)),
        };
        if !key.is_derived_from(server) {
            return Ok(Err(SignatureRefusal::KeyNotDerived));
        }
        let secret = server.derive_secret(&key.key_id);
        if !verify(&secret, &signing_string, &auth.signature) {
            return Ok(Err(SignatureRefusal::BadCredentials));
        }
        self.principal_of(&key).await.map(Ok)
    }

    /// Who a verified key speaks for; a suspended account is refused.
    async fn principal_of(&self, key: &ApiKey) -> Result<Principal> {
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
        Ok(key.owner.principal())
    }

    pub async fn create_account(
        &self,
        principal: Principal,
        name: &str,
    ) -> Result<(Account, IssuedKey)> {
        principal.require_operator()?;
        let name = parse_account_name(name)?;
        let now = self.now();
        let account = Account {
            id: AccountId::new(),
            name,
            status: AccountStatus::Active,
            created_at: now,
        };
        let key = IssuedKey::generate(self.config.secret_key.as_ref());
        self.store
            .create_account(&account, &key.stored(KeyOwner::Account(account.id), now))
            .await?;
        Ok((account, key))
    }

    pub async fn list_accounts(&self, principal: Principal) -> Result<Vec<Account>> {
        principal.require_operator()?;
        self.store.list_accounts().await
    }

    /// The operator sees any account; a tenant only itself.
    pub async fn get_account(&self, principal: Principal, id: AccountId) -> Result<Account> {
        match principal {
            Principal::Account(own) if own != id => Err(Error::not_found(Resource::Account, id)),
            _ => self
                .store
                .get_account(id)
                .await?
                .ok_or_else(|| Error::not_found(Resource::Account, id)),
        }
    }

    pub async fn create_key(&self, principal: Principal, account: AccountId) -> Result<IssuedKey> {
        self.get_account(principal, account).await?;
        let key = IssuedKey::generate(self.config.secret_key.as_ref());
        self.store
            .insert_api_key(&key.stored(KeyOwner::Account(account), self.now()))
            .await?;
        Ok(key)
    }

    pub async fn list_keys(&self, principal: Principal, account: AccountId) -> Result<Vec<ApiKey>> {
        self.get_account(principal, account).await?;
        self.store.list_api_keys(KeyOwner::Account(account)).await
    }

    /// A tenant may revoke its own keys; the operator any key.
    pub async fn revoke_key(&self, principal: Principal, key_id: &str) -> Result<()> {
        let key = self
            .store
            .find_api_key(key_id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Key, key_id))?;
        let allowed = match (principal, key.owner) {
            (Principal::Operator, _) => true,
            (Principal::Account(me), KeyOwner::Account(owner)) => me == owner,
            (Principal::Account(_), KeyOwner::Operator) => false,
        };
        if !allowed {
            return Err(Error::not_found(Resource::Key, key_id));
        }
        if self.store.revoke_api_key(key_id, self.now()).await? {
            self.credentials.forget(key_id);
            Ok(())
        } else {
            Err(Error::not_found(Resource::Key, key_id))
        }
    }

    pub async fn create_operator_key(&self) -> Result<IssuedKey> {
        let key = IssuedKey::generate(self.config.secret_key.as_ref());
        self.store
            .insert_api_key(&key.stored(KeyOwner::Operator, self.now()))
            .await?;
        Ok(key)
    }

    /// Makes sure an operator key given in configuration can log in. A stored key with the same id
    /// but another secret is refused rather than silently replaced.
    pub async fn ensure_operator_key(&self, key: &IssuedKey) -> Result<()> {
        match self.store.find_api_key(&key.key_id).await? {
            Some(existing)
                if existing.owner == KeyOwner::Operator && existing.verify(&key.secret) =>
            {
                Ok(())
            }
            Some(_) => Err(Error::conflict(
                ConflictKind::KeyExists,
                format!("key id {} exists with another secret or owner", key.key_id),
            )),
            None => {
                self.store
                    .insert_api_key(&key.stored(KeyOwner::Operator, self.now()))
                    .await
            }
        }
    }
}
