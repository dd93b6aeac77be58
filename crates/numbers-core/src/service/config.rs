//! Lifecycle settings: how long released numbers age (per country and type), reservation
//! lifetimes, order processing lease; and the server secret keys are derived from.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::account::ServerSecret;
use crate::number::NumberType;
use crate::reservation::{DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS};
use crate::webhook::WebhookSettings;

/// One aging rule; the most specific matching rule wins (country + type, then country, then
/// type), the default otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgingRule {
    pub country: Option<String>,
    pub number_type: Option<NumberType>,
    pub days: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgingPolicy {
    pub default_days: i64,
    pub rules: Vec<AgingRule>,
}

impl Default for AgingPolicy {
    /// 45 days: the FCC's minimum for US geographic numbers (FCC 18-177), and MessageMedia's
    /// quarantine for every number.
    fn default() -> Self {
        AgingPolicy {
            default_days: 45,
            rules: Vec::new(),
        }
    }
}

impl AgingPolicy {
    /// The default for numbers released by Bandwidth disconnect orders: Bandwidth's guide says a
    /// disconnected number "typically" ages 30 days before another subscriber may have it.
    pub fn bandwidth_disconnects() -> Self {
        AgingPolicy {
            default_days: 30,
            rules: Vec::new(),
        }
    }

    pub fn period_for(&self, country: &str, number_type: NumberType) -> Duration {
        let score = |r: &AgingRule| -> Option<u8> {
            let country_ok = r
                .country
                .as_deref()
                .is_none_or(|c| c.eq_ignore_ascii_case(country));
            let type_ok = r.number_type.is_none_or(|t| t == number_type);
            (country_ok && type_ok)
                .then(|| u8::from(r.country.is_some()) * 2 + u8::from(r.number_type.is_some()))
        };
        let days = self
            .rules
            .iter()
            .filter_map(|r| score(r).map(|s| (s, r.days)))
            .max_by_key(|(s, _)| *s)
            .map_or(self.default_days, |(_, days)| days);
        Duration::days(days.max(0))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    pub aging: AgingPolicy,
    /// Aging of numbers released by Bandwidth disconnect orders (`normal` mode); the native
    /// release and the other dialects use `aging`.
    pub disconnect_aging: AgingPolicy,
    pub reservation_default_ttl: Duration,
    pub reservation_max_ttl: Duration,
    pub order_lease: Duration,
    /// When set, new keys get secrets derived from it, so they can sign requests (HMAC).
    pub secret_key: Option<ServerSecret>,
    pub webhooks: WebhookSettings,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            aging: AgingPolicy::default(),
            disconnect_aging: AgingPolicy::bandwidth_disconnects(),
            reservation_default_ttl: Duration::seconds(DEFAULT_TTL_SECONDS),
            reservation_max_ttl: Duration::seconds(MAX_TTL_SECONDS),
            order_lease: Duration::seconds(crate::order::PROCESSING_LEASE_SECONDS),
            secret_key: None,
            webhooks: WebhookSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_aging_rule_wins() {
        let policy = AgingPolicy {
            default_days: 45,
            rules: vec![
                AgingRule {
                    country: Some("US".into()),
                    number_type: None,
                    days: 60,
                },
                AgingRule {
                    country: Some("US".into()),
                    number_type: Some(NumberType::TollFree),
                    days: 120,
                },
                AgingRule {
                    country: None,
                    number_type: Some(NumberType::Mobile),
                    days: 90,
                },
            ],
        };
        assert_eq!(
            policy.period_for("US", NumberType::Local),
            Duration::days(60)
        );
        assert_eq!(
            policy.period_for("US", NumberType::TollFree),
            Duration::days(120)
        );
        assert_eq!(
            policy.period_for("AU", NumberType::Mobile),
            Duration::days(90)
        );
        assert_eq!(
            policy.period_for("AU", NumberType::Local),
            Duration::days(45)
        );
    }
}
