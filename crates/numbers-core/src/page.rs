//! Keyset pagination. Tokens are opaque to clients (base64url, no padding, so they survive
//! un-encoded in a query string) and carry the last key of the previous page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::Error;

pub const DEFAULT_PAGE_SIZE: u32 = 50;

pub fn encode_token(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_key.as_bytes())
}

pub fn decode_token(token: &str, field: &str) -> Result<String, Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim().trim_end_matches('='))
        .map_err(|_| Error::invalid(field, "is not a page token this server issued"))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::invalid(field, "is not a page token this server issued"))
}

/// A token whose key is an id (orders, number orders…): that id, or an error naming `field`.
pub fn decode_id_token<T: std::str::FromStr>(token: &str, field: &str) -> Result<T, Error> {
    decode_token(token, field)?
        .parse::<T>()
        .map_err(|_| Error::invalid(field, "is not a page token this server issued"))
}

/// One page of results and the token for the next, if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `size + 1` fetched rows: the extra row only proves there is more.
    pub fn from_overfetch(mut rows: Vec<T>, size: u32, key: impl Fn(&T) -> String) -> Self {
        let size = size as usize;
        let next_page_token = if rows.len() > size {
            rows.truncate(size);
            rows.last().map(|last| encode_token(&key(last)))
        } else {
            None
        };
        Page {
            items: rows,
            next_page_token,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_page_token: self.next_page_token,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = encode_token("+12065550100");
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(decode_token(&t, "page_token").unwrap(), "+12065550100");
        assert!(decode_token("%%%", "page_token").is_err());
    }

    #[test]
    fn overfetch_yields_a_token_only_when_more_exist() {
        let p = Page::from_overfetch(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(
            p.next_page_token
                .as_deref()
                .map(|t| decode_token(t, "t").unwrap()),
            Some("2".into())
        );
        assert_eq!(
            Page::from_overfetch(vec![1, 2], 2, |n| n.to_string()).next_page_token,
            None
        );
    }
}

#[cfg(test)]
mod properties {
    //! Page tokens travel through clients' query strings: every key the server encodes decodes
    //! to itself, and whatever a client sends instead is refused naming the field, never a panic.
    use proptest::prelude::*;

    use super::{decode_id_token, decode_token, encode_token};
    use crate::error::Error;
    use crate::ids::OrderId;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn every_key_round_trips(key in "\\PC{0,60}") {
            let token = encode_token(&key);
            // Safe in a query string without encoding.
            prop_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            prop_assert_eq!(decode_token(&token, "page_token").unwrap(), key);
        }

        #[test]
        fn padded_or_spaced_tokens_still_decode(key in "[+0-9a-z]{0,40}", pad in "={0,2}") {
            let token = format!(" {}{pad} ", encode_token(&key));
            prop_assert_eq!(decode_token(&token, "page_token").unwrap(), key);
        }

        #[test]
        fn any_text_decodes_or_is_refused_naming_the_field(s in "\\PC{0,60}") {
            match decode_token(&s, "page_token") {
                Ok(_) | Err(Error::Validation(_)) => {}
                Err(other) => prop_assert!(false, "not a field error: {other:?}"),
            }
            if let Err(Error::Validation(errors)) = decode_id_token::<OrderId>(&s, "page_token") {
                prop_assert!(errors.iter().all(|e| e.field == "page_token"));
            }
        }

        #[test]
        fn id_tokens_round_trip(bits in any::<u128>()) {
            let id = OrderId(uuid::Uuid::from_u128(bits));
            let token = encode_token(&id.to_string());
            prop_assert_eq!(decode_id_token::<OrderId>(&token, "page_token").unwrap(), id);
        }
    }
}
