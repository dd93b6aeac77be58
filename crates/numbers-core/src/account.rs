//! Tenants and credentials. An API key is a public key id plus a secret; only a SHA-256 hash of
//! the secret is stored (secrets are 32 random bytes, so a slow hash adds nothing) and comparison
//! is constant-time. The same key works as HTTP Basic everywhere and as OAuth2 client credentials.
//!
//! Request signatures (MessageMedia's HMAC scheme) need the server to know a key's secret, which
//! the hash does not give back. So when the installation has a `ServerSecret`, secrets are not
//! random but DERIVED: HMAC-SHA256(server secret, key id) in base62, 40 characters. The server
//! recomputes any key's secret from its id, and the database still holds only the hash. The price:
//! whoever learns the server secret learns every derived secret (rotate by issuing new keys under
//! a new server secret).

use std::fmt;

use hmac::{Hmac, Mac};
use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::Timestamp;
use crate::error::Error;
use crate::ids::AccountId;

pub const ACCOUNT_NAME_MAX_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub status: AccountStatus,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    Active,
    Suspended,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Suspended => "SUSPENDED",
        }
    }

    pub fn parse(s: &str) -> Self {
        if s == "SUSPENDED" {
            AccountStatus::Suspended
        } else {
            AccountStatus::Active
        }
    }
}

pub fn parse_account_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > ACCOUNT_NAME_MAX_CHARS {
        return Err(Error::invalid(
            "name",
            format!("must be 1 to {ACCOUNT_NAME_MAX_CHARS} characters"),
        ));
    }
    Ok(name.to_string())
}

/// Who is calling: the operator of the installation, or one tenant account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Operator,
    Account(AccountId),
}

impl Principal {
    pub fn account(self) -> Result<AccountId, Error> {
        match self {
            Principal::Account(id) => Ok(id),
            Principal::Operator => Err(Error::Forbidden(
                "this endpoint acts for a tenant account; use an account key".into(),
            )),
        }
    }

    /// What the caller may see: one account's data, or (`None`) everything for the operator.
    pub fn scope(self) -> Option<AccountId> {
        match self {
            Principal::Operator => None,
            Principal::Account(id) => Some(id),
        }
    }

    pub fn require_operator(self) -> Result<(), Error> {
        match self {
            Principal::Operator => Ok(()),
            Principal::Account(_) => Err(Error::Forbidden("operator credentials required".into())),
        }
    }
}

/// Whose key it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyOwner {
    Operator,
    Account(AccountId),
}

impl KeyOwner {
    pub fn principal(self) -> Principal {
        match self {
            KeyOwner::Operator => Principal::Operator,
            KeyOwner::Account(id) => Principal::Account(id),
        }
    }
}

/// A stored key: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub key_id: String,
    pub owner: KeyOwner,
    pub secret_hash: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl ApiKey {
    pub fn verify(&self, secret: &str) -> bool {
        let presented = hash_secret(secret);
        self.revoked_at.is_none()
            && bool::from(presented.as_bytes().ct_eq(self.secret_hash.as_bytes()))
    }

    /// Whether this (live) key's secret is the one `server` derives from its id: only such keys
    /// can sign requests, since only their secret can be recomputed.
    pub fn is_derived_from(&self, server: &ServerSecret) -> bool {
        self.verify(&server.derive_secret(&self.key_id))
    }
}

pub const SERVER_SECRET_MIN_CHARS: usize = 32;
/// Length of a derived key secret (the same as a random one).
pub const DERIVED_SECRET_CHARS: usize = 40;

/// The installation's own secret (`secret_key`), from which key secrets are derived.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerSecret(String);

impl fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never in logs or panics.
        f.write_str("ServerSecret(…)")
    }
}

impl ServerSecret {
    pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
        let s = s.trim();
        if s.chars().count() < SERVER_SECRET_MIN_CHARS || s.chars().any(char::is_whitespace) {
            return Err(Error::invalid(
                field,
                format!("must be at least {SERVER_SECRET_MIN_CHARS} characters without spaces"),
            ));
        }
        Ok(ServerSecret(s.to_string()))
    }

    /// A fresh random one (for installations that keep it in a file next to the database).
    pub fn generate() -> Self {
        ServerSecret(random_token(64))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// HMAC-SHA256(server secret, key id), as 40 base62 characters.
    pub fn derive_secret(&self, key_id: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail; the fallback keeps it total.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.0.as_bytes()) else {
            return String::new();
        };
        mac.update(key_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        base62(&digest, DERIVED_SECRET_CHARS)
    }
}

/// The big-endian number in `bytes` written in base 62, least significant digit first, exactly
/// `len` digits (a 256-bit digest has 43, so 40 keep 238 bits).
fn base62(bytes: &[u8], len: usize) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut number = bytes.to_vec();
    let mut out = String::with_capacity(len);
    for _ in 0..len {
        let mut rem = 0u32;
        for byte in number.iter_mut() {
            let acc = (rem << 8) | u32::from(*byte);
            *byte = (acc / 62) as u8;
            rem = acc % 62;
        }
        out.push(char::from(ALPHABET[rem as usize]));
    }
    out
}

/// A key as handed to its owner once, at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedKey {
    pub key_id: String,
    pub secret: String,
}

impl IssuedKey {
    /// A new key; its secret is derived from the server secret when there is one, random
    /// otherwise (such keys work for HTTP Basic but cannot sign requests).
    pub fn generate(server: Option<&ServerSecret>) -> Self {
        let key_id = format!("key_{}", random_token(20));
        let secret = match server {
            Some(server) => server.derive_secret(&key_id),
            None => random_token(DERIVED_SECRET_CHARS),
        };
        IssuedKey { key_id, secret }
    }

    /// For keys given in configuration (`key_id:secret`).
    pub fn parse_pair(pair: &str) -> Result<Self, Error> {
        match pair.split_once(':') {
            Some((id, secret)) if !id.is_empty() && secret.len() >= 16 => Ok(IssuedKey {
                key_id: id.to_string(),
                secret: secret.to_string(),
            }),
            _ => Err(Error::invalid(
                "operator_key",
                "must be KEY_ID:SECRET with a secret of at least 16 characters",
            )),
        }
    }

    pub fn stored(&self, owner: KeyOwner, now: Timestamp) -> ApiKey {
        ApiKey {
            key_id: self.key_id.clone(),
            owner,
            secret_hash: hash_secret(&self.secret),
            created_at: now,
            revoked_at: None,
        }
    }
}

pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_verify_only_their_own_secret() {
        let issued = IssuedKey::generate(None);
        let stored = issued.stored(KeyOwner::Operator, chrono::Utc::now());
        assert!(stored.verify(&issued.secret));
        assert!(!stored.verify("wrong"));
        assert_ne!(stored.secret_hash, issued.secret);
        let revoked = ApiKey {
            revoked_at: Some(chrono::Utc::now()),
            ..stored
        };
        assert!(!revoked.verify(&issued.secret));
    }

    #[test]
    fn derived_secrets_are_recomputable_from_the_key_id_only() {
        let server = ServerSecret::parse(&"s".repeat(32), "secret_key").unwrap();
        let issued = IssuedKey::generate(Some(&server));
        assert_eq!(issued.secret.len(), DERIVED_SECRET_CHARS);
        assert!(issued.secret.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(issued.secret, server.derive_secret(&issued.key_id));
        let stored = issued.stored(KeyOwner::Operator, chrono::Utc::now());
        assert!(stored.is_derived_from(&server));
        let other = ServerSecret::parse(&"t".repeat(32), "secret_key").unwrap();
        assert!(!stored.is_derived_from(&other));
        let random = IssuedKey::generate(None).stored(KeyOwner::Operator, chrono::Utc::now());
        assert!(!random.is_derived_from(&server));
        assert_ne!(server.derive_secret("key_a"), server.derive_secret("key_b"));
    }

    #[test]
    fn server_secrets_are_long_and_never_printed() {
        assert!(ServerSecret::parse("short", "secret_key").is_err());
        assert!(ServerSecret::parse(&format!("{} x", "s".repeat(32)), "secret_key").is_err());
        let s = ServerSecret::generate();
        assert!(!format!("{s:?}").contains(s.as_str()));
    }
}
