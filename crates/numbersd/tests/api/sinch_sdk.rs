//! Sinch's official SDKs against the real server: the Python `sinch==2.3.0` and the Node
//! `@sinch/sdk-core@1.5.0` clients (scripts under `tests/sdk/sinch/`), pointed at numbersd by their
//! own configuration options. On first use the SDKs are installed into `target/sdk/sinch/` from the
//! committed pins (pip `--target`, `npm ci` from the lock file); later runs reuse them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{INVENTORY_CSV, Tenant, TestApp, spawn_app};

const PYTHON_SDK: &str = "sinch==2.3.0";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sdk_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../target"));
    target.join("sdk/sinch")
}

fn run(cmd: &mut Command, what: &str) -> String {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Installs once: a marker naming what was installed is written last, so an interrupted install
/// is redone.
fn ensure_installed(dir: &Path, marker_text: &str, install: impl FnOnce(&Path)) {
    let marker = dir.join(".numbersd-installed");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == marker_text) {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    install(dir);
    std::fs::write(&marker, marker_text).unwrap();
}

fn python_sdk() -> PathBuf {
    let dir = sdk_dir().join("python");
    ensure_installed(&dir, PYTHON_SDK, |dir| {
        run(
            Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "-q",
                    "--target",
                ])
                .arg(dir)
                .arg(PYTHON_SDK),
            "pip install sinch",
        );
    });
    dir
}

fn node_sdk() -> PathBuf {
    let sources = manifest_dir().join("tests/sdk/sinch/node");
    let dir = sdk_dir().join("node");
    let lock = std::fs::read_to_string(sources.join("package-lock.json")).unwrap();
    ensure_installed(&dir, &lock, |dir| {
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(sources.join(file), dir.join(file)).unwrap();
        }
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--prefix"])
                .arg(dir),
            "npm ci @sinch/sdk-core",
        );
    });
    dir.join("node_modules")
}

async fn prepared() -> (TestApp, Tenant) {
    let app = spawn_app().await;
    app.import_csv(INVENTORY_CSV).await;
    let tenant = app.tenant("SDK user").await;
    (app, tenant)
}

/// Runs `program script` with the server and credentials in the environment; the JSON it prints.
async fn run_script(app: &TestApp, tenant: &Tenant, mut cmd: Command, what: &'static str) -> Value {
    cmd.env("NUMBERSD_BASE_URL", &app.base)
        .env("SINCH_PROJECT_ID", &tenant.id)
        .env("SINCH_KEY_ID", &tenant.creds.key_id)
        .env("SINCH_KEY_SECRET", &tenant.creds.secret);
    // The server runs on this test's runtime; the script waits on a blocking thread.
    let stdout = tokio::task::spawn_blocking(move || run(&mut cmd, what))
        .await
        .unwrap();
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{what} printed no JSON ({e}): {stdout}"))
}

#[tokio::test]
async fn python_sdk_drives_the_numbers_api() {
    let packages = tokio::task::spawn_blocking(python_sdk).await.unwrap();
    let (app, tenant) = prepared().await;
    let mut cmd = Command::new("python3");
    cmd.arg(manifest_dir().join("tests/sdk/sinch/numbers_flow.py"))
        .env("PYTHONPATH", &packages);
    let out = run_script(&app, &tenant, cmd, "python numbers_flow.py").await;
    assert_eq!(
        out,
        json!({
            "regions": ["AU", "GB", "US"],
            "available": ["+12065550100", "+12065550101", "+12065550123"],
            "checked": {"phoneNumber": "+12065550100", "setupPrice": "0.00", "currency": "USD"},
            "rented": {
                "phoneNumber": "+12065550100",
                "scheduledServicePlanId": "py-plan",
                "scheduledStatus": "WAITING",
                "callbackUrl": "http://127.0.0.1:9/python-callbacks",
            },
            "rentedAny": "+19195550142",
            "listed": ["+12065550100", "+19195550142"],
            "got": {"phoneNumber": "+12065550100", "projectId": tenant.id, "type": "LOCAL"},
            "updatedDisplayName": "Python desk",
            "released": ["+12065550100", "+19195550142"],
            "hmacSecret": "py-secret-0123456789-abcdefghijklmnop",
            "afterRelease": "NumberNotFoundException",
        })
    );
}

#[tokio::test]
async fn node_sdk_drives_the_numbers_api() {
    let modules = tokio::task::spawn_blocking(node_sdk).await.unwrap();
    let (app, tenant) = prepared().await;
    let mut cmd = Command::new("node");
    cmd.arg(manifest_dir().join("tests/sdk/sinch/node/numbers_flow.js"))
        .env("NODE_PATH", &modules);
    let out = run_script(&app, &tenant, cmd, "node numbers_flow.js").await;
    assert_eq!(
        out,
        json!({
            "regions": ["AU", "GB", "US"],
            "available": ["+12065550100", "+12065550101", "+12065550123"],
            "checked": {"phoneNumber": "+12065550101", "monthly": "1.00"},
            "rented": {"phoneNumber": "+12065550101", "scheduledAppId": "node-app", "nextChargeDateIsDate": true},
            "rentedAny": "+12532001234",
            "listed": ["+12065550101", "+12532001234"],
            "got": {"phoneNumber": "+12065550101", "projectId": tenant.id, "capability": ["SMS", "VOICE"]},
            "updated": {"displayName": "Node desk", "callbackUrl": ""},
            "released": ["+12065550101", "+12532001234"],
            "hmacSecret": "node-secret-0123456789-abcdefghijklmn",
            "afterRelease": {"statusCode": 404, "status": "NOT_FOUND"},
        })
    );
}

/// "Set callbackConfiguration and receive a signed callback that verifies": the Python SDK sets
/// the secret, rents with a callbackUrl, and verifies numbersd's callback with its own validator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_verifies_a_signed_callback() {
    let packages = tokio::task::spawn_blocking(python_sdk).await.unwrap();
    let (app, tenant) = prepared().await;
    let mut cmd = Command::new("python3");
    cmd.arg(manifest_dir().join("tests/sdk/sinch/callback_flow.py"))
        .env("PYTHONPATH", &packages);
    let out = run_script(&app, &tenant, cmd, "python callback_flow.py").await;
    assert_eq!(
        out,
        json!({
            "rented": "+12065550123",
            "verifies": true,
            "verifiesWithAnotherSecret": false,
            "verifiesTampered": false,
            "event": {
                "projectId": tenant.id,
                "resourceType": "ACTIVE_NUMBER",
                "resourceId": "+12065550123",
                "eventType": "PROVISIONING_TO_SMS_PLATFORM",
                "status": "SUCCEEDED",
                "timestampHasZone": true,
            },
        })
    );
}

/// The same with the Node SDK's `NumbersCallbackWebhooks` validator, on a voice configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk_verifies_a_signed_callback() {
    let modules = tokio::task::spawn_blocking(node_sdk).await.unwrap();
    let (app, tenant) = prepared().await;
    let mut cmd = Command::new("node");
    cmd.arg(manifest_dir().join("tests/sdk/sinch/node/callback_flow.js"))
        .env("NODE_PATH", &modules);
    let out = run_script(&app, &tenant, cmd, "node callback_flow.js").await;
    assert_eq!(
        out,
        json!({
            "rented": "+12065550101",
            "verifies": true,
            "verifiesWithAnotherSecret": false,
            "event": {
                "projectId": tenant.id,
                "resourceType": "ACTIVE_NUMBER",
                "resourceId": "+12065550101",
                "eventType": "PROVISIONING_TO_VOICE_PLATFORM",
                "status": "SUCCEEDED",
                "timestampIsDate": true,
            },
        })
    );
}
