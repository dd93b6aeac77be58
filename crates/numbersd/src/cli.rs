//! The `numbersd` command line: every command takes `--database-url`, `--listen` and `--config`
//! (also from `NUMBERSD_DATABASE_URL`, `NUMBERSD_LISTEN`, `NUMBERSD_CONFIG`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{FileConnections, FileLimits, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "numbersd",
    version,
    about = "Self-hosted telephone-number inventory and provisioning service"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Mounts the benchmark's payload floor route; `numbersd bench` passes it to the servers it
    /// starts. Not part of the API, hence hidden.
    #[arg(long, hide = true)]
    pub bench_payload_floor: bool,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Database: sqlite://PATH (default sqlite://numbersd.db) or postgres://USER@HOST:PORT/DB
    #[arg(long, global = true, env = "NUMBERSD_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Address of the HTTP listener (default 127.0.0.1:8080)
    #[arg(long, global = true, env = "NUMBERSD_LISTEN")]
    pub listen: Option<String>,
    /// TOML configuration file
    #[arg(long, global = true, env = "NUMBERSD_CONFIG")]
    pub config: Option<String>,
    /// Operator key accepted by the server, KEY_ID:SECRET
    #[arg(
        long,
        global = true,
        env = "NUMBERSD_OPERATOR_KEY",
        hide_env_values = true
    )]
    pub operator_key: Option<String>,
    /// Server secret key secrets are derived from (≥ 32 characters; enables HMAC signatures)
    #[arg(
        long,
        global = true,
        env = "NUMBERSD_SECRET_KEY",
        hide_env_values = true
    )]
    pub secret_key: Option<String>,
    /// Server secrets used before the current one (comma-separated): they only open secrets
    /// sealed with them, during a key rotation
    #[arg(
        long,
        global = true,
        env = "NUMBERSD_PREVIOUS_SECRET_KEYS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub previous_secret_keys: Option<Vec<String>>,
    /// Address of the Prometheus /metrics listener (default 127.0.0.1:9090; "off" disables it)
    #[arg(long, global = true, env = "NUMBERSD_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Allow webhook targets on loopback / private addresses (true|false)
    #[arg(long, global = true, env = "NUMBERSD_WEBHOOKS_ALLOW_PRIVATE")]
    pub webhooks_allow_private: Option<bool>,
    /// Throttles and load shedding (true|false; false is for benchmarks and contract tests)
    #[arg(long, global = true, env = "NUMBERSD_THROTTLE")]
    pub throttle: Option<bool>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// The `[limits]` and `[connections]` keys of the configuration file, as flags and
/// `NUMBERSD_LIMITS_*` / `NUMBERSD_CONNECTIONS_*` variables (docs/SECURITY.md has each default).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Limits (docs/SECURITY.md)")]
pub struct LimitArgs {
    /// Largest request body in bytes
    #[arg(long, global = true, env = "NUMBERSD_LIMITS_BODY_BYTES")]
    pub limits_body_bytes: Option<usize>,
    /// Seconds from a request's headers to its response
    #[arg(long, global = true, env = "NUMBERSD_LIMITS_REQUEST_TIMEOUT_SECONDS")]
    pub limits_request_timeout_seconds: Option<u64>,
    /// Requests handled at once before answering 503 (0: no limit)
    #[arg(long, global = true, env = "NUMBERSD_LIMITS_MAX_IN_FLIGHT")]
    pub limits_max_in_flight: Option<usize>,
    /// Requests per second per account or operator (0: off)
    #[arg(long, global = true, env = "NUMBERSD_LIMITS_PER_CREDENTIAL_PER_SECOND")]
    pub limits_per_credential_per_second: Option<f64>,
    #[arg(long, global = true, env = "NUMBERSD_LIMITS_PER_CREDENTIAL_BURST")]
    pub limits_per_credential_burst: Option<u32>,
    /// Requests per second per source address, IPv6 per /64 (0: off)
    #[arg(long, global = true, env = "NUMBERSD_LIMITS_PER_ADDRESS_PER_SECOND")]
    pub limits_per_address_per_second: Option<f64>,
    #[arg(long, global = true, env = "NUMBERSD_LIMITS_PER_ADDRESS_BURST")]
    pub limits_per_address_burst: Option<u32>,
    /// Failed authentications per second per source address, refilled (0: off)
    #[arg(long, global = true, env = "NUMBERSD_LIMITS_AUTH_FAILURES_PER_SECOND")]
    pub limits_auth_failures_per_second: Option<f64>,
    /// Failed authentications in a row before the address is refused
    #[arg(long, global = true, env = "NUMBERSD_LIMITS_AUTH_FAILURES_BURST")]
    pub limits_auth_failures_burst: Option<u32>,
    /// Connections open at once
    #[arg(long, global = true, env = "NUMBERSD_CONNECTIONS_MAX_OPEN")]
    pub connections_max_open: Option<usize>,
    /// Seconds to receive a request's headers
    #[arg(
        long,
        global = true,
        env = "NUMBERSD_CONNECTIONS_HEADER_TIMEOUT_SECONDS"
    )]
    pub connections_header_timeout_seconds: Option<u64>,
    /// Seconds a keep-alive connection may wait for its next request
    #[arg(long, global = true, env = "NUMBERSD_CONNECTIONS_IDLE_TIMEOUT_SECONDS")]
    pub connections_idle_timeout_seconds: Option<u64>,
}

impl LimitArgs {
    fn limits(&self) -> FileLimits {
        FileLimits {
            body_bytes: self.limits_body_bytes,
            request_timeout_seconds: self.limits_request_timeout_seconds,
            max_in_flight: self.limits_max_in_flight,
            per_credential_per_second: self.limits_per_credential_per_second,
            per_credential_burst: self.limits_per_credential_burst,
            per_address_per_second: self.limits_per_address_per_second,
            per_address_burst: self.limits_per_address_burst,
            auth_failures_per_second: self.limits_auth_failures_per_second,
            auth_failures_burst: self.limits_auth_failures_burst,
        }
    }

    fn connections(&self) -> FileConnections {
        FileConnections {
            max_open: self.connections_max_open,
            header_timeout_seconds: self.connections_header_timeout_seconds,
            idle_timeout_seconds: self.connections_idle_timeout_seconds,
        }
    }
}

impl GlobalArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.config.clone(),
            database_url: self.database_url.clone(),
            listen: self.listen.clone(),
            operator_key: self.operator_key.clone(),
            secret_key: self.secret_key.clone(),
            previous_secret_keys: self.previous_secret_keys.clone(),
            metrics_listen: self.metrics_listen.clone(),
            webhooks_allow_private: self.webhooks_allow_private,
            throttle: self.throttle,
            limits: self.limits.limits(),
            connections: self.limits.connections(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server and its background workers
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit
    Migrate,
    /// Tenant accounts
    #[command(subcommand)]
    Account(AccountCommand),
    /// API keys of tenant accounts
    #[command(subcommand)]
    Key(KeyCommand),
    /// Operator keys
    #[command(subcommand, name = "operator-key")]
    OperatorKey(OperatorKeyCommand),
    /// Number inventory
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// Secrets stored in the database (sealed with a key derived from the server secret)
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// KYC requirements per region and number type
    #[command(subcommand, name = "number-requirements")]
    NumberRequirements(NumberRequirementsCommand),
    /// KYC number orders: review (approve, reject, block) and list
    #[command(subcommand, name = "number-order")]
    NumberOrder(NumberOrderCommand),
    /// Create the database if missing, a demo account and 100,000 numbers, then serve
    Demo {
        /// How many numbers to generate when the inventory is empty
        #[arg(long, default_value_t = 100_000)]
        count: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Benchmark search and ordering over HTTP against a generated inventory (docs/PERFORMANCE.md);
    /// without --database-url the database is target/bench/numbersd-COUNT.db (SQLite), with a
    /// postgres:// URL a database numbersd_bench_COUNT is created on that server
    Bench(BenchArgs),
}

#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Numbers in the benchmark database
    #[arg(long, default_value_t = 10_000_000)]
    pub count: u64,
    /// Seconds of load per query class (after a short unrecorded warm-up)
    #[arg(long, default_value_t = 5.0)]
    pub duration_per_class: f64,
    /// Also write the results as JSON to this file
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Reuse the database of an earlier run with the same --count instead of generating again
    #[arg(long)]
    pub reuse: bool,
    /// Concurrent HTTP connections of the load generator
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Concurrent clients of the order phase (each orders one number and waits for COMPLETE)
    #[arg(long, default_value_t = 32)]
    pub order_clients: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Sell this fraction (0 to below 1) of a freshly generated inventory before measuring,
    /// spread over the whole number space
    #[arg(long, default_value_t = 0.0)]
    pub sold_fraction: f64,
    /// Server processes over the same database (orders run on one, then on all; the race on all)
    #[arg(long, default_value_t = 1)]
    pub servers: usize,
    /// Distinct values each search class cycles through (fewer where the inventory has fewer)
    #[arg(long, default_value_t = 60)]
    pub values_per_class: usize,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account and its first API key
    Create {
        #[arg(long)]
        name: String,
        /// Print {"account_id","key_id","secret"} as JSON
        #[arg(long)]
        json: bool,
    },
    /// List accounts
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create another key for an account
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key (tenant or operator)
    Revoke { key_id: String },
}

#[derive(Debug, Subcommand)]
pub enum OperatorKeyCommand {
    /// Create an operator key
    Create {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Import numbers from a CSV file with a header row (column e164 required)
    Import {
        file: PathBuf,
        /// Numbers per transaction
        #[arg(long, default_value_t = crate::commands::inventory::BULK_BATCH)]
        batch_size: usize,
        /// Print the summary as JSON
        #[arg(long)]
        json: bool,
    },
    /// Generate realistic synthetic inventory into the database
    Generate {
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value_t = crate::commands::inventory::BULK_BATCH)]
        batch_size: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Seal every stored secret with the current server secret's key: values stored in clear
    /// and values sealed with a previous secret (previous_secret_keys) are sealed again
    Rotate {
        /// SQLite with a generated secret only: generate a new server secret first (the current
        /// one is kept in <db>.secret.previous). Stop the servers of this database first: they
        /// hold the old secret. MessageMedia HMAC secrets derived from the old one stop working.
        #[arg(long)]
        new_secret: bool,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum NumberRequirementsCommand {
    /// Replace the requirements of REGION TYPE with a JSON document {"fields":[…],"attachments":[…]}
    Set {
        region: String,
        #[arg(value_name = "TYPE")]
        number_type: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Print the requirements in force for REGION TYPE (the operator's, else the built-in default) as JSON
    Show {
        region: String,
        #[arg(value_name = "TYPE")]
        number_type: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum NumberOrderCommand {
    /// Approve an IN_REVIEW order: its numbers are assigned to the account
    Approve {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Reject an order (its numbers are released); the reason is kept in its logs
    Reject {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        json: bool,
    },
    /// Block an order (final; its numbers are released); the reason is kept in its logs
    Block {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        json: bool,
    },
    /// List number orders, newest first
    List {
        /// Only these states (comma-separated), e.g. IN_REVIEW
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}
