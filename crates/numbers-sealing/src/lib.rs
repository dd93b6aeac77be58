//! numbers-sealing: secrets at rest. Some secrets must be stored so that the server can use them again — webhook
//! signing secrets, the Basic credentials of Bandwidth callback receivers (inside a
//! subscription's `format_config`), Sinch HMAC secrets — so they cannot be hashed like API keys.
//! A `SecretBox` seals them before they reach a database row and opens them after: XChaCha20-
//! Poly1305 (random 192-bit nonces, so no nonce bookkeeping however many values are sealed)
//! under a key derived from the server secret with HKDF-SHA256. A sealed value describes itself:
//!
//! ```text
//! enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>
//! ```
//!
//! `v1` names this construction; the key id (16 hex digits, derived from the server secret like
//! the key but through another HKDF label, so it says nothing about the key) names which server
//! secret sealed it. The header and the value's purpose (`webhook_subscriptions.secret`, …) are
//! authenticated too, so a sealed value cannot be moved to another field. A box holds the current
//! key, which seals, and previous ones, which only open: that is how a key rotation reads old
//! values while it re-seals them. A value without the `enc:` prefix is one written before values
//! were sealed; it is read as is, and the re-seal pass (`Service::reseal_secrets`) seals it.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

/// What every sealed value starts with.
pub const SEALED_PREFIX: &str = "enc:v1:";
const NONCE_BYTES: usize = 24;
const HKDF_SALT: &[u8] = b"numbersd secrets at rest";
const KEY_LABEL: &[u8] = b"numbersd:v1:xchacha20poly1305 key";
const KEY_ID_LABEL: &[u8] = b"numbersd:v1:key id";

struct SealingKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl SealingKey {
    fn derive(secret: &str) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), secret.as_bytes());
        let mut key = [0u8; 32];
        let mut id = [0u8; 8];
        // 32 and 8 bytes are far below HKDF-SHA256's limit of 8160: these cannot fail.
        let derived = hkdf
            .expand(KEY_LABEL, &mut key)
            .and_then(|()| hkdf.expand(KEY_ID_LABEL, &mut id));
        debug_assert!(derived.is_ok());
        SealingKey {
            id: id.iter().map(|b| format!("{b:02x}")).collect(),
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }
}

/// Seals with the current key, opens with the current or any previous one. Cheap to clone.
#[derive(Clone, Default)]
pub struct SecretBox {
    current: Option<Arc<SealingKey>>,
    previous: Arc<Vec<SealingKey>>,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key ids only: they identify keys without revealing them.
        f.debug_struct("SecretBox")
            .field("current", &self.key_id())
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Which stored value a sealed string is (part of what is authenticated).
pub type Purpose = &'static str;

/// Why a value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error(
        "no server secret is configured (secret_key / NUMBERSD_SECRET_KEY), so secrets cannot be \
         stored"
    )]
    NoKey,
    #[error(
        "a stored {purpose} is sealed with key {key_id}, which this server does not have: \
         configure the server secret it was sealed with in previous_secret_keys"
    )]
    UnknownKey { purpose: Purpose, key_id: String },
    #[error("a stored {purpose} does not open: it is damaged, or was sealed for another field")]
    Damaged { purpose: Purpose },
    #[error("sealing a {purpose} failed")]
    Sealing { purpose: Purpose },
}

type Result<T> = std::result::Result<T, SealError>;

impl SecretBox {
    /// Keys derived from the `current` server secret (sealing; `None`: nothing can be sealed)
    /// and from `previous` ones (opening only, for values sealed before a rotation).
    pub fn new(current: Option<&str>, previous: &[&str]) -> Self {
        let current = current.map(|s| Arc::new(SealingKey::derive(s)));
        let mut older: Vec<SealingKey> = Vec::new();
        for key in previous.iter().map(|s| SealingKey::derive(s)) {
            let known = current.as_ref().is_some_and(|c| c.id == key.id)
                || older.iter().any(|k| k.id == key.id);
            if !known {
                older.push(key);
            }
        }
        SecretBox {
            current,
            previous: Arc::new(older),
        }
    }

    /// The id of the key new values are sealed with.
    pub fn key_id(&self) -> Option<&str> {
        self.current.as_ref().map(|k| k.id.as_str())
    }

    /// Whether a stored value is sealed (as opposed to written before sealing existed).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED_PREFIX)
    }

    /// `enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>` of `plaintext`.
    pub fn seal(&self, plaintext: &str, purpose: Purpose) -> Result<String> {
        let key = self.current.as_ref().ok_or(SealError::NoKey)?;
        let header = format!("{SEALED_PREFIX}{}:", key.id);
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let aad = format!("{header}{purpose}");
        let sealed = key
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| SealError::Sealing { purpose })?;
        let mut body = Vec::with_capacity(NONCE_BYTES + sealed.len());
        body.extend_from_slice(&nonce);
        body.extend_from_slice(&sealed);
        Ok(format!("{header}{}", URL_SAFE_NO_PAD.encode(body)))
    }

    /// The plaintext of a stored value: opened with the key its header names, or as is when it
    /// was written before sealing existed.
    pub fn open(&self, stored: &str, purpose: Purpose) -> Result<String> {
        let Some(rest) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_string());
        };
        let (key_id, body) = rest.split_once(':').ok_or_else(|| damaged(purpose))?;
        let key = self.key(key_id).ok_or_else(|| SealError::UnknownKey {
            purpose,
            key_id: key_id.to_string(),
        })?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| damaged(purpose))?;
        if body.len() < NONCE_BYTES {
            return Err(damaged(purpose));
        }
        let (nonce, sealed) = body.split_at(NONCE_BYTES);
        let aad = format!("{SEALED_PREFIX}{key_id}:{purpose}");
        let plain = key
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| damaged(purpose))?;
        String::from_utf8(plain).map_err(|_| damaged(purpose))
    }

    /// The value sealed with the current key, or `None` when it already is.
    pub fn reseal(&self, stored: &str, purpose: Purpose) -> Result<Option<String>> {
        if let (Some(id), Some(rest)) = (self.key_id(), stored.strip_prefix(SEALED_PREFIX))
            && rest.strip_prefix(id).is_some_and(|r| r.starts_with(':'))
        {
            return Ok(None);
        }
        let plain = self.open(stored, purpose)?;
        self.seal(&plain, purpose).map(Some)
    }

    /// `seal` of an optional value.
    pub fn seal_opt(&self, plaintext: Option<&str>, purpose: Purpose) -> Result<Option<String>> {
        plaintext.map(|p| self.seal(p, purpose)).transpose()
    }

    /// `open` of an optional value.
    pub fn open_opt(&self, stored: Option<&str>, purpose: Purpose) -> Result<Option<String>> {
        stored.map(|s| self.open(s, purpose)).transpose()
    }

    fn key(&self, id: &str) -> Option<&SealingKey> {
        self.current
            .as_deref()
            .filter(|k| k.id == id)
            .or_else(|| self.previous.iter().find(|k| k.id == id))
    }
}

fn damaged(purpose: Purpose) -> SealError {
    SealError::Damaged { purpose }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> String {
        format!("{s}-{}", "x".repeat(40))
    }

    const PURPOSE: Purpose = "webhook_subscriptions.secret";

    #[test]
    fn sealed_values_open_and_describe_themselves() {
        let sealer = SecretBox::new(Some(&secret("a")), &[]);
        let id = sealer.key_id().unwrap().to_string();
        assert_eq!(id.len(), 16);
        let sealed = sealer.seal("whsec_abc", PURPOSE).unwrap();
        assert!(sealed.starts_with(&format!("enc:v1:{id}:")), "{sealed}");
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(sealer.open(&sealed, PURPOSE).unwrap(), "whsec_abc");
        // Random nonces: the same secret never seals to the same text twice.
        assert_ne!(sealed, sealer.seal("whsec_abc", PURPOSE).unwrap());
        // The same server secret derives the same key (another process, a restart).
        let again = SecretBox::new(Some(&secret("a")), &[]);
        assert_eq!(again.open(&sealed, PURPOSE).unwrap(), "whsec_abc");
        assert_eq!(sealer.reseal(&sealed, PURPOSE).unwrap(), None);
        // Values from before sealing are read as they are, and re-sealed.
        assert_eq!(sealer.open("whsec_old", PURPOSE).unwrap(), "whsec_old");
        let resealed = sealer.reseal("whsec_old", PURPOSE).unwrap().unwrap();
        assert_eq!(sealer.open(&resealed, PURPOSE).unwrap(), "whsec_old");
    }

    #[test]
    fn tampering_another_field_or_key_does_not_open() {
        let sealer = SecretBox::new(Some(&secret("a")), &[]);
        let sealed = sealer.seal("s3cret", PURPOSE).unwrap();
        assert!(
            sealer
                .open(&sealed, "callback_secrets.hmac_secret")
                .is_err()
        );
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert!(
            sealer
                .open(&String::from_utf8(flipped).unwrap(), PURPOSE)
                .is_err()
        );
        assert!(sealer.open("enc:v1:nokey", PURPOSE).is_err());
        assert!(
            sealer
                .open("enc:v1:0000000000000000:AAAA", PURPOSE)
                .is_err()
        );
        let other = SecretBox::new(Some(&secret("b")), &[]);
        let err = other.open(&sealed, PURPOSE).unwrap_err().to_string();
        assert!(err.contains("previous_secret_keys"), "{err}");
    }

    #[test]
    fn rotation_opens_old_values_and_seals_under_the_new_key() {
        let old = SecretBox::new(Some(&secret("a")), &[]);
        let sealed_old = old.seal("hmac-secret", PURPOSE).unwrap();
        let rotating = SecretBox::new(Some(&secret("b")), &[&secret("a"), &secret("b")]);
        assert_eq!(rotating.open(&sealed_old, PURPOSE).unwrap(), "hmac-secret");
        let resealed = rotating.reseal(&sealed_old, PURPOSE).unwrap().unwrap();
        assert!(resealed.starts_with(&format!("enc:v1:{}:", rotating.key_id().unwrap())));
        let new_only = SecretBox::new(Some(&secret("b")), &[]);
        assert_eq!(new_only.open(&resealed, PURPOSE).unwrap(), "hmac-secret");
        assert!(new_only.open(&sealed_old, PURPOSE).is_err());
        assert!(format!("{rotating:?}").contains(old.key_id().unwrap()));
    }

    #[test]
    fn without_a_key_nothing_is_sealed_but_old_values_still_read() {
        let keyless = SecretBox::default();
        assert_eq!(keyless.seal("x", PURPOSE), Err(SealError::NoKey));
        assert_eq!(keyless.open("plain", PURPOSE).unwrap(), "plain");
        let decrypt_only = SecretBox::new(None, &[&secret("a")]);
        let sealed = SecretBox::new(Some(&secret("a")), &[])
            .seal("x", PURPOSE)
            .unwrap();
        assert_eq!(decrypt_only.open(&sealed, PURPOSE).unwrap(), "x");
    }
}
