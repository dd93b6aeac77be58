//! `SiteStore`: an account's sites and SIP peers. The default-peer rule is
//! `site::becomes_default`; the partial unique index `sip_peers_one_default_per_site` backs it.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::site::{PeerFields, SipPeer, Site, SiteAddress, SiteFields, becomes_default};
use numbers_core::store::SiteStore;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::db::{DbResult, from_json, is_unique_violation, parse_id, to_json};

const SITE_COLUMNS: &str = "id, account_id, name, description, customer_name, customer_provided_id, address, created_at, updated_at";
const PEER_COLUMNS: &str =
    "id, site_id, account_id, name, description, is_default, created_at, updated_at";

type RawSite = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
);

fn raw_site(r: &Row<'_>) -> rusqlite::Result<RawSite> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}

fn site_from_raw(raw: RawSite) -> Result<Site> {
    let (
        id,
        account,
        name,
        description,
        customer_name,
        customer_provided_id,
        address,
        created,
        updated,
    ) = raw;
    let address: Option<SiteAddress> =
        address.map(|a| from_json("site address", &a)).transpose()?;
    Ok(Site {
        id,
        account: parse_id("account id", &account)?,
        fields: SiteFields {
            name,
            description,
            customer_name,
            customer_provided_id,
            address,
        },
        created_at: from_millis(created),
        updated_at: from_millis(updated),
    })
}

type RawPeer = (i64, i64, String, String, Option<String>, bool, i64, i64);

fn raw_peer(r: &Row<'_>) -> rusqlite::Result<RawPeer> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn peer_from_raw(raw: RawPeer) -> Result<SipPeer> {
    let (id, site_id, account, name, description, is_default, created, updated) = raw;
    Ok(SipPeer {
        id,
        site_id,
        account: parse_id("account id", &account)?,
        fields: PeerFields {
            name,
            description,
            is_default,
        },
        created_at: from_millis(created),
        updated_at: from_millis(updated),
    })
}

fn load_site(conn: &Connection, account: AccountId, id: i64) -> Result<Option<Site>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {SITE_COLUMNS} FROM sites WHERE id = ?1 AND account_id = ?2"
        ))
        .db()?;
    stmt.query_row(params![id, account.to_string()], raw_site)
        .optional()
        .db()?
        .map(site_from_raw)
        .transpose()
}

fn load_peers(conn: &Connection, site_id: i64) -> Result<Vec<SipPeer>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {PEER_COLUMNS} FROM sip_peers WHERE site_id = ?1 ORDER BY id"
        ))
        .db()?;
    let raw = stmt
        .query_map([site_id], raw_peer)
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    raw.into_iter().map(peer_from_raw).collect()
}

fn name_taken(e: rusqlite::Error) -> Error {
    if is_unique_violation(&e) && e.to_string().contains("sip_peers.name") {
        Error::conflict(
            numbers_core::error::ConflictKind::PeerNameTaken,
            "a SIP peer with this name already exists in the site",
        )
    } else {
        Error::internal(format!("sqlite: {e}"))
    }
}

/// Applies the default rule for `peer_id` (None: a new peer) and returns whether it is default.
fn settle_default(
    conn: &Connection,
    site_id: i64,
    peer_id: Option<i64>,
    asked: bool,
) -> Result<bool> {
    let other_default: Option<i64> = conn
        .query_row(
            "SELECT id FROM sip_peers WHERE site_id = ?1 AND is_default AND id IS NOT ?2",
            params![site_id, peer_id],
            |r| r.get(0),
        )
        .optional()
        .db()?;
    let is_default = becomes_default(asked, other_default.is_some());
    if is_default && let Some(other) = other_default {
        conn.execute(
            "UPDATE sip_peers SET is_default = FALSE WHERE id = ?1",
            [other],
        )
        .db()?;
    }
    Ok(is_default)
}

#[async_trait]
impl SiteStore for SqliteStore {
    async fn create_site(
        &self,
        account: AccountId,
        fields: &SiteFields,
        now: Timestamp,
    ) -> Result<Site> {
        let fields = fields.clone();
        self.write(move |tx| {
            let address = fields.address.as_ref().map(to_json).transpose()?;
            tx.execute(
                "INSERT INTO sites (account_id, name, description, customer_name, customer_provided_id, address, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![account.to_string(), fields.name, fields.description, fields.customer_name, fields.customer_provided_id, address, to_millis(now)],
            )
            .db()?;
            let id = tx.last_insert_rowid();
            load_site(tx, account, id)?.ok_or_else(|| Error::internal("inserted site vanished"))
        })
        .await
    }

    async fn get_site(&self, account: AccountId, id: i64) -> Result<Option<Site>> {
        self.read(move |tx| load_site(tx, account, id)).await
    }

    async fn list_sites(&self, account: AccountId) -> Result<Vec<Site>> {
        self.read(move |tx| {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT {SITE_COLUMNS} FROM sites WHERE account_id = ?1 ORDER BY id"
                ))
                .db()?;
            let raw = stmt
                .query_map([account.to_string()], raw_site)
                .db()?
                .collect::<rusqlite::Result<Vec<_>>>()
                .db()?;
            raw.into_iter().map(site_from_raw).collect()
        })
        .await
    }

    async fn update_site(
        &self,
        account: AccountId,
        id: i64,
        fields: &SiteFields,
        now: Timestamp,
    ) -> Result<Option<Site>> {
        let fields = fields.clone();
        self.write(move |tx| {
            let address = fields.address.as_ref().map(to_json).transpose()?;
            let changed = tx
                .execute(
                    "UPDATE sites SET name = ?3, description = ?4, customer_name = ?5, customer_provided_id = ?6, address = ?7, updated_at = ?8 \
                     WHERE id = ?1 AND account_id = ?2",
                    params![id, account.to_string(), fields.name, fields.description, fields.customer_name, fields.customer_provided_id, address, to_millis(now)],
                )
                .db()?;
            if changed == 0 {
                return Ok(None);
            }
            load_site(tx, account, id)
        })
        .await
    }

    async fn delete_site(&self, account: AccountId, id: i64) -> Result<bool> {
        self.write(move |tx| {
            if load_site(tx, account, id)?.is_none() {
                return Ok(false);
            }
            if !load_peers(tx, id)?.is_empty() {
                return Err(Error::conflict(
                    numbers_core::error::ConflictKind::SiteHasPeers,
                    "a site can only be deleted when it has no SIP peers",
                ));
            }
            tx.execute("DELETE FROM sites WHERE id = ?1", [id]).db()?;
            Ok(true)
        })
        .await
    }

    async fn create_peer(
        &self,
        account: AccountId,
        site_id: i64,
        fields: &PeerFields,
        now: Timestamp,
    ) -> Result<Option<SipPeer>> {
        let fields = fields.clone();
        self.write(move |tx| {
            if load_site(tx, account, site_id)?.is_none() {
                return Ok(None);
            }
            let is_default = settle_default(tx, site_id, None, fields.is_default)?;
            tx.execute(
                "INSERT INTO sip_peers (site_id, account_id, name, description, is_default, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![site_id, account.to_string(), fields.name, fields.description, is_default, to_millis(now)],
            )
            .map_err(name_taken)?;
            let id = tx.last_insert_rowid();
            Ok(load_peers(tx, site_id)?.into_iter().find(|p| p.id == id))
        })
        .await
    }

    async fn get_peer(
        &self,
        account: AccountId,
        site_id: i64,
        peer_id: i64,
    ) -> Result<Option<SipPeer>> {
        self.read(move |tx| {
            if load_site(tx, account, site_id)?.is_none() {
                return Ok(None);
            }
            Ok(load_peers(tx, site_id)?
                .into_iter()
                .find(|p| p.id == peer_id))
        })
        .await
    }

    async fn list_peers(&self, account: AccountId, site_id: i64) -> Result<Option<Vec<SipPeer>>> {
        self.read(move |tx| {
            if load_site(tx, account, site_id)?.is_none() {
                return Ok(None);
            }
            load_peers(tx, site_id).map(Some)
        })
        .await
    }

    async fn update_peer(
        &self,
        account: AccountId,
        site_id: i64,
        peer_id: i64,
        fields: &PeerFields,
        now: Timestamp,
    ) -> Result<Option<SipPeer>> {
        let fields = fields.clone();
        self.write(move |tx| {
            if load_site(tx, account, site_id)?.is_none() || !load_peers(tx, site_id)?.iter().any(|p| p.id == peer_id) {
                return Ok(None);
            }
            let is_default = settle_default(tx, site_id, Some(peer_id), fields.is_default)?;
            tx.execute(
                "UPDATE sip_peers SET name = ?2, description = ?3, is_default = ?4, updated_at = ?5 WHERE id = ?1",
                params![peer_id, fields.name, fields.description, is_default, to_millis(now)],
            )
            .map_err(name_taken)?;
            Ok(load_peers(tx, site_id)?.into_iter().find(|p| p.id == peer_id))
        })
        .await
    }

    async fn delete_peer(&self, account: AccountId, site_id: i64, peer_id: i64) -> Result<bool> {
        self.write(move |tx| {
            if load_site(tx, account, site_id)?.is_none() {
                return Ok(false);
            }
            let deleted = tx
                .execute(
                    "DELETE FROM sip_peers WHERE id = ?1 AND site_id = ?2",
                    params![peer_id, site_id],
                )
                .db()?;
            Ok(deleted == 1)
        })
        .await
    }
}
