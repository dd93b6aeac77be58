//! Test data: realistic numbers (US local in Seattle, Tacoma and Raleigh, US toll-free, AU mobile,
//! GB mobile and London fixed line), accounts with keys, and fixed timestamps. Country and number
//! type come from `E164::parse_detailed` and the classification from `classify`, exactly as an
//! import would derive them, so the stored rows look like production rows. All digits are in the
//! ranges regulators set aside for fiction (555-01xx, 0491 570 xxx, 020 7946 0xxx)
//! or are otherwise harmless test values.

use chrono::{Duration, TimeZone, Utc};
use numbers_core::account::{Account, AccountStatus, ApiKey, IssuedKey, KeyOwner, ServerSecret};
use numbers_core::clock::Timestamp;
use numbers_core::ids::AccountId;
use numbers_core::number::classification::classify;
use numbers_core::sealing::SecretBox;
use std::collections::BTreeMap;

use numbers_core::number::{
    AssignmentData, Capabilities, Capability, E164, Label, Location, Metadata, NewNumber, Price,
};

/// The sealing keys every store under test runs with (a fixed server secret, so a failure is
/// reproducible).
pub fn secret_box() -> SecretBox {
    let secret = ServerSecret::parse("conformance-server-secret-0123456789abcdef", "secret_key")
        .expect("a valid server secret");
    numbers_core::sealing::secret_box(Some(&secret), &[])
}

/// 2026-01-01T00:00:00Z: every case measures its time from here, so runs are reproducible and
/// every value is already whole milliseconds (what the stores keep).
pub fn base() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("2026-01-01 is a valid UTC time")
}

/// `base()` plus `secs` seconds.
pub fn at(secs: i64) -> Timestamp {
    base() + Duration::seconds(secs)
}

pub fn minutes(m: i64) -> Timestamp {
    at(m * 60)
}

pub fn hours(h: i64) -> Timestamp {
    at(h * 3600)
}

pub fn days(d: i64) -> Timestamp {
    at(d * 86_400)
}

/// Parses a number the suite itself wrote; a typo here is a suite bug, so it panics loudly.
pub fn e164(s: &str) -> E164 {
    E164::parse(s).unwrap_or_else(|e| panic!("fixture number {s} does not parse: {e}"))
}

pub fn caps(list: &[Capability]) -> Capabilities {
    list.iter().copied().collect()
}

pub fn price(setup_micros: i64, monthly_micros: i64, currency: &str) -> Price {
    Price {
        setup_micros,
        monthly_micros,
        currency: currency.to_string(),
    }
}

/// A `NewNumber` with country, type and classification derived from the digits.
pub fn new_number(
    number: &str,
    capabilities: Capabilities,
    location: Location,
    price: Option<Price>,
) -> NewNumber {
    let parsed = E164::parse_detailed(number)
        .unwrap_or_else(|e| panic!("fixture number {number} does not parse: {e}"));
    let country = parsed
        .country
        .unwrap_or_else(|| panic!("fixture number {number} has no country"));
    let number_type = parsed
        .number_type
        .unwrap_or_else(|| panic!("fixture number {number} has no type"));
    NewNumber {
        classification: classify(parsed.e164.digits()),
        e164: parsed.e164,
        country,
        number_type,
        capabilities,
        location,
        tier: None,
        vendor_id: None,
        vendor_name: None,
        price,
        protected: false,
    }
}

fn us_location(rate_center: &str, state: &str, city: &str, lata: &str, zip: &str) -> Location {
    Location {
        rate_center: Some(rate_center.into()),
        state: Some(state.into()),
        city: Some(city.into()),
        lata: Some(lata.into()),
        zip: Some(zip.into()),
    }
}

fn us_local(number: String, location: Location) -> NewNumber {
    NewNumber {
        tier: Some(0),
        vendor_id: Some("49".into()),
        vendor_name: Some("Level 3 Communications".into()),
        ..new_number(
            &number,
            caps(&[Capability::Sms, Capability::Voice]),
            location,
            Some(price(1_000_000, 1_150_000, "USD")),
        )
    }
}

/// `+1 206 555 <last4>`: rate center SEATTLE, WA, LATA 674, ZIP 98101.
pub fn seattle(last4: &str) -> NewNumber {
    us_local(
        format!("+1206555{last4}"),
        us_location("SEATTLE", "WA", "SEATTLE", "674", "98101"),
    )
}

/// `+1 253 555 <last4>`: rate center TACOMA, WA, LATA 674, ZIP 98402.
pub fn tacoma(last4: &str) -> NewNumber {
    us_local(
        format!("+1253555{last4}"),
        us_location("TACOMA", "WA", "TACOMA", "674", "98402"),
    )
}

/// `+1 919 555 <last4>`: rate center RALEIGH, NC, LATA 426, ZIP 27601.
pub fn raleigh(last4: &str) -> NewNumber {
    us_local(
        format!("+1919555{last4}"),
        us_location("RALEIGH", "NC", "RALEIGH", "426", "27601"),
    )
}

/// A US toll-free number (no location), voice and SMS.
pub fn toll_free(number: &str) -> NewNumber {
    NewNumber {
        tier: Some(1),
        ..new_number(
            number,
            caps(&[Capability::Sms, Capability::Voice]),
            Location::default(),
            Some(price(2_000_000, 2_500_000, "USD")),
        )
    }
}

/// An Australian mobile (+61 4…), SMS, MMS and voice, priced in AUD.
pub fn au_mobile(number: &str) -> NewNumber {
    new_number(
        number,
        caps(&[Capability::Sms, Capability::Mms, Capability::Voice]),
        Location::default(),
        Some(price(0, 5_500_000, "AUD")),
    )
}

/// A British number (mobile 07400 or London 020 7946 0xxx), no price.
pub fn gb(number: &str) -> NewNumber {
    new_number(
        number,
        caps(&[Capability::Voice]),
        Location::default(),
        None,
    )
}

/// The search catalogue: every facet of `SearchQuery` has numbers that match it and numbers that
/// do not. Capabilities, protection and classification vary on purpose.
pub fn catalogue() -> Vec<NewNumber> {
    let sms_voice = caps(&[Capability::Sms, Capability::Voice]);
    let voice = caps(&[Capability::Voice]);
    let all_three = caps(&[Capability::Sms, Capability::Mms, Capability::Voice]);
    let fax_voice = caps(&[Capability::Fax, Capability::Voice]);
    let sms = caps(&[Capability::Sms]);
    let mut numbers = vec![
        seattle("0100"),
        NewNumber {
            capabilities: voice,
            ..seattle("0101")
        },
        NewNumber {
            capabilities: all_three,
            ..seattle("0123")
        },
        NewNumber {
            protected: true,
            ..seattle("0199")
        },
        seattle("2233"),
        // 550000: three doubled pairs → SILVER
        seattle("0000"),
        // 555555 → GOLD, and protected like most premium numbers
        NewNumber {
            protected: true,
            ..seattle("5555")
        },
        NewNumber {
            capabilities: fax_voice,
            ..seattle("1234")
        },
        NewNumber {
            capabilities: sms,
            ..seattle("7000")
        },
        NewNumber {
            price: None,
            tier: None,
            vendor_id: None,
            vendor_name: None,
            ..seattle("8200")
        },
        tacoma("0100"),
        NewNumber {
            capabilities: all_three,
            ..tacoma("0150")
        },
        raleigh("0100"),
        NewNumber {
            capabilities: voice,
            ..raleigh("0142")
        },
        raleigh("2233"),
        NewNumber {
            protected: true,
            ..raleigh("0199")
        },
        NewNumber {
            capabilities: fax_voice,
            ..raleigh("6000")
        },
        toll_free("+18005550100"),
        toll_free("+18005550199"),
        // 1-800-CALL-NOW
        toll_free("+18002255669"),
        NewNumber {
            capabilities: voice,
            ..toll_free("+18775550100")
        },
        toll_free("+18775550142"),
        toll_free("+18885550100"),
        NewNumber {
            protected: true,
            ..toll_free("+18885550123")
        },
        toll_free("+18445550100"),
        au_mobile("+61491570156"),
        au_mobile("+61491570157"),
        NewNumber {
            capabilities: sms,
            ..au_mobile("+61491570159")
        },
        au_mobile("+61491570110"),
        au_mobile("+61491570006"),
        gb("+447400123456"),
        NewNumber {
            capabilities: sms_voice,
            ..gb("+447400654321")
        },
        gb("+442079460123"),
        gb("+442079460999"),
    ];
    numbers.sort_by(|a, b| a.e164.cmp(&b.e164));
    numbers
}

/// A template with every kind of assignment field, to prove it lands on the numbers whole.
pub fn template() -> AssignmentData {
    AssignmentData {
        label: Some(Label::parse("Support line", "label").expect("label")),
        metadata: Metadata::parse(
            BTreeMap::from([
                ("team".to_string(), "support".to_string()),
                ("region".to_string(), "emea".to_string()),
            ]),
            "metadata",
        )
        .expect("metadata"),
        display_name: Some("Acme Support".into()),
        callback_url: Some("https://hooks.acme.example/numbers".into()),
        sms_configuration: Some(
            serde_json::json!({ "servicePlanId": "a1b2c3", "campaignId": "C7" }),
        ),
        voice_configuration: None,
        site_id: Some("12345".into()),
        peer_id: None,
        tn_attributes: vec!["Protected".into()],
    }
}

/// An account and its first key, created at `at`.
pub fn account(name: &str, at: Timestamp) -> (Account, ApiKey) {
    let account = Account {
        id: AccountId::new(),
        name: name.to_string(),
        status: AccountStatus::Active,
        created_at: at,
    };
    let key = IssuedKey::generate(None).stored(KeyOwner::Account(account.id), at);
    (account, key)
}

/// A fresh key for `owner` created at `at`.
pub fn api_key(owner: KeyOwner, at: Timestamp) -> ApiKey {
    IssuedKey::generate(None).stored(owner, at)
}

#[cfg(test)]
mod tests {
    use numbers_core::number::{Classification, NumberType};

    use super::*;

    #[test]
    fn catalogue_parses_with_expected_countries_and_types() {
        let all = catalogue();
        let has = |country: &str, t: NumberType| {
            all.iter()
                .any(|n| n.country == country && n.number_type == t)
        };
        assert!(has("US", NumberType::Local));
        assert!(has("US", NumberType::TollFree));
        assert!(has("AU", NumberType::Mobile));
        assert!(has("GB", NumberType::Mobile));
        assert!(has("GB", NumberType::Local));
        for c in Classification::ALL {
            assert!(
                all.iter().any(|n| n.classification == *c),
                "no {c} number in the catalogue"
            );
        }
        let mut seen = std::collections::HashSet::new();
        assert!(
            all.iter().all(|n| seen.insert(n.e164.clone())),
            "duplicate number in the catalogue"
        );
    }
}
