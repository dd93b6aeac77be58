//! An account's numbers in display-name order (Sinch's `orderBy=displayName` on active numbers):
//! ascending by display name (unset sorts as the empty name, first), then by E.164, with a keyset
//! token carrying both. The stores list an account's numbers in E.164 order only, so this reads
//! every number that matches the filter and sorts them here; that is bounded by
//! `DISPLAY_NAME_ORDER_LIMIT`, beyond which the caller is told to narrow the filter. An account's
//! own numbers are few next to the inventory, and no index or migration is needed for it.

use crate::error::{Error, FieldErrorKind, Result};
use crate::ids::AccountId;
use crate::number::Number;
use crate::page::{Page, decode_token, encode_token};
use crate::store::NumberFilter;

use super::Service;

/// The most numbers one display-name listing will sort.
pub const DISPLAY_NAME_ORDER_LIMIT: usize = 10_000;

/// Rows read per store call while collecting.
const CHUNK: u32 = 1000;

fn sort_key(n: &Number) -> (String, String) {
    (
        n.assignment.display_name.clone().unwrap_or_default(),
        n.e164.as_str().to_string(),
    )
}

/// The keyset token: the (display name, E.164) of the page's last number, as a JSON pair.
fn encode_key(key: &(String, String)) -> String {
    encode_token(&serde_json::json!([key.0, key.1]).to_string())
}

fn decode_key(token: &str, field: &str) -> Result<(String, String)> {
    serde_json::from_str(&decode_token(token, field)?)
        .map_err(|_| Error::invalid(field, "is not a page token this server issued"))
}

impl Service {
    /// One page of the account's numbers matching `filter` (whose own `after` is ignored) in
    /// display-name order, after the position `token` (from a previous page) names.
    pub async fn list_numbers_by_display_name(
        &self,
        account: AccountId,
        filter: &NumberFilter,
        token: Option<&str>,
        token_field: &str,
    ) -> Result<Page<Number>> {
        let after = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| decode_key(t, token_field))
            .transpose()?;
        let mut chunk = NumberFilter {
            page_size: CHUNK,
            after: None,
            ..filter.clone()
        };
        let mut all: Vec<Number> = Vec::new();
        loop {
            let mut rows = self.store.list_account_numbers(account, &chunk).await?;
            let more = rows.len() > CHUNK as usize;
            rows.truncate(CHUNK as usize);
            chunk.after = rows.last().map(|n| n.e164.as_str().to_string());
            all.extend(rows);
            if all.len() > DISPLAY_NAME_ORDER_LIMIT {
                return Err(Error::invalid_as(
                    FieldErrorKind::Unsupported,
                    "orderBy",
                    format!(
                        "ordering by displayName is limited to {DISPLAY_NAME_ORDER_LIMIT} \
                         numbers; narrow the filter or order by phoneNumber"
                    ),
                ));
            }
            if !more {
                break;
            }
        }
        all.sort_by_cached_key(sort_key);
        let rows: Vec<Number> = all
            .into_iter()
            .filter(|n| after.as_ref().is_none_or(|a| sort_key(n) > *a))
            .take(filter.page_size as usize + 1)
            .collect();
        let mut page = Page::from_overfetch(rows, filter.page_size, |_| String::new());
        if page.next_page_token.is_some() {
            page.next_page_token = page.items.last().map(|n| encode_key(&sort_key(n)));
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_whatever_the_name_holds() {
        for name in ["", "Sales", "a\"b,c]", "ünï 📞"] {
            let key = (name.to_string(), "+12065550100".to_string());
            let token = encode_key(&key);
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert_eq!(decode_key(&token, "pageToken").unwrap(), key);
        }
        assert!(decode_key(&encode_token("+12065550100"), "pageToken").is_err());
    }
}
