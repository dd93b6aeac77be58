//! Identifiers. Each resource has its own newtype so an order id can never be passed where an
//! account id is expected; all are UUIDs on the wire and in the stores.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Time-ordered (v7), so ids sort by creation and index well.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| Error::invalid($what, "must be a UUID"))
            }
        }
    };
}

uuid_id!(/// A tenant account (also Bandwidth's accountId and Sinch's projectId).
    AccountId, "account_id");
uuid_id!(/// The stable id every number carries besides its E.164 form.
    NumberId, "number_id");
uuid_id!(OrderId, "order_id");
uuid_id!(ReservationId, "reservation_id");
uuid_id!(/// One live holding of a number by an account (MessageMedia's assignment id).
    AssignmentId, "assignment_id");
uuid_id!(EventId, "event_id");
uuid_id!(/// A KYC number order (Sinch's idNumberOrder).
    NumberOrderId, "number_order_id");
uuid_id!(/// A disconnect order (Bandwidth's asynchronous bulk release).
    DisconnectId, "disconnect_id");
uuid_id!(/// One provisioning task (a configuration change on its way to the network).
    ProvisioningId, "provisioning_id");
uuid_id!(/// A webhook subscription (native webhook, Bandwidth subscription).
    SubscriptionId, "webhook_id");
uuid_id!(/// One event on its way to one target.
    DeliveryId, "delivery_id");

#[cfg(test)]
mod properties {
    //! Ids arrive in paths, bodies and page tokens: every id reads back from its display form
    //! (any case, surrounding blanks) and its JSON, and any other text is refused naming the
    //! id's field, never a panic.
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn ids_round_trip(bits in any::<u128>(), upper in any::<bool>(), pad in "[ \t]{0,2}") {
            let id = OrderId(Uuid::from_u128(bits));
            let text = if upper { id.to_string().to_uppercase() } else { id.to_string() };
            prop_assert_eq!(format!("{pad}{text}{pad}").parse::<OrderId>().unwrap(), id);
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<OrderId>(&json).unwrap(), id);
        }

        #[test]
        fn any_text_is_an_id_or_a_field_error(s in "\\PC{0,40}") {
            match s.parse::<AccountId>() {
                Ok(id) => prop_assert_eq!(Uuid::parse_str(s.trim()).unwrap(), id.as_uuid()),
                Err(Error::Validation(errors)) => {
                    prop_assert!(errors.iter().all(|e| e.field == "account_id"));
                }
                Err(other) => prop_assert!(false, "not a field error: {other:?}"),
            }
        }
    }
}
