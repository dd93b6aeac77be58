//! The stored columns that hold secrets, for both stores: each is sealed with the store's
//! `SecretBox` (purpose `table.column`, authenticated with the value) when a row is written and
//! opened when it is read (`webhook_rows`, `callback_secret`), and visited by the re-seal pass
//! (`SecretStore::reseal_secrets`) in key order, one field after the other. Adding a secret
//! column means adding it here; the pass and its tests then cover it.

use numbers_core::callback::HmacSecret;
use numbers_core::error::{Error, Result};
use numbers_core::sealing::{Purpose, SecretBox};
use numbers_core::store::{ResealCursor, ResealPage};

use numbers_core::clock::{Timestamp, to_millis};

use crate::statement::Statement;

/// A column holding a secret, and the key its rows are visited by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedField {
    pub table: &'static str,
    pub key: &'static str,
    pub column: &'static str,
    /// `table.column`: what the sealed value is, authenticated with it.
    pub purpose: Purpose,
}

macro_rules! field {
    ($table:literal, $key:literal, $column:literal) => {
        SealedField {
            table: $table,
            key: $key,
            column: $column,
            purpose: concat!($table, ".", $column),
        }
    };
}

pub const SUBSCRIPTION_SECRET: SealedField = field!("webhook_subscriptions", "id", "secret");
pub const SUBSCRIPTION_PREVIOUS_SECRET: SealedField =
    field!("webhook_subscriptions", "id", "previous_secret");
/// A format's configuration may hold credentials (Bandwidth's callback Basic password), so the
/// whole document is sealed.
pub const SUBSCRIPTION_FORMAT_CONFIG: SealedField =
    field!("webhook_subscriptions", "id", "format_config");
pub const DELIVERY_FORMAT_CONFIG: SealedField = field!("webhook_deliveries", "id", "format_config");
pub const DELIVERY_SIGNING_SECRET: SealedField =
    field!("webhook_deliveries", "id", "signing_secret");
pub const CALLBACK_HMAC_SECRET: SealedField =
    field!("callback_secrets", "account_id", "hmac_secret");

/// Every sealed column, in the order the re-seal pass visits them.
pub const SEALED_FIELDS: &[SealedField] = &[
    SUBSCRIPTION_SECRET,
    SUBSCRIPTION_PREVIOUS_SECRET,
    SUBSCRIPTION_FORMAT_CONFIG,
    CALLBACK_HMAC_SECRET,
    DELIVERY_FORMAT_CONFIG,
    DELIVERY_SIGNING_SECRET,
];

impl SealedField {
    /// `(key, value)` of the next `limit` rows after key `after`.
    pub fn page(&self, after: &str, limit: u32) -> Statement {
        Statement::new(format!(
            "SELECT {key}, {column} FROM {table} WHERE {key} > $1 AND {column} IS NOT NULL \
             ORDER BY {key} LIMIT $2",
            key = self.key,
            column = self.column,
            table = self.table,
        ))
        .bind(after)
        .bind(i64::from(limit))
    }

    /// Replaces a value if it is still the one read.
    pub fn update(&self, write: &ResealWrite) -> Statement {
        Statement::new(format!(
            "UPDATE {table} SET {column} = $1 WHERE {key} = $2 AND {column} = $3",
            table = self.table,
            column = self.column,
            key = self.key,
        ))
        .bind(&write.new)
        .bind(&write.key)
        .bind(&write.old)
    }
}

/// The field a cursor is in (the first one without a cursor); `None` past the last.
pub fn reseal_field(from: Option<&ResealCursor>) -> Option<(usize, SealedField, String)> {
    let (index, after) = match from {
        None => (0, String::new()),
        Some(c) => (c.field as usize, c.after.clone()),
    };
    SEALED_FIELDS.get(index).map(|field| (index, *field, after))
}

/// A value the re-seal pass replaces: in row `key`, `old` (as read) by `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResealWrite {
    pub key: String,
    pub old: String,
    pub new: String,
}

impl ResealWrite {
    /// Counts the write in the page once the store has applied it.
    pub fn count_in(&self, page: &mut ResealPage) {
        if SecretBox::is_sealed(&self.old) {
            page.resealed += 1;
        } else {
            page.sealed += 1;
        }
    }
}

/// One page of a re-seal pass over `rows` (`(key, stored value)` of field `index`, at most
/// `limit`): the values to write back, and the page (nothing counted yet: the store counts the
/// writes it applies) with the cursor after it.
pub fn reseal_rows(
    secrets: &SecretBox,
    index: usize,
    field: SealedField,
    rows: Vec<(String, String)>,
    limit: u32,
) -> Result<(Vec<ResealWrite>, ResealPage)> {
    let mut page = ResealPage {
        examined: rows.len() as u64,
        ..Default::default()
    };
    let full = rows.len() as u64 >= u64::from(limit);
    let last = rows.last().map(|(key, _)| key.clone());
    let mut writes = Vec::new();
    for (key, old) in rows {
        if let Some(new) = secrets.reseal(&old, field.purpose)? {
            writes.push(ResealWrite { key, old, new });
        }
    }
    page.next = match (full, last) {
        (true, Some(after)) => Some(ResealCursor {
            field: index as u32,
            after,
        }),
        _ if index + 1 < SEALED_FIELDS.len() => Some(ResealCursor {
            field: (index + 1) as u32,
            after: String::new(),
        }),
        _ => None,
    };
    Ok((writes, page))
}

/// The one-row table remembering the key a complete pass left everything sealed with.
pub const SEALED_WITH_NAME: &str = "sealed_with";

/// The key id a complete pass left everything sealed with (one nullable TEXT column).
pub fn select_sealed_with() -> Statement {
    Statement::new("SELECT key_id FROM secrets_at_rest WHERE name = $1").bind(SEALED_WITH_NAME)
}

/// Records that a complete pass left everything sealed with `key_id`.
pub fn update_sealed_with(key_id: &str, now: Timestamp) -> Statement {
    Statement::new("UPDATE secrets_at_rest SET key_id = $1, updated_at = $2 WHERE name = $3")
        .bind(key_id)
        .bind(to_millis(now))
        .bind(SEALED_WITH_NAME)
}

/// A stored HMAC secret, opened and parsed.
pub fn open_callback_secret(secrets: &SecretBox, stored: &str) -> Result<HmacSecret> {
    let plain = secrets.open(stored, CALLBACK_HMAC_SECRET.purpose)?;
    HmacSecret::parse(&plain, "hmac_secret")
        .map_err(|_| Error::internal("stored callback secret is malformed"))
}

/// An HMAC secret as stored.
pub fn seal_callback_secret(secrets: &SecretBox, secret: &HmacSecret) -> Result<String> {
    Ok(secrets.seal(secret.as_str(), CALLBACK_HMAC_SECRET.purpose)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbers_core::account::ServerSecret;

    #[test]
    fn a_pass_walks_every_field_and_seals_what_is_not_current() {
        let secret = ServerSecret::parse(&"k".repeat(40), "secret_key").unwrap();
        let secrets = numbers_core::sealing::secret_box(Some(&secret), &[]);
        let current = secrets
            .seal("whsec_b", SUBSCRIPTION_SECRET.purpose)
            .unwrap();
        let rows = vec![
            ("1".to_string(), "whsec_a".to_string()),
            ("2".to_string(), current),
        ];
        let (writes, mut page) = reseal_rows(&secrets, 0, SUBSCRIPTION_SECRET, rows, 2).unwrap();
        assert_eq!(page.examined, 2);
        assert_eq!(writes.len(), 1);
        assert_eq!(writes[0].old, "whsec_a");
        writes[0].count_in(&mut page);
        assert_eq!((page.sealed, page.resealed), (1, 0));
        assert_eq!(
            page.next,
            Some(ResealCursor {
                field: 0,
                after: "2".into()
            })
        );
        let (_, page) = reseal_rows(&secrets, 0, SUBSCRIPTION_SECRET, vec![], 2).unwrap();
        assert_eq!(page.next.unwrap().field, 1);
        let last = SEALED_FIELDS.len() - 1;
        let (_, page) = reseal_rows(&secrets, last, SEALED_FIELDS[last], vec![], 2).unwrap();
        assert_eq!(page.next, None);
        assert_eq!(
            SUBSCRIPTION_FORMAT_CONFIG.purpose,
            "webhook_subscriptions.format_config"
        );
        let update = SUBSCRIPTION_SECRET.update(&writes[0]);
        assert!(update.sql.ends_with("secret = $3"));
        assert_eq!(update.params.len(), 3);
    }
}
