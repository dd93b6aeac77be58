//! OAuth2 access tokens (client-credentials grant): an opaque random string handed to the client
//! once, stored only as a SHA-256 hash with the key it was issued for and its expiry. A token is
//! worth exactly what its key is worth: revoking the key (or suspending the account) ends every
//! token issued for it, checked on each use.

use chrono::Duration;

use crate::account::{KeyOwner, hash_secret, random_token};
use crate::clock::Timestamp;

/// One hour, the lifetime Sinch's (and most) authorization servers give.
pub const ACCESS_TOKEN_TTL_SECONDS: i64 = 3600;
/// 48 random alphanumeric characters (~285 bits).
const TOKEN_CHARS: usize = 48;

/// A token as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub token_hash: String,
    pub key_id: String,
    pub owner: KeyOwner,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A token as handed to the client, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: Duration,
    pub stored: StoredToken,
}

impl IssuedToken {
    pub fn generate(key_id: &str, owner: KeyOwner, now: Timestamp) -> Self {
        let access_token = format!("nbt_{}", random_token(TOKEN_CHARS));
        let expires_in = Duration::seconds(ACCESS_TOKEN_TTL_SECONDS);
        IssuedToken {
            stored: StoredToken {
                token_hash: hash_secret(&access_token),
                key_id: key_id.to_string(),
                owner,
                issued_at: now,
                expires_at: now + expires_in,
            },
            access_token,
            expires_in,
        }
    }
}

/// What a presented bearer token turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    Valid(crate::account::Principal),
    /// Known but past its expiry: clients react to this (and only this) by fetching a new token.
    Expired,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let now = chrono::Utc::now();
        let a = IssuedToken::generate("k", KeyOwner::Operator, now);
        let b = IssuedToken::generate("k", KeyOwner::Operator, now);
        assert_ne!(a.access_token, b.access_token);
        assert_eq!(a.stored.token_hash, hash_secret(&a.access_token));
        assert_ne!(a.stored.token_hash, a.access_token);
        assert_eq!(a.stored.expires_at - a.stored.issued_at, Duration::hours(1));
        assert!(
            a.access_token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
    }
}
