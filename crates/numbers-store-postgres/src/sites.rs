//! `SiteStore`: an account's sites and SIP peers. The rows, statements and the default-peer
//! rule are `numbers_store_sql::site_rows`; the partial unique index
//! `sip_peers_one_default_per_site` backs the rule. Peer writes lock the site row first, so the
//! rule sees a stable set of peers.

use async_trait::async_trait;
use numbers_core::clock::Timestamp;
use numbers_core::error::{ConflictKind, Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::site::{PeerFields, SipPeer, Site, SiteFields};
use numbers_core::store::SiteStore;
use numbers_store_sql::site_rows::{self as sql, PEER_NAME_KEY};

use crate::statements::{Client, execute, for_update, query, query_opt, query_unique};
use crate::{PostgresStore, db_err};

/// `account`'s site `id`, locked until the transaction ends when `lock`.
async fn load_site(
    c: &impl Client,
    account: AccountId,
    id: i64,
    lock: bool,
) -> Result<Option<Site>> {
    let select = sql::select_site(account, id);
    query_opt(c, &if lock { for_update(select) } else { select }).await
}

/// The peers of `account`'s site `site_id` (the site locked when `lock`); None if it has no
/// such site.
async fn site_peers(
    c: &impl Client,
    account: AccountId,
    site_id: i64,
    lock: bool,
) -> Result<Option<Vec<SipPeer>>> {
    if load_site(c, account, site_id, lock).await?.is_none() {
        return Ok(None);
    }
    query(c, &sql::select_peers(site_id)).await.map(Some)
}

fn name_taken() -> Error {
    Error::conflict(
        ConflictKind::PeerNameTaken,
        "a SIP peer with this name already exists in the site",
    )
}

/// Writes the default flag `site_rows::settle_default` decides; whether the peer is default.
async fn settle_default(
    c: &impl Client,
    peers: &[SipPeer],
    peer_id: Option<i64>,
    asked: bool,
) -> Result<bool> {
    let (is_default, clear) = sql::settle_default(peers, peer_id, asked);
    if let Some(clear) = clear {
        execute(c, &clear).await?;
    }
    Ok(is_default)
}

#[async_trait]
impl SiteStore for PostgresStore {
    async fn create_site(
        &self,
        account: AccountId,
        fields: &SiteFields,
        now: Timestamp,
    ) -> Result<Site> {
        let insert = sql::insert_site(account, fields, now)?;
        query_opt(&**self.client().await?, &insert)
            .await?
            .ok_or_else(|| Error::internal("inserted site vanished"))
    }

    async fn get_site(&self, account: AccountId, id: i64) -> Result<Option<Site>> {
        load_site(&**self.client().await?, account, id, false).await
    }

    async fn list_sites(&self, account: AccountId) -> Result<Vec<Site>> {
        query(&**self.client().await?, &sql::list_sites(account)).await
    }

    async fn update_site(
        &self,
        account: AccountId,
        id: i64,
        fields: &SiteFields,
        now: Timestamp,
    ) -> Result<Option<Site>> {
        let update = sql::update_site(account, id, fields, now)?;
        query_opt(&**self.client().await?, &update).await
    }

    async fn delete_site(&self, account: AccountId, id: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let deleted = match site_peers(&*tx, account, id, true).await? {
            None => return Ok(false),
            Some(peers) if !peers.is_empty() => {
                return Err(Error::conflict(
                    ConflictKind::SiteHasPeers,
                    "a site can only be deleted when it has no SIP peers",
                ));
            }
            Some(_) => execute(&*tx, &sql::delete_site(id)).await? > 0,
        };
        tx.commit().await.map_err(db_err)?;
        Ok(deleted)
    }

    async fn create_peer(
        &self,
        account: AccountId,
        site_id: i64,
        fields: &PeerFields,
        now: Timestamp,
    ) -> Result<Option<SipPeer>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let Some(peers) = site_peers(&*tx, account, site_id, true).await? else {
            return Ok(None);
        };
        let is_default = settle_default(&*tx, &peers, None, fields.is_default).await?;
        let insert = sql::insert_peer(account, site_id, fields, is_default, now);
        let peer = query_unique(&*tx, &insert, PEER_NAME_KEY, name_taken).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(peer)
    }

    async fn list_peers(&self, account: AccountId, site_id: i64) -> Result<Option<Vec<SipPeer>>> {
        site_peers(&**self.client().await?, account, site_id, false).await
    }

    async fn update_peer(
        &self,
        account: AccountId,
        site_id: i64,
        peer_id: i64,
        fields: &PeerFields,
        now: Timestamp,
    ) -> Result<Option<SipPeer>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        let peers = site_peers(&*tx, account, site_id, true)
            .await?
            .unwrap_or_default();
        if !peers.iter().any(|p| p.id == peer_id) {
            return Ok(None);
        }
        let is_default = settle_default(&*tx, &peers, Some(peer_id), fields.is_default).await?;
        let update = sql::update_peer(peer_id, fields, is_default, now);
        let peer = query_unique(&*tx, &update, PEER_NAME_KEY, name_taken).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(peer)
    }

    async fn delete_peer(&self, account: AccountId, site_id: i64, peer_id: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        if load_site(&*tx, account, site_id, true).await?.is_none() {
            return Ok(false);
        }
        let deleted = execute(&*tx, &sql::delete_peer(site_id, peer_id)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(deleted == 1)
    }
}
