//! Configuration, layered: built-in defaults < TOML file (`--config` / `NUMBERSD_CONFIG`) <
//! `NUMBERSD_*` environment < command-line flags. Clap resolves flags over environment; this
//! module puts the file and the defaults underneath.

use std::path::Path;

use anyhow::{Context, bail};
use numbers_api::{EdgeLimits, Rate};
use numbers_core::account::{IssuedKey, ServerSecret};
use numbers_core::number::NumberType;
use numbers_core::service::{AgingPolicy, AgingRule, ServiceConfig};
use numbers_core::store::SearchLimits;
use numbers_core::webhook::WebhookSettings;
use serde::Deserialize;

use crate::connections::ConnectionLimits;
use crate::startup::ServeSettings;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://numbersd.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9090";

/// What the TOML file may say. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub database_url: Option<String>,
    pub listen: Option<String>,
    /// `KEY_ID:SECRET` of an operator key to accept (created in the database if missing).
    pub operator_key: Option<String>,
    /// Server secret (≥ 32 characters) key secrets are derived from, so keys can sign requests
    /// (MessageMedia HMAC). SQLite installations without one get a generated `<db>.secret` file.
    pub secret_key: Option<String>,
    /// Server secrets used before the current one: they only open secrets sealed with them (see
    /// docs/SECURITY.md, key rotation).
    #[serde(default)]
    pub previous_secret_keys: Option<Vec<String>>,
    pub log: Option<String>,
    #[serde(default)]
    pub aging: Option<FileAging>,
    /// The aging of numbers released by Bandwidth disconnect orders (same shape as `aging`).
    #[serde(default)]
    pub disconnect_aging: Option<FileAging>,
    #[serde(default)]
    pub reservations: Option<FileReservations>,
    #[serde(default)]
    pub provisioning: Option<FileProvisioning>,
    /// Prometheus `/metrics` listener; "off" disables it.
    pub metrics_listen: Option<String>,
    #[serde(default)]
    pub webhooks: Option<FileWebhooks>,
    #[serde(default)]
    pub limits: Option<FileLimits>,
    #[serde(default)]
    pub connections: Option<FileConnections>,
    #[serde(default)]
    pub search: Option<FileSearch>,
}

/// `[search]`: how many rows one search may read before it moves to the thorough lane, and
/// before it is refused as too broad (`numbers_core::store::SearchLimits`, docs/PERFORMANCE.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSearch {
    pub quick_rows: Option<u64>,
    pub thorough_rows: Option<u64>,
}

impl FileSearch {
    fn apply(&self, limits: &mut SearchLimits) -> anyhow::Result<()> {
        if let Some(v) = self.quick_rows {
            limits.quick_rows = v;
        }
        if let Some(v) = self.thorough_rows {
            limits.thorough_rows = v;
        }
        if limits.quick_rows == 0 || limits.thorough_rows < limits.quick_rows {
            bail!("search.quick_rows must be positive and search.thorough_rows at least as large");
        }
        Ok(())
    }
}

/// `[limits]`: the edge's request limits and throttles (docs/SECURITY.md). A rate of 0 switches
/// that throttle off; so does `max_in_flight = 0` for load shedding.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub body_bytes: Option<usize>,
    pub request_timeout_seconds: Option<u64>,
    pub max_in_flight: Option<usize>,
    pub per_credential_per_second: Option<f64>,
    pub per_credential_burst: Option<u32>,
    pub per_address_per_second: Option<f64>,
    pub per_address_burst: Option<u32>,
    pub auth_failures_per_second: Option<f64>,
    pub auth_failures_burst: Option<u32>,
}

impl FileLimits {
    fn apply(&self, limits: &mut EdgeLimits) -> anyhow::Result<()> {
        if let Some(v) = self.body_bytes {
            if v == 0 {
                bail!("limits.body_bytes must be positive");
            }
            limits.body_limit_bytes = v;
        }
        if let Some(v) = self.request_timeout_seconds {
            if v == 0 {
                bail!("limits.request_timeout_seconds must be positive");
            }
            limits.request_timeout = std::time::Duration::from_secs(v);
        }
        if let Some(v) = self.max_in_flight {
            limits.max_in_flight = v;
        }
        rate(
            &mut limits.per_credential,
            self.per_credential_per_second,
            self.per_credential_burst,
            "per_credential",
        )?;
        rate(
            &mut limits.per_address,
            self.per_address_per_second,
            self.per_address_burst,
            "per_address",
        )?;
        rate(
            &mut limits.auth_failures,
            self.auth_failures_per_second,
            self.auth_failures_burst,
            "auth_failures",
        )
    }
}

/// One throttle's keys over its current value: a rate of 0 switches it off; a burst alone
/// keeps the rate (the default's, when the throttle was on).
fn rate(
    slot: &mut Option<Rate>,
    per_second: Option<f64>,
    burst: Option<u32>,
    name: &str,
) -> anyhow::Result<()> {
    if per_second.is_some_and(|r| !r.is_finite() || r < 0.0) {
        bail!("limits.{name}_per_second must be a non-negative number");
    }
    if burst == Some(0) {
        bail!("limits.{name}_burst must be positive");
    }
    if per_second == Some(0.0) {
        *slot = None;
        return Ok(());
    }
    match (per_second, burst, slot.as_mut()) {
        (None, None, _) => {}
        (Some(r), b, Some(current)) => {
            current.per_second = r;
            current.burst = b.unwrap_or(current.burst);
        }
        (Some(r), b, None) => {
            *slot = Some(Rate {
                per_second: r,
                burst: b.unwrap_or_else(|| (2.0 * r).ceil().clamp(1.0, f64::from(u32::MAX)) as u32),
            });
        }
        (None, Some(b), Some(current)) => current.burst = b,
        (None, Some(_), None) => {
            bail!("limits.{name}_burst needs limits.{name}_per_second: that throttle is off")
        }
    }
    Ok(())
}

/// `[connections]`: connection limits (docs/SECURITY.md).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConnections {
    pub max_open: Option<usize>,
    pub header_timeout_seconds: Option<u64>,
    pub idle_timeout_seconds: Option<u64>,
}

impl FileConnections {
    fn apply(&self, c: &mut ConnectionLimits) -> anyhow::Result<()> {
        let seconds = |v: Option<u64>, key: &str| -> anyhow::Result<Option<std::time::Duration>> {
            match v {
                Some(0) => bail!("connections.{key} must be positive"),
                other => Ok(other.map(std::time::Duration::from_secs)),
            }
        };
        if let Some(v) = self.max_open {
            if v == 0 {
                bail!("connections.max_open must be positive");
            }
            c.max_open = v;
        }
        if let Some(v) = seconds(self.header_timeout_seconds, "header_timeout_seconds")? {
            c.header_timeout = v;
        }
        if let Some(v) = seconds(self.idle_timeout_seconds, "idle_timeout_seconds")? {
            c.idle_timeout = v;
        }
        Ok(())
    }
}

/// `[provisioning]`: the operator's hook for configuration changes (absent: immediate success).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileProvisioning {
    pub url: Option<String>,
    pub timeout_seconds: Option<u64>,
}

/// `[webhooks]`: the delivery engine.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileWebhooks {
    pub allow_private: Option<bool>,
    pub timeout_seconds: Option<u64>,
    pub backoff_initial_seconds: Option<i64>,
    pub backoff_max_seconds: Option<i64>,
    pub give_up_after_hours: Option<i64>,
    pub max_payload_bytes: Option<usize>,
    pub concurrency: Option<usize>,
    pub poll_interval_ms: Option<u64>,
}

impl FileWebhooks {
    fn apply(&self, w: &mut WebhookSettings) -> anyhow::Result<()> {
        fn positive<T: PartialOrd + Default + Copy>(
            v: Option<T>,
            key: &str,
        ) -> anyhow::Result<Option<T>> {
            match v {
                Some(v) if v <= T::default() => bail!("webhooks.{key} must be positive"),
                other => Ok(other),
            }
        }
        if let Some(v) = self.allow_private {
            w.allow_private = v;
        }
        if let Some(v) = positive(self.timeout_seconds, "timeout_seconds")? {
            w.timeout = std::time::Duration::from_secs(v);
        }
        if let Some(v) = positive(self.backoff_initial_seconds, "backoff_initial_seconds")? {
            w.retry.initial = chrono::Duration::seconds(v);
        }
        if let Some(v) = positive(self.backoff_max_seconds, "backoff_max_seconds")? {
            w.retry.max = chrono::Duration::seconds(v);
        }
        if let Some(v) = positive(self.give_up_after_hours, "give_up_after_hours")? {
            w.retry.give_up_after = chrono::Duration::hours(v);
        }
        if w.retry.max < w.retry.initial {
            bail!("webhooks.backoff_max_seconds must not be below backoff_initial_seconds");
        }
        if let Some(v) = positive(self.max_payload_bytes, "max_payload_bytes")? {
            w.max_payload_bytes = v;
        }
        if let Some(v) = positive(self.concurrency, "concurrency")? {
            w.concurrency = v;
        }
        if let Some(v) = positive(self.poll_interval_ms, "poll_interval_ms")? {
            w.poll_interval = std::time::Duration::from_millis(v);
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAging {
    pub default_days: Option<i64>,
    #[serde(default)]
    pub rules: Vec<FileAgingRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAgingRule {
    pub country: Option<String>,
    #[serde(rename = "type")]
    pub number_type: Option<String>,
    pub days: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileReservations {
    pub default_ttl_seconds: Option<i64>,
}

/// Values given on the command line or in the environment (clap has merged those two).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<String>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub operator_key: Option<String>,
    pub secret_key: Option<String>,
    pub previous_secret_keys: Option<Vec<String>>,
    pub metrics_listen: Option<String>,
    pub webhooks_allow_private: Option<bool>,
    /// `false`: no throttles and no load shedding (benchmarks, contract tests).
    pub throttle: Option<bool>,
    pub limits: FileLimits,
    pub connections: FileConnections,
}

/// The resolved configuration of a process.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: String,
    pub operator_key: Option<IssuedKey>,
    /// Secrets before `service.secret_key`, opening what they sealed (key rotation).
    pub previous_secret_keys: Vec<ServerSecret>,
    pub log: String,
    pub service: ServiceConfig,
    /// Where configuration changes are POSTed (`None`: the built-in immediate success).
    pub provisioning_url: Option<String>,
    pub provisioning_timeout: std::time::Duration,
    /// `None` when switched off.
    pub metrics_listen: Option<String>,
    /// The HTTP server's limits, throttles and connection timeouts.
    pub serve: ServeSettings,
    /// How much one search may read (`[search]`).
    pub search_limits: SearchLimits,
}

/// An `[aging]`-shaped section of the file over `base` (its default kept when not given).
fn aging_policy(
    aging: &FileAging,
    base: &AgingPolicy,
    section: &str,
) -> anyhow::Result<AgingPolicy> {
    Ok(AgingPolicy {
        default_days: aging.default_days.unwrap_or(base.default_days),
        rules: aging
            .rules
            .iter()
            .map(|r| {
                let number_type = r
                    .number_type
                    .as_deref()
                    .map(|t| NumberType::parse_field(t, &format!("{section}.rules.type")))
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                if r.days < 0 {
                    bail!("{section}.rules.days must not be negative");
                }
                Ok(AgingRule {
                    country: r.country.as_ref().map(|c| c.to_ascii_uppercase()),
                    number_type,
                    days: r.days,
                })
            })
            .collect::<anyhow::Result<_>>()?,
    })
}

impl Config {
    pub fn resolve(overrides: &Overrides) -> anyhow::Result<Config> {
        let file = match &overrides.config_file {
            Some(path) => load_file(Path::new(path))?,
            None => FileConfig::default(),
        };
        let mut service = ServiceConfig::default();
        if let Some(aging) = &file.aging {
            service.aging = aging_policy(aging, &service.aging, "aging")?;
        }
        if let Some(aging) = &file.disconnect_aging {
            service.disconnect_aging =
                aging_policy(aging, &service.disconnect_aging, "disconnect_aging")?;
        }
        if let Some(ttl) = file
            .reservations
            .as_ref()
            .and_then(|r| r.default_ttl_seconds)
        {
            if ttl <= 0 || ttl > service.reservation_max_ttl.num_seconds() {
                bail!(
                    "reservations.default_ttl_seconds must be from 1 to {}",
                    service.reservation_max_ttl.num_seconds()
                );
            }
            service.reservation_default_ttl = chrono::Duration::seconds(ttl);
        }
        if let Some(webhooks) = &file.webhooks {
            webhooks.apply(&mut service.webhooks)?;
        }
        if let Some(allow) = overrides.webhooks_allow_private {
            service.webhooks.allow_private = allow;
        }
        let metrics_listen = overrides
            .metrics_listen
            .clone()
            .or(file.metrics_listen)
            .unwrap_or_else(|| DEFAULT_METRICS_LISTEN.into());
        let operator_key = overrides
            .operator_key
            .clone()
            .or(file.operator_key)
            .map(|pair| {
                IssuedKey::parse_pair(&pair).map_err(|e| anyhow::anyhow!("operator key: {e}"))
            })
            .transpose()?;
        service.secret_key = overrides
            .secret_key
            .clone()
            .or(file.secret_key)
            .map(|s| ServerSecret::parse(&s, "secret_key").map_err(|e| anyhow::anyhow!("{e}")))
            .transpose()?;
        let previous_secret_keys = overrides
            .previous_secret_keys
            .clone()
            .or(file.previous_secret_keys)
            .unwrap_or_default()
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                ServerSecret::parse(s, "previous_secret_keys").map_err(|e| anyhow::anyhow!("{e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let provisioning_url = file
            .provisioning
            .as_ref()
            .and_then(|p| p.url.clone())
            .map(|url| {
                numbers_core::webhook::WebhookUrl::parse(&url, "provisioning.url")
                    .map(|url| url.as_str().to_string())
                    .map_err(|e| anyhow::anyhow!("{e}"))
            })
            .transpose()?;
        let provisioning_timeout = std::time::Duration::from_secs(
            file.provisioning
                .as_ref()
                .and_then(|p| p.timeout_seconds)
                .unwrap_or(crate::provisioning::DEFAULT_TIMEOUT_SECONDS),
        );
        let mut serve = ServeSettings::default();
        if let Some(limits) = &file.limits {
            limits.apply(&mut serve.limits)?;
        }
        overrides.limits.apply(&mut serve.limits)?;
        if overrides.throttle == Some(false) {
            let unthrottled = EdgeLimits::unthrottled();
            serve.limits.per_credential = unthrottled.per_credential;
            serve.limits.per_address = unthrottled.per_address;
            serve.limits.auth_failures = unthrottled.auth_failures;
            serve.limits.max_in_flight = unthrottled.max_in_flight;
        }
        if let Some(connections) = &file.connections {
            connections.apply(&mut serve.connections)?;
        }
        overrides.connections.apply(&mut serve.connections)?;
        let mut search_limits = SearchLimits::default();
        if let Some(search) = &file.search {
            search.apply(&mut search_limits)?;
        }
        Ok(Config {
            serve,
            search_limits,
            provisioning_url,
            provisioning_timeout,
            database_url: overrides
                .database_url
                .clone()
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            listen: overrides
                .listen
                .clone()
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.into()),
            operator_key,
            previous_secret_keys,
            log: file.log.unwrap_or_else(|| "info".into()),
            service,
            metrics_listen: (!metrics_listen.eq_ignore_ascii_case("off")).then_some(metrics_listen),
        })
    }
}

fn load_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_file_under_overrides() {
        let dir = std::env::temp_dir().join(format!("numbersd-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("numbersd.toml");
        std::fs::write(
            &path,
            "database_url = \"sqlite://file.db\"\nlisten = \"127.0.0.1:9000\"\n[aging]\ndefault_days = 60\n[[aging.rules]]\ncountry = \"us\"\ntype = \"TOLL_FREE\"\ndays = 120\n",
        )
        .unwrap();
        let overrides = Overrides {
            config_file: Some(path.display().to_string()),
            listen: Some("127.0.0.1:9999".into()),
            ..Default::default()
        };
        let config = Config::resolve(&overrides).unwrap();
        assert_eq!(config.database_url, "sqlite://file.db");
        assert_eq!(config.listen, "127.0.0.1:9999");
        assert_eq!(config.provisioning_url, None);
        assert_eq!(
            config.service.aging.period_for("US", NumberType::TollFree),
            chrono::Duration::days(120)
        );
        assert_eq!(
            config.service.aging.period_for("AU", NumberType::Mobile),
            chrono::Duration::days(60)
        );
        std::fs::write(
            &path,
            "[provisioning]\nurl = \"http://127.0.0.1:9/provision\"\ntimeout_seconds = 3\n",
        )
        .unwrap();
        let config = Config::resolve(&overrides).unwrap();
        assert_eq!(
            config.provisioning_url.as_deref(),
            Some("http://127.0.0.1:9/provision")
        );
        assert_eq!(config.provisioning_timeout.as_secs(), 3);
        std::fs::write(&path, "[provisioning]\nurl = \"ftp://x\"\n").unwrap();
        assert!(Config::resolve(&overrides).is_err(), "only http(s) hooks");
        std::fs::write(&path, "databse_url = \"typo\"\n").unwrap();
        assert!(
            Config::resolve(&overrides).is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn defaults_without_anything() {
        let config = Config::resolve(&Overrides::default()).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.listen, DEFAULT_LISTEN);
        assert_eq!(config.service.secret_key, None);
        assert_eq!(
            config.metrics_listen.as_deref(),
            Some(DEFAULT_METRICS_LISTEN)
        );
        assert!(!config.service.webhooks.allow_private);
    }

    #[test]
    fn previous_secret_keys_from_file_and_environment() {
        let dir = std::env::temp_dir().join(format!("numbersd-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("numbersd.toml");
        std::fs::write(
            &path,
            format!(
                "previous_secret_keys = [\"{}\", \"{}\"]\n",
                "a".repeat(32),
                "b".repeat(32)
            ),
        )
        .unwrap();
        let mut overrides = Overrides {
            config_file: Some(path.display().to_string()),
            ..Default::default()
        };
        assert_eq!(
            Config::resolve(&overrides)
                .unwrap()
                .previous_secret_keys
                .len(),
            2
        );
        overrides.previous_secret_keys = Some(vec!["c".repeat(32)]);
        assert_eq!(
            Config::resolve(&overrides)
                .unwrap()
                .previous_secret_keys
                .len(),
            1
        );
        overrides.previous_secret_keys = Some(vec!["short".into()]);
        assert!(Config::resolve(&overrides).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secret_key_must_be_long_enough() {
        let short = Overrides {
            secret_key: Some("too-short".into()),
            ..Default::default()
        };
        assert!(Config::resolve(&short).is_err());
        let long = Overrides {
            secret_key: Some("k".repeat(32)),
            ..Default::default()
        };
        assert!(Config::resolve(&long).unwrap().service.secret_key.is_some());
    }

    #[test]
    fn webhook_settings_from_file_and_environment() {
        let dir = std::env::temp_dir().join(format!("numbersd-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("numbersd.toml");
        std::fs::write(
            &path,
            "metrics_listen = \"off\"\n[webhooks]\nallow_private = true\ntimeout_seconds = 3\nbackoff_initial_seconds = 5\nbackoff_max_seconds = 600\ngive_up_after_hours = 24\nmax_payload_bytes = 1000\n",
        )
        .unwrap();
        let mut overrides = Overrides {
            config_file: Some(path.display().to_string()),
            ..Default::default()
        };
        let config = Config::resolve(&overrides).unwrap();
        let w = &config.service.webhooks;
        assert!(w.allow_private);
        assert_eq!(w.timeout, std::time::Duration::from_secs(3));
        assert_eq!(w.retry.initial, chrono::Duration::seconds(5));
        assert_eq!(w.retry.max, chrono::Duration::minutes(10));
        assert_eq!(w.retry.give_up_after, chrono::Duration::hours(24));
        assert_eq!(w.max_payload_bytes, 1000);
        assert_eq!(config.metrics_listen, None);
        overrides.webhooks_allow_private = Some(false);
        assert!(
            !Config::resolve(&overrides)
                .unwrap()
                .service
                .webhooks
                .allow_private
        );
        std::fs::write(&path, "[webhooks]\ntimeout_seconds = 0\n").unwrap();
        assert!(
            Config::resolve(&overrides).is_err(),
            "non-positive values are refused"
        );
    }
}
