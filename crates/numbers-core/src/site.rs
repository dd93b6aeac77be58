//! Sites and SIP peers: an account's own sub-accounts and locations, as Bandwidth models them.
//! Orders placed through the Bandwidth dialect name a site (required) and optionally a peer; the
//! numbers they win carry both in their assignment data. This module owns the values, their
//! parsing, and the two rules around them: which peer an order lands on when it names none (the
//! site's default peer), and that a site with peers cannot be deleted.
//!
//! Ids are numeric (Bandwidth's are), handed out by the database.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{ConflictKind, Error, FieldErrors};
use crate::ids::AccountId;

pub const SITE_NAME_MAX_CHARS: usize = 50;
pub const PEER_NAME_MAX_CHARS: usize = 50;
pub const DESCRIPTION_MAX_CHARS: usize = 255;
pub const ADDRESS_FIELD_MAX_CHARS: usize = 100;

/// A postal address as Bandwidth's `<Address>` holds it; every part optional and kept verbatim.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_directional: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_type: Option<String>,
}

impl SiteAddress {
    /// Every part at most `ADDRESS_FIELD_MAX_CHARS`; errors name `address.<part>`.
    pub fn parse(self) -> Result<Self, Error> {
        let mut errors = FieldErrors::new();
        let parts = [
            ("house_number", &self.house_number),
            ("street_name", &self.street_name),
            ("street_suffix", &self.street_suffix),
            ("post_directional", &self.post_directional),
            ("city", &self.city),
            ("state_code", &self.state_code),
            ("zip", &self.zip),
            ("country", &self.country),
            ("address_type", &self.address_type),
        ];
        for (name, value) in parts {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > ADDRESS_FIELD_MAX_CHARS)
            {
                errors.push(
                    format!("address.{name}"),
                    format!("must be at most {ADDRESS_FIELD_MAX_CHARS} characters"),
                );
            }
        }
        errors.into_result()?;
        Ok(self)
    }
}

/// What a client sets on a site (create and full update alike).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteFields {
    pub name: String,
    pub description: Option<String>,
    pub customer_name: Option<String>,
    pub customer_provided_id: Option<String>,
    pub address: Option<SiteAddress>,
}

impl SiteFields {
    pub fn parse(
        name: Option<&str>,
        description: Option<&str>,
        customer_name: Option<&str>,
        customer_provided_id: Option<&str>,
        address: Option<SiteAddress>,
    ) -> Result<Self, Error> {
        let mut errors = FieldErrors::new();
        let name = name.map(str::trim).unwrap_or_default();
        if name.is_empty() {
            errors.push_required("name");
        } else if name.chars().count() > SITE_NAME_MAX_CHARS {
            errors.push(
                "name",
                format!("must be at most {SITE_NAME_MAX_CHARS} characters"),
            );
        }
        for (field, value) in [
            ("description", description),
            ("customer_name", customer_name),
            ("customer_provided_id", customer_provided_id),
        ] {
            if value.is_some_and(|v| v.chars().count() > DESCRIPTION_MAX_CHARS) {
                errors.push(
                    field,
                    format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
                );
            }
        }
        let address = address.and_then(|a| errors.take(a.parse()));
        errors.into_result()?;
        Ok(SiteFields {
            name: name.to_string(),
            description: description.map(str::to_string),
            customer_name: customer_name.map(str::to_string),
            customer_provided_id: customer_provided_id.map(str::to_string),
            address,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub id: i64,
    pub account: AccountId,
    #[serde(flatten)]
    pub fields: SiteFields,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a client sets on a SIP peer. Host lists and the other voice settings of Bandwidth's
/// `<SipPeer>` are not modelled: numbersd routes no calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerFields {
    pub name: String,
    pub description: Option<String>,
    /// Asked to become the site's default peer (see `SiteStore::create_peer`).
    pub is_default: bool,
}

impl PeerFields {
    pub fn parse(
        name: Option<&str>,
        description: Option<&str>,
        is_default: bool,
    ) -> Result<Self, Error> {
        let mut errors = FieldErrors::new();
        let name = name.map(str::trim).unwrap_or_default();
        if name.is_empty() {
            errors.push_required("name");
        } else if name.chars().count() > PEER_NAME_MAX_CHARS {
            errors.push(
                "name",
                format!("must be at most {PEER_NAME_MAX_CHARS} characters"),
            );
        }
        if description.is_some_and(|v| v.chars().count() > DESCRIPTION_MAX_CHARS) {
            errors.push(
                "description",
                format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
            );
        }
        errors.into_result()?;
        Ok(PeerFields {
            name: name.to_string(),
            description: description.map(str::to_string),
            is_default,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipPeer {
    pub id: i64,
    pub site_id: i64,
    pub account: AccountId,
    #[serde(flatten)]
    pub fields: PeerFields,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Whether a new or updated peer becomes the site's default: when asked, or when the site has
/// no default yet (so the first peer of a site is its default, as at Bandwidth).
pub fn becomes_default(asked: bool, site_has_default: bool) -> bool {
    asked || !site_has_default
}

/// The peer an order's numbers land on: the named one, which must belong to the site, or else
/// the site's default peer. A site without a default peer cannot take an order that names none
/// (Bandwidth's "No default SIP peer is set on the account and site").
pub fn resolve_order_peer(peers: &[SipPeer], requested: Option<i64>) -> Result<i64, Error> {
    match requested {
        Some(id) if peers.iter().any(|p| p.id == id) => Ok(id),
        Some(id) => Err(Error::invalid(
            "peer_id",
            format!("SIP peer {id} does not exist under this site"),
        )),
        None => peers
            .iter()
            .find(|p| p.fields.is_default)
            .map(|p| p.id)
            .ok_or_else(|| {
                Error::conflict(
                    ConflictKind::NoDefaultPeer,
                    "no default SIP peer is set on the account and site",
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: i64, is_default: bool) -> SipPeer {
        SipPeer {
            id,
            site_id: 1,
            account: AccountId::new(),
            fields: PeerFields {
                name: format!("p{id}"),
                description: None,
                is_default,
            },
            created_at: Timestamp::default(),
            updated_at: Timestamp::default(),
        }
    }

    #[test]
    fn the_default_peer_takes_orders_that_name_none() {
        let peers = [peer(1, false), peer(2, true)];
        assert_eq!(resolve_order_peer(&peers, None).unwrap(), 2);
        assert_eq!(resolve_order_peer(&peers, Some(1)).unwrap(), 1);
        assert!(matches!(
            resolve_order_peer(&peers, Some(9)),
            Err(Error::Validation(_))
        ));
        assert!(matches!(
            resolve_order_peer(&[peer(1, false)], None),
            Err(Error::Conflict {
                kind: ConflictKind::NoDefaultPeer,
                ..
            })
        ));
        assert!(becomes_default(false, false));
        assert!(!becomes_default(false, true));
    }

    #[test]
    fn names_are_required_and_bounded() {
        assert!(SiteFields::parse(Some(" "), None, None, None, None).is_err());
        assert!(SiteFields::parse(Some(&"x".repeat(51)), None, None, None, None).is_err());
        assert!(PeerFields::parse(None, None, false).is_err());
        let site = SiteFields::parse(Some("Raleigh"), Some("HQ"), None, None, None).unwrap();
        assert_eq!(site.name, "Raleigh");
    }
}
