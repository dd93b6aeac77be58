//! Per-account callback settings: the HMAC secret that signs the callbacks posted about an
//! account's numbers (Sinch's project-wide `hmacSecret`). The server needs the secret itself —
//! it is a signing key, not a password — so it is stored sealed (`sealing`), not hashed, and
//! only ever shown to its own account.

use serde::{Deserialize, Serialize};

use crate::error::Error;

pub const HMAC_SECRET_MIN_CHARS: usize = 32;
pub const HMAC_SECRET_MAX_CHARS: usize = 64;

/// 32 to 64 characters of `[A-Za-z0-9-]` (Sinch's `^[a-zA-Z0-9-]{32,64}$`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HmacSecret(String);

impl HmacSecret {
    pub fn parse(s: &str, field: &str) -> Result<Self, Error> {
        let len = s.chars().count();
        if !(HMAC_SECRET_MIN_CHARS..=HMAC_SECRET_MAX_CHARS).contains(&len)
            || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(Error::invalid(
                field,
                format!(
                    "must be {HMAC_SECRET_MIN_CHARS} to {HMAC_SECRET_MAX_CHARS} characters of A-Z, a-z, 0-9 and '-' (^[a-zA-Z0-9-]{{32,64}}$)"
                ),
            ));
        }
        Ok(HmacSecret(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_pattern() {
        assert!(HmacSecret::parse(&"a".repeat(32), "s").is_ok());
        assert!(HmacSecret::parse(&"A-9".repeat(21), "s").is_ok());
        assert!(HmacSecret::parse(&"a".repeat(31), "s").is_err());
        assert!(HmacSecret::parse(&"a".repeat(65), "s").is_err());
        assert!(HmacSecret::parse(&format!("{}_", "a".repeat(32)), "s").is_err());
        assert!(HmacSecret::parse(&format!("{}é", "a".repeat(32)), "s").is_err());
    }
}
