//! Sites and SIP peers of an account, and where an order placed with a site lands (its site and
//! peer, by the default-peer rule of `site::resolve_order_peer`).

use crate::error::{Error, Resource, Result};
use crate::ids::AccountId;
use crate::site::{PeerFields, SipPeer, Site, SiteFields, resolve_order_peer};

use super::Service;

/// The name of the site and SIP peer every new account gets (`create_default_site`).
pub const DEFAULT_SITE_NAME: &str = "Default";

impl Service {
    /// A site with one SIP peer, its default: what a real Bandwidth account comes with, so an
    /// order naming only that `SiteId` lands (Bandwidth refuses orders without a site, 5016, and
    /// sites without a default peer, 5020). Called where accounts are created for people
    /// (`numbersd account create`, the demo).
    pub async fn create_default_site(&self, account: AccountId) -> Result<(Site, SipPeer)> {
        let site = self
            .create_site(
                account,
                &SiteFields::parse(
                    Some(DEFAULT_SITE_NAME),
                    Some("Created with the account"),
                    None,
                    None,
                    None,
                )?,
            )
            .await?;
        let peer = self
            .create_peer(
                account,
                site.id,
                &PeerFields::parse(Some(DEFAULT_SITE_NAME), None, true)?,
            )
            .await?;
        Ok((site, peer))
    }

    pub async fn create_site(&self, account: AccountId, fields: &SiteFields) -> Result<Site> {
        self.store.create_site(account, fields, self.now()).await
    }

    pub async fn get_site(&self, account: AccountId, id: i64) -> Result<Site> {
        self.store
            .get_site(account, id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Site, id))
    }

    pub async fn list_sites(&self, account: AccountId) -> Result<Vec<Site>> {
        self.store.list_sites(account).await
    }

    pub async fn update_site(
        &self,
        account: AccountId,
        id: i64,
        fields: &SiteFields,
    ) -> Result<Site> {
        self.store
            .update_site(account, id, fields, self.now())
            .await?
            .ok_or_else(|| Error::not_found(Resource::Site, id))
    }

    pub async fn delete_site(&self, account: AccountId, id: i64) -> Result<()> {
        if self.store.delete_site(account, id).await? {
            Ok(())
        } else {
            Err(Error::not_found(Resource::Site, id))
        }
    }

    pub async fn create_peer(
        &self,
        account: AccountId,
        site_id: i64,
        fields: &PeerFields,
    ) -> Result<SipPeer> {
        self.store
            .create_peer(account, site_id, fields, self.now())
            .await?
            .ok_or_else(|| Error::not_found(Resource::Site, site_id))
    }

    pub async fn get_peer(
        &self,
        account: AccountId,
        site_id: i64,
        peer_id: i64,
    ) -> Result<SipPeer> {
        self.store
            .get_peer(account, site_id, peer_id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::SipPeer, peer_id))
    }

    pub async fn list_peers(&self, account: AccountId, site_id: i64) -> Result<Vec<SipPeer>> {
        self.store
            .list_peers(account, site_id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Site, site_id))
    }

    pub async fn update_peer(
        &self,
        account: AccountId,
        site_id: i64,
        peer_id: i64,
        fields: &PeerFields,
    ) -> Result<SipPeer> {
        self.store
            .update_peer(account, site_id, peer_id, fields, self.now())
            .await?
            .ok_or_else(|| Error::not_found(Resource::SipPeer, peer_id))
    }

    pub async fn delete_peer(&self, account: AccountId, site_id: i64, peer_id: i64) -> Result<()> {
        if self.store.delete_peer(account, site_id, peer_id).await? {
            Ok(())
        } else {
            Err(Error::not_found(Resource::SipPeer, peer_id))
        }
    }

    /// The (site, peer) an order's numbers will carry. The site is required and must be the
    /// account's (`Validation` on `site_id`); the peer is the named one if it belongs to the site
    /// (`Validation` on `peer_id`), else the site's default (`Conflict` of kind `NoDefaultPeer`).
    pub async fn order_placement(
        &self,
        account: AccountId,
        site_id: Option<i64>,
        peer_id: Option<i64>,
    ) -> Result<(i64, i64)> {
        let site_id = site_id.ok_or_else(|| Error::required("site_id"))?;
        let peers = self
            .store
            .list_peers(account, site_id)
            .await?
            .ok_or_else(|| Error::invalid("site_id", format!("site {site_id} does not exist")))?;
        Ok((site_id, resolve_order_peer(&peers, peer_id)?))
    }
}
