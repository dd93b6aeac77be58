//! Secrets at rest, in the domain's terms: the `SecretBox` of `numbers-sealing` (which seals the
//! stored webhook secrets, callback passwords and HMAC secrets with XChaCha20-Poly1305 under a
//! key derived from the server secret; its crate documentation has the format), built from the
//! domain's `ServerSecret`s, with its errors as domain errors.

pub use numbers_sealing::{Purpose, SEALED_PREFIX, SealError, SecretBox};

use crate::account::ServerSecret;
use crate::error::Error;

/// The box sealing with `current` and opening with it and `previous`.
pub fn secret_box(current: Option<&ServerSecret>, previous: &[ServerSecret]) -> SecretBox {
    let previous: Vec<&str> = previous.iter().map(ServerSecret::as_str).collect();
    SecretBox::new(current.map(ServerSecret::as_str), &previous)
}

impl From<SealError> for Error {
    fn from(e: SealError) -> Self {
        match e {
            SealError::NoKey => Error::Unavailable(e.to_string()),
            other => Error::internal(other.to_string()),
        }
    }
}
