//! `sites` and `sip_peers` (migration 0004) for both stores: their columns, the mapping of a row
//! to `Site` / `SipPeer`, every statement the `SiteStore` calls run (writes answer the written
//! row with `RETURNING`, which both databases have), and which other peer stops being the
//! default when one is written (`settle_default`, after `site::becomes_default`).

use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::Result;
use numbers_core::ids::AccountId;
use numbers_core::site::{PeerFields, SipPeer, Site, SiteAddress, SiteFields, becomes_default};

use crate::statement::{FromRow, SqlRow, Statement, UniqueKey, from_json, parse_id, to_json};

pub const SITE_COLUMNS: &str = "id, account_id, name, description, customer_name, \
     customer_provided_id, address, created_at, updated_at";
pub const PEER_COLUMNS: &str =
    "id, site_id, account_id, name, description, is_default, created_at, updated_at";

/// A peer's name is unique within its site.
pub const PEER_NAME_KEY: UniqueKey = UniqueKey {
    constraint: "sip_peers_site_name_key",
    columns: "sip_peers.name",
};

impl FromRow for Site {
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        let address: Option<SiteAddress> = row
            .opt_text(6)?
            .map(|a| from_json("site address", &a))
            .transpose()?;
        Ok(Site {
            id: row.int(0)?,
            account: parse_id("account id", &row.text(1)?)?,
            fields: SiteFields {
                name: row.text(2)?,
                description: row.opt_text(3)?,
                customer_name: row.opt_text(4)?,
                customer_provided_id: row.opt_text(5)?,
                address,
            },
            created_at: from_millis(row.int(7)?),
            updated_at: from_millis(row.int(8)?),
        })
    }
}

impl FromRow for SipPeer {
    fn from_row(row: &impl SqlRow) -> Result<Self> {
        Ok(SipPeer {
            id: row.int(0)?,
            site_id: row.int(1)?,
            account: parse_id("account id", &row.text(2)?)?,
            fields: PeerFields {
                name: row.text(3)?,
                description: row.opt_text(4)?,
                is_default: row.bool(5)?,
            },
            created_at: from_millis(row.int(6)?),
            updated_at: from_millis(row.int(7)?),
        })
    }
}

/// Binds the writable fields of a site, in the order `insert_site` and `update_site` name them.
fn bind_site_fields(stmt: Statement, fields: &SiteFields) -> Result<Statement> {
    let address = fields.address.as_ref().map(to_json).transpose()?;
    Ok(stmt
        .bind(&fields.name)
        .bind(fields.description.clone())
        .bind(fields.customer_name.clone())
        .bind(fields.customer_provided_id.clone())
        .bind(address))
}

pub fn insert_site(account: AccountId, fields: &SiteFields, now: Timestamp) -> Result<Statement> {
    let stmt = Statement::new(format!(
        "INSERT INTO sites (account_id, name, description, customer_name, customer_provided_id, \
         address, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         RETURNING {SITE_COLUMNS}"
    ))
    .bind(account.to_string());
    Ok(bind_site_fields(stmt, fields)?.bind(to_millis(now)))
}

/// The site `id` of `account`.
pub fn select_site(account: AccountId, id: i64) -> Statement {
    Statement::new(format!(
        "SELECT {SITE_COLUMNS} FROM sites WHERE id = $1 AND account_id = $2"
    ))
    .bind(id)
    .bind(account.to_string())
}

pub fn list_sites(account: AccountId) -> Statement {
    Statement::new(format!(
        "SELECT {SITE_COLUMNS} FROM sites WHERE account_id = $1 ORDER BY id"
    ))
    .bind(account.to_string())
}

pub fn update_site(
    account: AccountId,
    id: i64,
    fields: &SiteFields,
    now: Timestamp,
) -> Result<Statement> {
    let stmt = Statement::new(format!(
        "UPDATE sites SET name = $3, description = $4, customer_name = $5, \
         customer_provided_id = $6, address = $7, updated_at = $8 \
         WHERE id = $1 AND account_id = $2 RETURNING {SITE_COLUMNS}"
    ))
    .bind(id)
    .bind(account.to_string());
    Ok(bind_site_fields(stmt, fields)?.bind(to_millis(now)))
}

pub fn delete_site(id: i64) -> Statement {
    Statement::new("DELETE FROM sites WHERE id = $1").bind(id)
}

/// Every peer of a site, oldest first.
pub fn select_peers(site_id: i64) -> Statement {
    Statement::new(format!(
        "SELECT {PEER_COLUMNS} FROM sip_peers WHERE site_id = $1 ORDER BY id"
    ))
    .bind(site_id)
}

pub fn insert_peer(
    account: AccountId,
    site_id: i64,
    fields: &PeerFields,
    is_default: bool,
    now: Timestamp,
) -> Statement {
    Statement::new(format!(
        "INSERT INTO sip_peers (site_id, account_id, name, description, is_default, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {PEER_COLUMNS}"
    ))
    .bind(site_id)
    .bind(account.to_string())
    .bind(&fields.name)
    .bind(fields.description.clone())
    .bind(is_default)
    .bind(to_millis(now))
}

pub fn update_peer(
    peer_id: i64,
    fields: &PeerFields,
    is_default: bool,
    now: Timestamp,
) -> Statement {
    Statement::new(format!(
        "UPDATE sip_peers SET name = $2, description = $3, is_default = $4, updated_at = $5 \
         WHERE id = $1 RETURNING {PEER_COLUMNS}"
    ))
    .bind(peer_id)
    .bind(&fields.name)
    .bind(fields.description.clone())
    .bind(is_default)
    .bind(to_millis(now))
}

pub fn delete_peer(site_id: i64, peer_id: i64) -> Statement {
    Statement::new("DELETE FROM sip_peers WHERE id = $1 AND site_id = $2")
        .bind(peer_id)
        .bind(site_id)
}

/// Whether peer `peer_id` (None: a new one) of a site with `peers` is its default when the
/// client `asked` for it, and the statement taking the flag from the peer that had it, if
/// another one did and must give it up.
pub fn settle_default(
    peers: &[SipPeer],
    peer_id: Option<i64>,
    asked: bool,
) -> (bool, Option<Statement>) {
    let other_default = peers
        .iter()
        .find(|p| p.fields.is_default && Some(p.id) != peer_id);
    let is_default = becomes_default(asked, other_default.is_some());
    let clear = other_default.filter(|_| is_default).map(|other| {
        Statement::new("UPDATE sip_peers SET is_default = FALSE WHERE id = $1").bind(other.id)
    });
    (is_default, clear)
}
