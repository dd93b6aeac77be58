//! `SiteStore`: an account's sites and SIP peers. Peer writes lock the site row first, so the
//! default-peer rule (`site::becomes_default`) sees a stable set of peers; the partial unique
//! index `sip_peers_one_default_per_site` backs it.

use async_trait::async_trait;
use numbers_core::clock::{Timestamp, from_millis, to_millis};
use numbers_core::error::{Error, Result};
use numbers_core::ids::AccountId;
use numbers_core::site::{PeerFields, SipPeer, Site, SiteAddress, SiteFields, becomes_default};
use numbers_core::store::SiteStore;
use tokio_postgres::{GenericClient, Row};

use crate::rows::get;
use crate::{PostgresStore, db_err, unique_violation};

const SITE_COLUMNS: &str = "id, account_id, name, description, customer_name, customer_provided_id, address, created_at, updated_at";
const PEER_COLUMNS: &str =
    "id, site_id, account_id, name, description, is_default, created_at, updated_at";

fn site_from_row(row: &Row) -> Result<Site> {
    let account: String = get(row, 1)?;
    let address: Option<String> = get(row, 6)?;
    let address: Option<SiteAddress> = address
        .map(|a| serde_json::from_str(&a).map_err(Error::internal))
        .transpose()?;
    Ok(Site {
        id: get(row, 0)?,
        account: account.parse()?,
        fields: SiteFields {
            name: get(row, 2)?,
            description: get(row, 3)?,
            customer_name: get(row, 4)?,
            customer_provided_id: get(row, 5)?,
            address,
        },
        created_at: from_millis(get(row, 7)?),
        updated_at: from_millis(get(row, 8)?),
    })
}

fn peer_from_row(row: &Row) -> Result<SipPeer> {
    let account: String = get(row, 2)?;
    Ok(SipPeer {
        id: get(row, 0)?,
        site_id: get(row, 1)?,
        account: account.parse()?,
        fields: PeerFields {
            name: get(row, 3)?,
            description: get(row, 4)?,
            is_default: get(row, 5)?,
        },
        created_at: from_millis(get(row, 6)?),
        updated_at: from_millis(get(row, 7)?),
    })
}

async fn load_site<C: GenericClient + Sync>(
    c: &C,
    account: AccountId,
    id: i64,
    lock: bool,
) -> Result<Option<Site>> {
    let sql = format!(
        "SELECT {SITE_COLUMNS} FROM sites WHERE id = $1 AND account_id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.query_opt(sql.as_str(), &[&id, &account.to_string()])
        .await
        .map_err(db_err)?
        .as_ref()
        .map(site_from_row)
        .transpose()
}

async fn load_peers<C: GenericClient + Sync>(c: &C, site_id: i64) -> Result<Vec<SipPeer>> {
    let sql = format!("SELECT {PEER_COLUMNS} FROM sip_peers WHERE site_id = $1 ORDER BY id");
    c.query(sql.as_str(), &[&site_id])
        .await
        .map_err(db_err)?
        .iter()
        .map(peer_from_row)
        .collect()
}

fn name_taken(e: tokio_postgres::Error) -> Error {
    if unique_violation(&e) == Some("sip_peers_site_name_key") {
        Error::conflict(
            numbers_core::error::ConflictKind::PeerNameTaken,
            "a SIP peer with this name already exists in the site",
        )
    } else {
        db_err(e)
    }
}

/// Applies the default rule for `peer_id` (None: a new peer) and returns whether it is default.
async fn settle_default<C: GenericClient + Sync>(
    c: &C,
    peers: &[SipPeer],
    peer_id: Option<i64>,
    asked: bool,
) -> Result<bool> {
    let other_default = peers
        .iter()
        .find(|p| p.fields.is_default && Some(p.id) != peer_id);
    let is_default = becomes_default(asked, other_default.is_some());
    if is_default && let Some(other) = other_default {
        c.execute(
            "UPDATE sip_peers SET is_default = FALSE WHERE id = $1",
            &[&other.id],
        )
        .await
        .map_err(db_err)?;
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
        let client = self.client().await?;
        let address = fields
            .address
            .as_ref()
            .map(|a| serde_json::to_string(a).map_err(Error::internal))
            .transpose()?;
        let sql = format!(
            "INSERT INTO sites (account_id, name, description, customer_name, customer_provided_id, address, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {SITE_COLUMNS}"
        );
        let row = client
            .query_one(
                sql.as_str(),
                &[
                    &account.to_string(),
                    &fields.name,
                    &fields.description,
                    &fields.customer_name,
                    &fields.customer_provided_id,
                    &address,
                    &to_millis(now),
                ],
            )
            .await
            .map_err(db_err)?;
        site_from_row(&row)
    }

    async fn get_site(&self, account: AccountId, id: i64) -> Result<Option<Site>> {
        let client = self.client().await?;
        load_site(&**client, account, id, false).await
    }

    async fn list_sites(&self, account: AccountId) -> Result<Vec<Site>> {
        let client = self.client().await?;
        let sql = format!("SELECT {SITE_COLUMNS} FROM sites WHERE account_id = $1 ORDER BY id");
        client
            .query(sql.as_str(), &[&account.to_string()])
            .await
            .map_err(db_err)?
            .iter()
            .map(site_from_row)
            .collect()
    }

    async fn update_site(
        &self,
        account: AccountId,
        id: i64,
        fields: &SiteFields,
        now: Timestamp,
    ) -> Result<Option<Site>> {
        let client = self.client().await?;
        let address = fields
            .address
            .as_ref()
            .map(|a| serde_json::to_string(a).map_err(Error::internal))
            .transpose()?;
        let sql = format!(
            "UPDATE sites SET name = $3, description = $4, customer_name = $5, customer_provided_id = $6, address = $7, updated_at = $8 \
             WHERE id = $1 AND account_id = $2 RETURNING {SITE_COLUMNS}"
        );
        client
            .query_opt(
                sql.as_str(),
                &[
                    &id,
                    &account.to_string(),
                    &fields.name,
                    &fields.description,
                    &fields.customer_name,
                    &fields.customer_provided_id,
                    &address,
                    &to_millis(now),
                ],
            )
            .await
            .map_err(db_err)?
            .as_ref()
            .map(site_from_row)
            .transpose()
    }

    async fn delete_site(&self, account: AccountId, id: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        if load_site(&*tx, account, id, true).await?.is_none() {
            return Ok(false);
        }
        if !load_peers(&*tx, id).await?.is_empty() {
            return Err(Error::conflict(
                numbers_core::error::ConflictKind::SiteHasPeers,
                "a site can only be deleted when it has no SIP peers",
            ));
        }
        tx.execute("DELETE FROM sites WHERE id = $1", &[&id])
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
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
        if load_site(&*tx, account, site_id, true).await?.is_none() {
            return Ok(None);
        }
        let peers = load_peers(&*tx, site_id).await?;
        let is_default = settle_default(&*tx, &peers, None, fields.is_default).await?;
        let sql = format!(
            "INSERT INTO sip_peers (site_id, account_id, name, description, is_default, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {PEER_COLUMNS}"
        );
        let row = tx
            .query_one(
                sql.as_str(),
                &[
                    &site_id,
                    &account.to_string(),
                    &fields.name,
                    &fields.description,
                    &is_default,
                    &to_millis(now),
                ],
            )
            .await
            .map_err(name_taken)?;
        let peer = peer_from_row(&row)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(peer))
    }

    async fn get_peer(
        &self,
        account: AccountId,
        site_id: i64,
        peer_id: i64,
    ) -> Result<Option<SipPeer>> {
        Ok(self
            .list_peers(account, site_id)
            .await?
            .and_then(|peers| peers.into_iter().find(|p| p.id == peer_id)))
    }

    async fn list_peers(&self, account: AccountId, site_id: i64) -> Result<Option<Vec<SipPeer>>> {
        let client = self.client().await?;
        if load_site(&**client, account, site_id, false)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        load_peers(&**client, site_id).await.map(Some)
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
        if load_site(&*tx, account, site_id, true).await?.is_none() {
            return Ok(None);
        }
        let peers = load_peers(&*tx, site_id).await?;
        if !peers.iter().any(|p| p.id == peer_id) {
            return Ok(None);
        }
        let is_default = settle_default(&*tx, &peers, Some(peer_id), fields.is_default).await?;
        let sql = format!(
            "UPDATE sip_peers SET name = $2, description = $3, is_default = $4, updated_at = $5 WHERE id = $1 RETURNING {PEER_COLUMNS}"
        );
        let row = tx
            .query_one(
                sql.as_str(),
                &[
                    &peer_id,
                    &fields.name,
                    &fields.description,
                    &is_default,
                    &to_millis(now),
                ],
            )
            .await
            .map_err(name_taken)?;
        let peer = peer_from_row(&row)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(peer))
    }

    async fn delete_peer(&self, account: AccountId, site_id: i64, peer_id: i64) -> Result<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(db_err)?;
        if load_site(&*tx, account, site_id, true).await?.is_none() {
            return Ok(false);
        }
        let deleted = tx
            .execute(
                "DELETE FROM sip_peers WHERE id = $1 AND site_id = $2",
                &[&peer_id, &site_id],
            )
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(deleted == 1)
    }
}
