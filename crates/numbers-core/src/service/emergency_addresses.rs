//! Emergency addresses of an account's numbers (`crate::emergency`): read, provision (set or
//! replace), validate and deprovision. Only an assigned US number with VOICE takes one: E911 is
//! a US voice service. Validation is of form: numbersd has no address database, so an address
//! that parses is a match, exact when parsing changed nothing, near (with the corrected form)
//! when it only normalised spacing or the state's case.

use crate::emergency::{EmergencyAddress, RawEmergencyAddress};
use crate::error::{Error, Resource, Result};
use crate::ids::AccountId;
use crate::number::{Capability, E164, Number};

use super::Service;

/// What validation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressMatch {
    /// Well-formed exactly as sent.
    Exact(EmergencyAddress),
    /// Well-formed once normalised: the normalised address.
    Near(EmergencyAddress),
}

fn takes_emergency_address(number: &Number, phone_field: &str) -> Result<()> {
    if number.country != "US" || !number.capabilities.contains(Capability::Voice) {
        return Err(Error::invalid(
            phone_field,
            "emergency addresses are for US numbers with VOICE",
        ));
    }
    Ok(())
}

impl Service {
    /// The address of one of the account's numbers; not found when the number is not the
    /// account's (`Resource::Number` naming the number) or has no address (naming `address`).
    pub async fn emergency_address(
        &self,
        account: AccountId,
        e164: &E164,
    ) -> Result<EmergencyAddress> {
        self.owned_number(account, e164).await?;
        self.store
            .get_emergency_address(account, e164)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Number, format!("{e164}/emergencyAddress")))
    }

    /// Sets (or replaces) the address of one of the account's US voice numbers.
    pub async fn provision_emergency_address(
        &self,
        account: AccountId,
        e164: &E164,
        raw: &RawEmergencyAddress,
        fields: (&str, &str, &str),
    ) -> Result<EmergencyAddress> {
        let (phone_field, display_field, prefix) = fields;
        let number = self.owned_number(account, e164).await?;
        takes_emergency_address(&number, phone_field)?;
        let address = EmergencyAddress::parse(raw, display_field, prefix)?;
        if !self
            .store
            .put_emergency_address(account, e164, &address, self.now())
            .await?
        {
            // Released between the read and the write.
            return Err(Error::not_found(Resource::Number, e164));
        }
        Ok(address)
    }

    /// Checks an address for one of the account's US voice numbers without storing it.
    pub async fn validate_emergency_address(
        &self,
        account: AccountId,
        e164: &E164,
        raw: &RawEmergencyAddress,
        fields: (&str, &str, &str),
    ) -> Result<AddressMatch> {
        let (phone_field, display_field, prefix) = fields;
        let number = self.owned_number(account, e164).await?;
        takes_emergency_address(&number, phone_field)?;
        let address = EmergencyAddress::parse(raw, display_field, prefix)?;
        Ok(match address.is_as_sent(raw) {
            true => AddressMatch::Exact(address),
            false => AddressMatch::Near(address),
        })
    }

    /// Removes the address of one of the account's numbers; done too when there was none (the
    /// outcome the caller asked for holds either way).
    pub async fn deprovision_emergency_address(
        &self,
        account: AccountId,
        e164: &E164,
    ) -> Result<()> {
        self.owned_number(account, e164).await?;
        self.store.delete_emergency_address(account, e164).await?;
        Ok(())
    }
}
