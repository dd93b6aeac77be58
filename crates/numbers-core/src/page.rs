//! Keyset pagination. Tokens are opaque to clients (base64url, no padding, so they survive
//! un-encoded in a query string) and carry the last key of the previous page; a number key can
//! also travel as a UUID for doors whose vendor types tokens as UUIDs.

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

/// "nbnk" (numbersd number key): marks the UUID-shaped tokens this server issued.
const UUID_TOKEN_MARK: u128 = 0x6e62_6e6b;
/// The low 50 bits carry the digits (15 decimal digits < 2^50), the next 4 their count.
const UUID_TOKEN_VALUE_BITS: u32 = 50;

/// The same token in UUID form, for a door whose vendor types page tokens as `format: uuid`
/// (MessageMedia): typed clients generated from its spec refuse anything else. Only tokens whose
/// key is an E.164 number (number listings) fit in 128 bits; any other gives `None`.
///
/// Layout (a version-8 "custom" UUID, RFC 9562): the mark in the top 32 bits, version 8,
/// variant `10`, the digit count and the digits as an integer; every other bit zero. Still an
/// opaque keyset: the key is the last number of the page, as in the base64url form.
pub fn uuid_token(token: &str) -> Option<String> {
    let key = decode_token(token, "token").ok()?;
    let digits = key.strip_prefix('+')?;
    if !(1..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u128 = digits.parse().ok()?;
    let bits = (UUID_TOKEN_MARK << 96)
        | (0x8 << 76)
        | (0b10 << 62)
        | ((digits.len() as u128) << UUID_TOKEN_VALUE_BITS)
        | value;
    Some(uuid::Uuid::from_u128(bits).hyphenated().to_string())
}

/// The base64url token a UUID-form token (`uuid_token`) stands for; anything that is not one
/// this server issued is refused naming `field`.
pub fn token_from_uuid(raw: &str, field: &str) -> Result<String, Error> {
    let refused = || Error::invalid(field, "is not a page token this server issued");
    let bits = uuid::Uuid::parse_str(raw.trim())
        .map_err(|_| refused())?
        .as_u128();
    let count = ((bits >> UUID_TOKEN_VALUE_BITS) & 0xf) as usize;
    let value = bits & ((1u128 << UUID_TOKEN_VALUE_BITS) - 1);
    let expected = (UUID_TOKEN_MARK << 96)
        | (0x8 << 76)
        | (0b10 << 62)
        | ((count as u128) << UUID_TOKEN_VALUE_BITS)
        | value;
    if bits != expected || !(1..=15).contains(&count) || value >= 10u128.pow(count as u32) {
        return Err(refused());
    }
    Ok(encode_token(&format!("+{value:0count$}")))
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
    fn uuid_tokens_stand_for_number_keys_and_refuse_other_uuids() {
        let token = encode_token("+61438000103");
        let uuid = uuid_token(&token).unwrap();
        let parsed = uuid::Uuid::parse_str(&uuid).unwrap();
        assert_eq!(parsed.get_version_num(), 8);
        assert_eq!(parsed.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(token_from_uuid(&uuid, "token").unwrap(), token);
        // Leading zeros and the longest E.164 survive.
        for key in ["+0012", "+999999999999999", "+1"] {
            let t = encode_token(key);
            assert_eq!(
                token_from_uuid(&uuid_token(&t).unwrap(), "token").unwrap(),
                t
            );
        }
        // Keys that are no numbers have no UUID form.
        assert_eq!(uuid_token(&encode_token("0193a0b2-0000")), None);
        assert_eq!(uuid_token(&encode_token("+1234567890123456")), None);
        // A random UUID, the spec's example and garbage are refused naming the field.
        for raw in [
            "0428d673-0f75-4063-9493-e89d75f13438",
            &uuid::Uuid::new_v4().to_string(),
            "not-a-uuid",
        ] {
            assert!(matches!(
                token_from_uuid(raw, "token"),
                Err(Error::Validation(e)) if e[0].field == "token"
            ));
        }
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
