//! `spawn_app`: a real numbersd on 127.0.0.1:0 over a fresh SQLite file (or a fresh PostgreSQL
//! database when asked and `NUMBERSD_TEST_POSTGRES_URL` is set), with its workers running and a
//! `ManualClock` the test moves.

use std::sync::Arc;
use std::time::Duration;

use numbers_core::account::{IssuedKey, ServerSecret};
use numbers_core::clock::{Clock, ManualClock};
use numbers_core::service::{Service, ServiceConfig};
use numbers_core::store::SearchLimits;
use numbers_core::webhook::Registry;
use numbers_core::worker::WorkerSettings;
use numbersd::startup::{
    ServeSettings, build_service_with, launch_with, open_store_with, webhook_registry,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Credentials for HTTP Basic.
#[derive(Debug, Clone)]
pub struct Creds {
    pub key_id: String,
    pub secret: String,
}

#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: String,
    pub creds: Creds,
}

pub struct TestApp {
    pub base: String,
    pub service: Service,
    pub clock: Arc<ManualClock>,
    pub operator: Creds,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    running: Option<tokio::task::JoinHandle<()>>,
    /// The database this server was started on when it made the database itself
    /// (`spawn_app_configured`): removed after the server is told to stop.
    owned_database: Option<TestDatabase>,
}

/// How `spawn_app_with` builds a server; the defaults are what `spawn_app_on` uses.
pub struct AppOptions {
    /// Shared with another server over the same database, so both see the same time.
    pub clock: Arc<ManualClock>,
    pub config: ServiceConfig,
    pub webhooks: Registry,
    /// Adjusts the service before the server starts (e.g. a provisioning hook).
    pub configure: Box<dyn FnOnce(Service) -> Service + Send>,
    /// Server secrets before `config.secret_key`: they still open what they sealed.
    pub previous_secret_keys: Vec<ServerSecret>,
    /// How much one search may read.
    pub search_limits: SearchLimits,
    /// The edge's limits and throttles (the documented defaults unless a test changes them).
    pub serve: ServeSettings,
}

impl Default for AppOptions {
    fn default() -> Self {
        let mut config = ServiceConfig {
            // With a server secret, tenants' keys are derived from it and can sign requests (HMAC).
            secret_key: Some(ServerSecret::parse(TEST_SECRET_KEY, "secret_key").unwrap()),
            ..ServiceConfig::default()
        };
        // Receivers in the tests listen on 127.0.0.1; the server may call them.
        config.webhooks.allow_private = true;
        config.webhooks.poll_interval = Duration::from_millis(20);
        AppOptions {
            clock: Arc::new(ManualClock::starting_now()),
            config,
            webhooks: webhook_registry(),
            configure: Box::new(|service| service),
            previous_secret_keys: Vec::new(),
            search_limits: SearchLimits::default(),
            serve: ServeSettings::default(),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A database `fresh_database` made, removed when this is dropped: the SQLite file with every
/// file named after it — WAL, shared memory, generated secret, a test's own (a stopping server
/// may still hold them open; Unix lets it), or the PostgreSQL database (`WITH (FORCE)` ends the connections its pools still
/// hold). Derefs to its URL. Declared before the servers that use it, it outlives them.
#[derive(Debug)]
pub struct TestDatabase(String);

impl std::ops::Deref for TestDatabase {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let url = &self.0;
        if let Some(path) = url.strip_prefix("sqlite://") {
            // The file and every file named after it (`-wal`, `-shm`, `.secret`, a test's own).
            let path = std::path::Path::new(path);
            if let (Some(dir), Some(name)) = (path.parent(), path.file_name())
                && let Ok(entries) = std::fs::read_dir(dir)
            {
                for entry in entries.flatten() {
                    if entry
                        .file_name()
                        .as_encoded_bytes()
                        .starts_with(name.as_encoded_bytes())
                    {
                        let _ = std::fs::remove_file(entry.path());
                    }
                }
            }
            return;
        }
        let (Ok(server), Some(name)) = (
            std::env::var("NUMBERSD_TEST_POSTGRES_URL"),
            url.rsplit('/')
                .next()
                .and_then(|tail| tail.split('?').next())
                .map(str::to_string),
        ) else {
            return;
        };
        // On a thread of its own: `Drop` cannot await, and the test's runtime may be
        // single-threaded.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test database");
            runtime.block_on(numbers_store_postgres::drop_database(&server, &name))
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop the test database {url}: {e}");
        }
    }
}

/// The server secret every test server runs with.
pub const TEST_SECRET_KEY: &str = "test-secret-key-of-at-least-32-characters";

pub async fn spawn_app() -> TestApp {
    spawn_app_on(Backend::Sqlite)
        .await
        .expect("sqlite is always available")
}

/// `None` when the backend is PostgreSQL and no server URL is configured.
pub async fn spawn_app_on(backend: Backend) -> Option<TestApp> {
    spawn_app_configured(backend, |service| service).await
}

/// `spawn_app_on` with the service adjusted before the server starts (e.g. a provisioning hook).
pub async fn spawn_app_configured(
    backend: Backend,
    configure: impl FnOnce(Service) -> Service + Send + 'static,
) -> Option<TestApp> {
    let url = fresh_database(backend).await?;
    let options = AppOptions {
        configure: Box::new(configure),
        ..AppOptions::default()
    };
    Some(spawn_app_owning(url, options).await)
}

/// `spawn_app_with` on a database the server keeps, and removes when it is dropped.
pub async fn spawn_app_owning(database: TestDatabase, options: AppOptions) -> TestApp {
    let mut app = spawn_app_with(&database, options).await;
    app.owned_database = Some(database);
    app
}

/// A new empty database: a SQLite file in the temp directory, or a fresh PostgreSQL database
/// (`None` when `NUMBERSD_TEST_POSTGRES_URL` is not set); removed when the guard is dropped.
pub async fn fresh_database(backend: Backend) -> Option<TestDatabase> {
    Some(TestDatabase(match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("numbersd-api-tests");
            std::fs::create_dir_all(&dir).unwrap();
            format!(
                "sqlite://{}",
                dir.join(format!("{}.db", uuid::Uuid::new_v4())).display()
            )
        }
        Backend::Postgres => {
            let server = std::env::var("NUMBERSD_TEST_POSTGRES_URL").ok()?;
            let name = format!("numbersd_api_{}", uuid::Uuid::new_v4().simple());
            numbers_store_postgres::create_database(&server, &name)
                .await
                .expect("create test database")
        }
    }))
}

/// A server process over the database at `url` (which may already be in use by another).
pub async fn spawn_app_with(url: &str, options: AppOptions) -> TestApp {
    // The store seals secrets with keys from the server secret (and opens with the previous ones).
    let secrets = numbers_core::sealing::secret_box(
        options.config.secret_key.as_ref(),
        &options.previous_secret_keys,
    );
    let store = open_store_with(url, secrets, options.search_limits)
        .await
        .expect("open store");
    let clock = options.clock;
    let serve = options.serve;
    let service = (options.configure)(build_service_with(
        store,
        clock.clone() as Arc<dyn Clock>,
        options.config,
        options.webhooks,
    ));
    // Like an operator key from the configuration: random, so it cannot sign requests.
    let operator = IssuedKey::generate(None);
    service.ensure_operator_key(&operator).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let workers = WorkerSettings {
        order_poll: Duration::from_millis(20),
        maintenance_every: Duration::from_millis(200),
    };
    let running = service.clone();
    let running = tokio::spawn(async move {
        launch_with(running, listener, workers, serve, async {
            let _ = stopped.await;
        })
        .await
        .expect("server runs");
    });
    TestApp {
        base,
        service,
        clock,
        operator: Creds {
            key_id: operator.key_id,
            secret: operator.secret,
        },
        client: reqwest::Client::new(),
        stop: Some(stop),
        running: Some(running),
        owned_database: None,
    }
}

impl TestApp {
    /// Stops the server and its workers and waits until they are gone.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(running) = self.running.take() {
            running.await.unwrap();
        }
    }

    pub fn request(&self, method: Method, creds: &Creds, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&creds.key_id, Some(&creds.secret))
    }

    pub fn get(&self, creds: &Creds, path: &str) -> RequestBuilder {
        self.request(Method::GET, creds, path)
    }

    pub fn post(&self, creds: &Creds, path: &str, body: Value) -> RequestBuilder {
        self.request(Method::POST, creds, path).json(&body)
    }

    pub async fn tenant(&self, name: &str) -> Tenant {
        let res = self
            .post(
                &self.operator,
                "/v1/operator/accounts",
                json!({"name": name}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        Tenant {
            id: body["account"]["id"].as_str().unwrap().to_string(),
            creds: Creds {
                key_id: body["key"]["key_id"].as_str().unwrap().to_string(),
                secret: body["key"]["secret"].as_str().unwrap().to_string(),
            },
        }
    }

    /// Imports a CSV document through the operator API.
    pub async fn import_csv(&self, csv: &str) -> Value {
        let body = self.import_csv_answer(csv.to_string()).await;
        assert_eq!(body["rejected"], json!([]), "fixture rows are valid");
        body
    }

    /// Imports a CSV document that may have rejected rows; the answer (asserted 200).
    pub async fn import_csv_answer(&self, csv: String) -> Value {
        let res = self
            .request(Method::POST, &self.operator, "/v1/operator/inventory")
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// Runs expiry, aging and backorder retry now (the clock was moved).
    pub async fn maintenance(&self) -> Value {
        let res = self
            .post(&self.operator, "/v1/operator/maintenance", json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    pub async fn order(&self, creds: &Creds, body: Value) -> Value {
        let res = self.post(creds, "/v1/orders", body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::ACCEPTED, "order accepted");
        res.json().await.unwrap()
    }

    /// Polls the order until the worker has finished with it (final or BACKORDERED).
    pub async fn settled_order(&self, creds: &Creds, id: &str) -> Value {
        for _ in 0..500 {
            let order: Value = self
                .get(creds, &format!("/v1/orders/{id}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if matches!(
                order["status"].as_str(),
                Some("COMPLETE" | "PARTIAL" | "FAILED" | "BACKORDERED")
            ) {
                return order;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("order {id} never settled");
    }

    /// Orders the numbers and waits until the order is COMPLETE.
    pub async fn own(&self, creds: &Creds, numbers: &[&str]) {
        let order = self.order(creds, json!({ "numbers": numbers })).await;
        let order = self
            .settled_order(creds, order["id"].as_str().unwrap())
            .await;
        assert_eq!(order["status"], "COMPLETE");
    }

    /// A request to the tenant's Sinch project (`/v1/projects/{id}/{rest}`; HTTP Basic works on
    /// every Sinch route); the status and the JSON answer (null when there is none).
    pub async fn sinch(
        &self,
        t: &Tenant,
        method: Method,
        rest: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let res = self
            .request(method, &t.creds, &format!("/v1/projects/{}/{rest}", t.id))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn number(&self, creds: &Creds, e164: &str) -> Response {
        self.get(creds, &format!("/v1/numbers/{e164}"))
            .send()
            .await
            .unwrap()
    }
}

/// A compact realistic inventory: Seattle/Tacoma/Raleigh locals, toll-free, AU mobiles, GB.
pub const INVENTORY_CSV: &str = "\
e164,type,capabilities,classification,rate_center,state,city,lata,zip,tier,vendor_id,vendor_name,setup_price,monthly_price,currency,protected
+12065550100,LOCAL,SMS|VOICE,,SEATTLE,WA,SEATTLE,674,98101,0,49,Bandwidth CLEC,0.00,1.00,USD,false
+12065550101,LOCAL,SMS|VOICE,,SEATTLE,WA,SEATTLE,674,98101,0,49,Bandwidth CLEC,0.00,1.00,USD,false
+12065550123,LOCAL,SMS|MMS|VOICE,,SEATTLE,WA,SEATTLE,674,98101,0,49,Bandwidth CLEC,0.00,1.00,USD,false
+12065552233,LOCAL,VOICE,,SEATTLE,WA,SEATTLE,674,98104,1,49,Bandwidth CLEC,0.00,1.00,USD,false
+12065557777,LOCAL,SMS|VOICE,,SEATTLE,WA,SEATTLE,674,98104,0,49,Bandwidth CLEC,0.00,1.00,USD,true
+12065617890,LOCAL,SMS|VOICE,,SEATTLE,WA,SEATTLE,674,98101,0,49,Bandwidth CLEC,0.00,1.00,USD,false
+12065999999,LOCAL,SMS|VOICE,,SEATTLE,WA,SEATTLE,674,98101,2,49,Bandwidth CLEC,5.00,9.00,USD,false
+12532001234,LOCAL,SMS|VOICE,,TACOMA,WA,TACOMA,674,98402,0,49,Bandwidth CLEC,0.00,1.00,USD,false
+19195550142,LOCAL,SMS|VOICE,,RALEIGH,NC,RALEIGH,426,27601,0,12,Carolina Tel,0.00,1.00,USD,false
+19195552233,LOCAL,SMS,,RALEIGH,NC,RALEIGH,426,27601,0,12,Carolina Tel,0.00,1.00,USD,false
+18005550199,TOLL_FREE,VOICE|SMS,,,,,,,,7,TF Corp,1.00,2.00,USD,false
+18775552233,TOLL_FREE,VOICE,,,,,,,,7,TF Corp,1.00,2.00,USD,false
+18885554321,TOLL_FREE,VOICE|SMS,,,,,,,,7,TF Corp,1.00,2.00,USD,false
+61491570156,MOBILE,SMS,,,,,,,,3,AU Mobile,0.00,5.00,AUD,false
+61491570157,MOBILE,SMS|MMS,,,,,,,,3,AU Mobile,0.00,5.00,AUD,false
+61491570999,MOBILE,SMS,,,,,,,,3,AU Mobile,0.00,5.00,AUD,false
+447400123456,MOBILE,SMS|VOICE,,,,,,,,4,UK Mobile,0.00,3.00,GBP,false
";

/// The numbers of an answer's `data` list.
pub fn e164s(list: &Value) -> Vec<String> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["e164"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts a problem+json answer with the status and (when given) a field named in `errors`.
pub async fn assert_problem(res: Response, status: StatusCode, field: Option<&str>) -> Value {
    assert_eq!(res.status(), status);
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], json!(status.as_u16()));
    if let Some(field) = field {
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["field"].as_str()).collect())
            .unwrap_or_default();
        assert!(fields.contains(&field), "expected field {field} in {body}");
    }
    body
}

/// Runs each scenario as two tests: on SQLite, and on PostgreSQL when
/// `NUMBERSD_TEST_POSTGRES_URL` names a server (the scenario returns at once otherwise).
macro_rules! on_both_databases {
    ($($scenario:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(crate::helpers::Backend::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(crate::helpers::Backend::Postgres).await;
                }
            )+
        }
    };
}
pub(crate) use on_both_databases;
