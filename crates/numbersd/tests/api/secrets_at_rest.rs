//! Secrets at rest, on SQLite and PostgreSQL: a webhook secret (`whsec_…`), a Bandwidth callback
//! password and a Sinch HMAC secret, stored through the API and used by real deliveries, never
//! appear in clear anywhere in the database (SQLite: the database and WAL files' bytes;
//! PostgreSQL: every row of every table as text), and every sealed column holds
//! `enc:v1:<key id>:…`. A SQLite database and its -wal/-shm files are mode 600. A database from
//! before sealing (secrets in clear) is sealed in place by the next start. `numbersd secrets
//! rotate` re-seals everything under a new server secret while the old values keep opening
//! (previous_secret_keys), deliveries keep their secrets across it, and `--new-secret` rotates a
//! SQLite database's generated secret. PostgreSQL without a server secret refuses to serve.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use numbers_core::account::ServerSecret;
use numbers_core::sealing::secret_box;
use numbers_core::webhook::signature::verify_v1;
use numbers_store_sql::sealed_fields::SEALED_FIELDS;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::bandwidth::call;
use crate::helpers::{
    AppOptions, Backend, INVENTORY_CSV, TEST_SECRET_KEY, Tenant, TestApp, TestDatabase,
    fresh_database, on_both_databases, spawn_app_with,
};
use crate::receiver::{Received, Receiver};
use crate::sinch_callbacks::expected_signature;

const WAIT: Duration = Duration::from_secs(30);
const BANDWIDTH_PASSWORD: &str = "Bw-callback-Pa55word-7781";
const HMAC_SECRET: &str = "Sinch-hmac-secret-0123456789-abcdefghij";
const ROTATED_SECRET_KEY: &str = "rotated-server-secret-of-at-least-32-characters";

on_both_databases!(
    secrets_are_sealed_in_every_row_and_file,
    a_database_from_before_sealing_is_sealed_in_place,
    rotation_reseals_everything_while_old_values_keep_opening,
);

fn secret(s: &str) -> ServerSecret {
    ServerSecret::parse(s, "secret_key").unwrap()
}

fn key_id(s: &str) -> String {
    secret_box(Some(&secret(s)), &[])
        .key_id()
        .unwrap()
        .to_string()
}

/// A server on `url` sealing with `current` and opening with `previous` too.
async fn server(url: &str, current: &str, previous: &[&str]) -> TestApp {
    let mut options = AppOptions::default();
    options.config.secret_key = Some(secret(current));
    options.previous_secret_keys = previous.iter().map(|s| secret(s)).collect();
    spawn_app_with(url, options).await
}

/// Where the planted secrets' deliveries go.
struct Receivers {
    native: Receiver,
    bandwidth: Receiver,
    sinch: Receiver,
}

impl Receivers {
    async fn start() -> Self {
        let bandwidth = Receiver::start().await;
        bandwidth.require_basic("hook", BANDWIDTH_PASSWORD);
        Receivers {
            native: Receiver::start().await,
            bandwidth,
            sinch: Receiver::start().await,
        }
    }
}

/// A Sinch request that must succeed.
async fn sinch(app: &TestApp, t: &Tenant, method: Method, rest: &str, body: Value) -> Value {
    let (status, body) = app.sinch(t, method, rest, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Stores one secret of each kind through the doors and has each used by a delivery: a native
/// webhook (its secret signs), a Bandwidth subscription with Basic credentials (sent when the
/// receiver challenges), a Sinch hmacSecret (signs the callback of a configuration change).
/// Returns the webhook's secret.
async fn plant(app: &TestApp, receivers: &Receivers) -> (Tenant, String) {
    app.import_csv(INVENTORY_CSV).await;
    let t = app.tenant("keeper").await;
    let res = app
        .post(
            &t.creds,
            "/v1/webhooks",
            json!({"url": receivers.native.url}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let webhook_secret = res.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(webhook_secret.starts_with("whsec_"));
    let subscription = format!(
        "<Subscription><OrderType>orders</OrderType><CallbackSubscription><URL>{}</URL>\
         <CallbackCredentials><BasicAuthentication><Username>hook</Username>\
         <Password>{BANDWIDTH_PASSWORD}</Password></BasicAuthentication></CallbackCredentials>\
         </CallbackSubscription></Subscription>",
        receivers.bandwidth.url
    );
    let created = call(
        app,
        &t,
        Method::POST,
        "/accounts/{acct}/subscriptions",
        Some(&subscription),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    sinch(
        app,
        &t,
        Method::PATCH,
        "callbackConfiguration",
        json!({"hmacSecret": HMAC_SECRET}),
    )
    .await;
    app.own(&t.creds, &["+12065550100"]).await;
    sinch(
        app,
        &t,
        Method::PATCH,
        "activeNumbers/+12065550100",
        json!({"callbackUrl": receivers.sinch.url,
               "smsConfiguration": {"servicePlanId": "plan-1"}}),
    )
    .await;
    receivers
        .assert_more_delivered(&webhook_secret, [0, 0, 0])
        .await;
    (t, webhook_secret)
}

fn assert_native_signed(r: &Received, secret: &str) {
    let ts: i64 = r.header("numbersd-timestamp").parse().unwrap();
    assert!(
        verify_v1(
            &r.header("numbersd-signature"),
            secret,
            ts,
            r.body.as_bytes()
        ),
        "signed with the webhook's secret"
    );
}

impl Receivers {
    /// How many deliveries each has had.
    fn counts(&self) -> [usize; 3] {
        [
            self.native.delivered().len(),
            self.bandwidth.delivered().len(),
            self.sinch.delivered().len(),
        ]
    }

    /// Waits until each has had more deliveries than `before`, all made with the planted
    /// secrets.
    async fn assert_more_delivered(&self, webhook_secret: &str, before: [usize; 3]) {
        for r in self.native.wait_for_deliveries(before[0] + 1, WAIT).await {
            assert_native_signed(&r, webhook_secret);
        }
        // Delivered = answered 200, which this receiver does only with the right password.
        self.bandwidth
            .wait_for_deliveries(before[1] + 1, WAIT)
            .await;
        for r in self.sinch.wait_for_deliveries(before[2] + 1, WAIT).await {
            assert_eq!(
                r.header("x-sinch-signature"),
                expected_signature(HMAC_SECRET, &r.body)
            );
        }
    }
}

/// Makes more events for the planted targets: a label (native), an order (Bandwidth), a
/// configuration change (Sinch).
async fn more_events(app: &TestApp, t: &Tenant, number: &str) {
    app.own(&t.creds, &[number]).await;
    sinch(
        app,
        t,
        Method::PATCH,
        "activeNumbers/+12065550100",
        json!({"smsConfiguration": {"servicePlanId": format!("plan-{number}")}}),
    )
    .await;
}

/// Starts a server with `keys` (current, previous) on the planted database, makes more events
/// (ordering `number`) and checks their deliveries are made with the planted secrets.
async fn delivers_again(
    url: &str,
    keys: (&str, &[&str]),
    receivers: &Receivers,
    t: &Tenant,
    webhook_secret: &str,
    number: &str,
) {
    let app = server(url, keys.0, keys.1).await;
    let before = receivers.counts();
    more_events(&app, t, number).await;
    receivers
        .assert_more_delivered(webhook_secret, before)
        .await;
    app.shutdown().await;
}

/// The database seen raw, without the store: rows as the driver returns them.
enum Raw {
    Sqlite(rusqlite::Connection, PathBuf),
    Postgres(tokio_postgres::Client),
}

impl Raw {
    async fn open(url: &str) -> Raw {
        if url.starts_with("postgres") {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            Raw::Postgres(client)
        } else {
            let path = numbers_store_sqlite::path_from_url(url).unwrap();
            Raw::Sqlite(rusqlite::Connection::open(&path).unwrap(), path)
        }
    }

    /// (key, value) of every non-null value of a column.
    async fn column(&self, table: &str, key: &str, column: &str) -> Vec<(String, String)> {
        let sql = format!("SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL");
        match self {
            Raw::Sqlite(conn, _) => conn
                .prepare(&sql)
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect(),
            Raw::Postgres(client) => client
                .query(&sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
        }
    }

    async fn execute(&self, sql: &str, values: &[&str]) {
        match self {
            Raw::Sqlite(conn, _) => {
                conn.execute(sql, rusqlite::params_from_iter(values.iter()))
                    .unwrap();
            }
            Raw::Postgres(client) => {
                let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
                    .iter()
                    .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                client.execute(sql, &params).await.unwrap();
            }
        }
    }

    fn placeholders(&self) -> [&'static str; 3] {
        match self {
            Raw::Sqlite(..) => ["?1", "?2", "?3"],
            Raw::Postgres(_) => ["$1", "$2", "$3"],
        }
    }

    /// Everything the database holds, as text: SQLite's database and WAL files byte for byte
    /// (what `strings` would read), PostgreSQL's every row of every table.
    async fn everything(&self) -> String {
        match self {
            Raw::Sqlite(_, path) => {
                let mut text = String::new();
                for suffix in ["", "-wal"] {
                    let mut name = path.as_os_str().to_owned();
                    name.push(suffix);
                    if let Ok(bytes) = std::fs::read(PathBuf::from(name)) {
                        text.push_str(&String::from_utf8_lossy(&bytes));
                    }
                }
                text
            }
            Raw::Postgres(client) => {
                let tables: Vec<String> = client
                    .query(
                        "SELECT table_name::TEXT FROM information_schema.tables \
                         WHERE table_schema = 'public'",
                        &[],
                    )
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                assert!(tables.len() > 10, "{tables:?}");
                let mut text = String::new();
                for table in tables {
                    let rows = client
                        .query(&format!("SELECT t::TEXT FROM public.\"{table}\" t"), &[])
                        .await
                        .unwrap();
                    for row in rows {
                        text.push_str(&row.get::<_, String>(0));
                        text.push('\n');
                    }
                }
                text
            }
        }
    }
}

/// None of the planted secrets is anywhere in the database, and every sealed column holds
/// values sealed with `key`.
async fn assert_sealed(raw: &Raw, webhook_secret: &str, key: &str) {
    let everything = raw.everything().await;
    assert!(everything.len() > 10_000, "the dump has the inventory");
    for clear in [webhook_secret, "whsec_", BANDWIDTH_PASSWORD, HMAC_SECRET] {
        assert!(
            !everything.contains(clear),
            "{clear} is stored in clear somewhere"
        );
    }
    let mut sealed = 0;
    for field in SEALED_FIELDS {
        for (row, value) in raw.column(field.table, field.key, field.column).await {
            assert!(
                value.starts_with(&format!("enc:v1:{key}:")),
                "{}.{} of {row} is not sealed with {key}: {value}",
                field.table,
                field.column
            );
            sealed += 1;
        }
    }
    // The webhook secret and both format configurations, the HMAC secret, the deliveries'
    // configurations and the Sinch callbacks' signing secrets.
    assert!(sealed >= 8, "{sealed} sealed values");
}

async fn secrets_are_sealed_in_every_row_and_file(backend: Backend) {
    let Some(url) = fresh_database(backend).await else {
        return;
    };
    let receivers = Receivers::start().await;
    let app = server(&url, TEST_SECRET_KEY, &[]).await;
    let (_, webhook_secret) = plant(&app, &receivers).await;
    #[cfg(unix)]
    if backend == Backend::Sqlite {
        use std::os::unix::fs::PermissionsExt;
        let path = numbers_store_sqlite::path_from_url(&url).unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let mode = std::fs::metadata(PathBuf::from(&name))
                .unwrap_or_else(|e| panic!("{name:?}: {e}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name:?} is {:o}", mode & 0o777);
        }
    }
    app.shutdown().await;
    let raw = Raw::open(&url).await;
    assert_sealed(&raw, &webhook_secret, &key_id(TEST_SECRET_KEY)).await;
}

/// Runs the numbersd binary against `url` with exactly these server secrets.
fn numbersd(url: &str, secret_key: Option<&str>, previous: &[&str], args: &[&str]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_numbersd"));
    command
        .args(args)
        .args(["--database-url", url, "--metrics-listen", "off"])
        .env("NUMBERSD_LOG", "warn")
        .env_remove("NUMBERSD_SECRET_KEY")
        .env_remove("NUMBERSD_PREVIOUS_SECRET_KEYS")
        .env_remove("NUMBERSD_CONFIG");
    if let Some(key) = secret_key {
        command.env("NUMBERSD_SECRET_KEY", key);
    }
    if !previous.is_empty() {
        command.env("NUMBERSD_PREVIOUS_SECRET_KEYS", previous.join(","));
    }
    let out = command.output().expect("run numbersd");
    assert!(
        out.status.success(),
        "numbersd {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn rotate(url: &str, secret_key: Option<&str>, previous: &[&str], new_secret: bool) -> Value {
    let mut args = vec!["secrets", "rotate", "--json"];
    if new_secret {
        args.push("--new-secret");
    }
    serde_json::from_str(numbersd(url, secret_key, previous, &args).trim()).unwrap()
}

/// A fresh database where a server with the test secret has planted its secrets, stopped.
async fn planted_database(backend: Backend) -> Option<(TestDatabase, Receivers, Tenant, String)> {
    let url = fresh_database(backend).await?;
    let receivers = Receivers::start().await;
    let app = server(&url, TEST_SECRET_KEY, &[]).await;
    let (t, webhook_secret) = plant(&app, &receivers).await;
    app.shutdown().await;
    Some((url, receivers, t, webhook_secret))
}

async fn a_database_from_before_sealing_is_sealed_in_place(backend: Backend) {
    let Some((url, receivers, t, webhook_secret)) = planted_database(backend).await else {
        return;
    };
    // Turn the database into one from before sealing: every secret in clear, no pass recorded.
    let raw = Raw::open(&url).await;
    let keys = secret_box(Some(&secret(TEST_SECRET_KEY)), &[]);
    let [p1, p2, p3] = raw.placeholders();
    for field in SEALED_FIELDS {
        for (row, value) in raw.column(field.table, field.key, field.column).await {
            let clear = keys.open(&value, field.purpose).unwrap();
            raw.execute(
                &format!(
                    "UPDATE {} SET {} = {p1} WHERE {} = {p2} AND {} = {p3}",
                    field.table, field.column, field.key, field.column
                ),
                &[&clear, &row, &value],
            )
            .await;
        }
    }
    raw.execute("UPDATE secrets_at_rest SET key_id = NULL", &[])
        .await;
    let everything = raw.everything().await;
    assert!(everything.contains(&webhook_secret) && everything.contains(BANDWIDTH_PASSWORD));
    drop(raw);
    // Any start seals them: here a command of the command line.
    numbersd(&url, Some(TEST_SECRET_KEY), &[], &["account", "list"]);
    let raw = Raw::open(&url).await;
    assert_sealed(&raw, &webhook_secret, &key_id(TEST_SECRET_KEY)).await;
    drop(raw);
    // And the secrets are the same ones: deliveries are still made with them.
    delivers_again(
        &url,
        (TEST_SECRET_KEY, &[]),
        &receivers,
        &t,
        &webhook_secret,
        "+12065550101",
    )
    .await;
}

async fn rotation_reseals_everything_while_old_values_keep_opening(backend: Backend) {
    let Some((url, receivers, t, webhook_secret)) = planted_database(backend).await else {
        return;
    };

    // The new secret is configured with the old one as previous: values sealed with the old
    // key still open (deliveries use them) while new ones are sealed with the new key.
    delivers_again(
        &url,
        (ROTATED_SECRET_KEY, &[TEST_SECRET_KEY]),
        &receivers,
        &t,
        &webhook_secret,
        "+12065550101",
    )
    .await;
    let report = rotate(&url, Some(ROTATED_SECRET_KEY), &[TEST_SECRET_KEY], false);
    assert_eq!(report["key_id"], json!(key_id(ROTATED_SECRET_KEY)));
    assert_eq!(report["sealed"], 0, "nothing was in clear: {report}");
    assert!(
        report["resealed"].as_u64().unwrap() >= 8,
        "the values under the old key: {report}"
    );
    let raw = Raw::open(&url).await;
    assert_sealed(&raw, &webhook_secret, &key_id(ROTATED_SECRET_KEY)).await;
    drop(raw);
    let again = rotate(&url, Some(ROTATED_SECRET_KEY), &[], false);
    assert_eq!(
        (again["sealed"].clone(), again["resealed"].clone()),
        (json!(0), json!(0))
    );

    // The old secret is no longer needed, and no longer enough.
    delivers_again(
        &url,
        (ROTATED_SECRET_KEY, &[]),
        &receivers,
        &t,
        &webhook_secret,
        "+12065550123",
    )
    .await;
    let old_only = server(&url, TEST_SECRET_KEY, &[]).await;
    let res = old_only.get(&t.creds, "/v1/webhooks").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    old_only.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_sqlite_secret_is_replaced_by_rotate_new_secret() {
    let url = fresh_database(Backend::Sqlite).await.unwrap();
    let path = numbers_store_sqlite::path_from_url(&url).unwrap();
    let secret_file = numbersd::secret::secret_file_for(&path);
    let previous_file = numbersd::secret::previous_secret_file_for(&path);
    numbersd(&url, None, &[], &["account", "list"]);
    let old = std::fs::read_to_string(&secret_file).unwrap();
    let receivers = Receivers::start().await;
    let app = server(&url, &old, &[]).await;
    let (t, webhook_secret) = plant(&app, &receivers).await;
    app.shutdown().await;

    let report = rotate(&url, None, &[], true);
    let new = std::fs::read_to_string(&secret_file).unwrap();
    assert_ne!(new, old);
    assert_eq!(std::fs::read_to_string(&previous_file).unwrap(), old);
    assert_eq!(report["key_id"], json!(key_id(&new)));
    assert!(report["resealed"].as_u64().unwrap() >= 8, "{report}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [&secret_file, &previous_file] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file:?}");
        }
    }
    let raw = Raw::open(&url).await;
    assert_sealed(&raw, &webhook_secret, &key_id(&new)).await;
    drop(raw);
    let again = rotate(&url, None, &[], false);
    assert_eq!(
        (again["sealed"].clone(), again["resealed"].clone()),
        (json!(0), json!(0))
    );
    delivers_again(
        &url,
        (&new, &[]),
        &receivers,
        &t,
        &webhook_secret,
        "+12065550101",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refuses_to_serve_without_a_server_secret() {
    let Some(url) = fresh_database(Backend::Postgres).await else {
        return;
    };
    let out = Command::new(env!("CARGO_BIN_EXE_numbersd"))
        .args(["serve", "--database-url", &url, "--listen", "127.0.0.1:0"])
        .args(["--metrics-listen", "off"])
        .env_remove("NUMBERSD_SECRET_KEY")
        .env_remove("NUMBERSD_CONFIG")
        .env("NUMBERSD_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("needs a server secret"), "{stderr}");
}
