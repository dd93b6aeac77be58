//! Sinch's official SDKs against the real server: the Python `sinch==2.3.0` and the Node
//! `@sinch/sdk-core@1.5.0` clients (scripts under `tests/sdk/sinch/`), pointed at numbersd by their
//! own configuration options. On first use the SDKs are installed into `target/sdk/sinch/` from the
//! committed pins (pip `--target`, `npm ci` from the lock file); later runs reuse them.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use crate::helpers::{INVENTORY_CSV, Tenant, TestApp, spawn_app};
use crate::sdk_install::{self, run};

const PYTHON_SDK: &str = "sinch==2.3.0";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python_sdk() -> PathBuf {
    sdk_install::python_sdk("sinch", PYTHON_SDK)
}

fn node_sdk() -> PathBuf {
    sdk_install::node_sdk("sinch", "tests/sdk/sinch/node")
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
    let stdout = tokio::task::spawn_blocking(move || {
        String::from_utf8_lossy(&run(&mut cmd, what).stdout).into_owned()
    })
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
