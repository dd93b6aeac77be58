//! `SiteStore`: an account's sites and SIP peers. The rows, statements and the default-peer
//! rule are `numbers_store_sql::site_rows`; the partial unique index
//! `sip_peers_one_default_per_site` backs the rule. The one writer makes each call's reads and
//! writes atomic without locks.

use async_trait::async_trait;
use numbers_core::clock::Timestamp;
use numbers_core::error::{ConflictKind, Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::site::{PeerFields, SipPeer, Site, SiteFields};
use numbers_core::store::SiteStore;
use numbers_store_sql::site_rows::{self as sql, PEER_NAME_KEY};
use rusqlite::Connection;

use crate::SqliteStore;
use crate::statements::{execute, query, query_opt, query_unique};

fn load_site(conn: &Connection, account: AccountId, id: i64) -> Result<Option<Site>> {
    query_opt(conn, &sql::select_site(account, id))
}

/// The peers of `account`'s site `site_id`; None if it has no such site.
fn site_peers(conn: &Connection, account: AccountId, site_id: i64) -> Result<Option<Vec<SipPeer>>> {
    if load_site(conn, account, site_id)?.is_none() {
        return Ok(None);
    }
    query(conn, &sql::select_peers(site_id)).map(Some)
}

fn name_taken() -> Error {
    Error::conflict(
        ConflictKind::PeerNameTaken,
        "a SIP peer with this name already exists in the site",
    )
}

/// Writes the default flag `site_rows::settle_default` decides; whether the peer is default.
fn settle_default(
    conn: &Connection,
    peers: &[SipPeer],
    peer_id: Option<i64>,
    asked: bool,
) -> Result<bool> {
    let (is_default, clear) = sql::settle_default(peers, peer_id, asked);
    if let Some(clear) = clear {
        execute(conn, &clear)?;
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
        let stmt = sql::insert_site(account, fields, now)?;
        self.write(move |tx| {
            query_opt(tx, &stmt)?.ok_or_else(|| Error::internal("inserted site vanished"))
        })
        .await
    }

    async fn get_site(&self, account: AccountId, id: i64) -> Result<Option<Site>> {
        self.read(move |tx| load_site(tx, account, id)).await
    }

    async fn list_sites(&self, account: AccountId) -> Result<Vec<Site>> {
        self.read(move |tx| query(tx, &sql::list_sites(account)))
            .await
    }

    async fn update_site(
        &self,
        account: AccountId,
        id: i64,
        fields: &SiteFields,
        now: Timestamp,
    ) -> Result<Option<Site>> {
        let stmt = sql::update_site(account, id, fields, now)?;
        self.write(move |tx| query_opt(tx, &stmt)).await
    }

    async fn delete_site(&self, account: AccountId, id: i64) -> Result<bool> {
        self.write(move |tx| match site_peers(tx, account, id)? {
            None => Ok(false),
            Some(peers) if !peers.is_empty() => Err(Error::conflict(
                ConflictKind::SiteHasPeers,
                "a site can only be deleted when it has no SIP peers",
            )),
            Some(_) => Ok(execute(tx, &sql::delete_site(id))? > 0),
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
            let Some(peers) = site_peers(tx, account, site_id)? else {
                return Ok(None);
            };
            let is_default = settle_default(tx, &peers, None, fields.is_default)?;
            let insert = sql::insert_peer(account, site_id, &fields, is_default, now);
            query_unique(tx, &insert, PEER_NAME_KEY, name_taken)
        })
        .await
    }

    async fn list_peers(&self, account: AccountId, site_id: i64) -> Result<Option<Vec<SipPeer>>> {
        self.read(move |tx| site_peers(tx, account, site_id)).await
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
            let peers = site_peers(tx, account, site_id)?.unwrap_or_default();
            if !peers.iter().any(|p| p.id == peer_id) {
                return Ok(None);
            }
            let is_default = settle_default(tx, &peers, Some(peer_id), fields.is_default)?;
            let update = sql::update_peer(peer_id, &fields, is_default, now);
            query_unique(tx, &update, PEER_NAME_KEY, name_taken)
        })
        .await
    }

    async fn delete_peer(&self, account: AccountId, site_id: i64, peer_id: i64) -> Result<bool> {
        self.write(move |tx| {
            if load_site(tx, account, site_id)?.is_none() {
                return Ok(false);
            }
            Ok(execute(tx, &sql::delete_peer(site_id, peer_id))? == 1)
        })
        .await
    }
}
