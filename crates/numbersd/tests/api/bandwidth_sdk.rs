//! Bandwidth's official SDKs, unchanged, against the real server: PyPI `bandwidth-numbers-sdk`
//! 1.2.0 and npm `@bandwidth/numbers` 2.0.0 (pinned in `tests/sdk/bandwidth/`). Each is installed
//! on first use into `target/sdk/bandwidth/` (pip `--target`, `npm ci` from the committed lock),
//! then its script runs the guide's flow — search (plain and with TN detail), order by numbers and
//! by area code, poll to COMPLETE, a PARTIAL order with per-number errors, a reservation then an
//! order with its ReservationIdList, the in-service list, a disconnect polled to COMPLETE, and the
//! number in Aging via `/tns/{tn}`, and a subscription receiving a notification (Python: orders,
//! with its legacy `<User>`; Node: disconnects, created, updated and listed) — printing what the
//! SDK saw as JSON, which is asserted here together with what the test's receiver got.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::bandwidth::{setup, text_of};
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_on};
use crate::receiver::{Received, Receiver};
use crate::sdk_install::{self, run};

const PYTHON_SDK: &str = "bandwidth-numbers-sdk==1.2.0";

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/bandwidth")
}

fn install_python() -> PathBuf {
    sdk_install::python_sdk("bandwidth", PYTHON_SDK)
}

fn install_node() -> PathBuf {
    sdk_install::node_sdk("bandwidth", "tests/sdk/bandwidth")
}

/// Runs one SDK script against the app (its own tenant, site and peer) and parses its JSON.
async fn run_script(
    app: &TestApp,
    program: &str,
    script: &str,
    path_var: (&str, &Path),
    hook: &Receiver,
) -> Value {
    let (tenant, site, _peer) = setup(app).await;
    let mut cmd = Command::new(program);
    cmd.arg(scripts().join(script))
        .env("NUMBERSD_BASE", format!("{}/api", app.base))
        .env("NUMBERSD_ACCOUNT", &tenant.id)
        .env("NUMBERSD_KEY", &tenant.creds.key_id)
        .env("NUMBERSD_SECRET", &tenant.creds.secret)
        .env("NUMBERSD_SITE", &site)
        .env("NUMBERSD_HOOK", &hook.url)
        .env(path_var.0, path_var.1);
    let what = format!("{program} {script}");
    let out = tokio::task::spawn_blocking(move || run(&mut cmd, &what))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}):\n{stdout}"))
}

/// What both SDKs must have seen (the inventory is `helpers::INVENTORY_CSV`).
fn assert_common(out: &Value) {
    assert_eq!(out["search"], json!(["2065550100", "2065550101"]));
    assert_eq!(out["search_detail"][0]["full_number"], "9195550142");
    assert_eq!(out["search_detail"][0]["city"], "RALEIGH");
    assert_eq!(out["search_detail"].as_array().unwrap().len(), 2);
    assert_eq!(out["order_created_status"], "RECEIVED");
    assert_eq!(out["order_status"], "COMPLETE");
    assert_eq!(out["order_completed"], json!(["2065550100", "2065550101"]));
    assert_eq!(out["area_code_status"], "COMPLETE");
    assert_eq!(out["area_code_completed"], json!(["9195550142"]));
    assert_eq!(out["reservation_tn"], "2065617890");
    assert!(
        out["reservation_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36)
    );
    assert_eq!(out["reserved_order_status"], "COMPLETE");
    assert_eq!(
        out["in_service"],
        json!([
            "2065550100",
            "2065550101",
            "2065552233",
            "2065617890",
            "9195550142"
        ])
    );
    assert_eq!(out["disconnect_created_status"], "RECEIVED");
    assert_eq!(out["disconnect_status"], "COMPLETE");
    assert_eq!(out["tn_status"], "Aging");
}

/// The notification the receiver got about `order_id`, waiting for it.
async fn notification_about(hook: &Receiver, order_id: &str) -> Received {
    let started = std::time::Instant::now();
    loop {
        if let Some(r) = hook
            .delivered()
            .into_iter()
            .find(|r| text_of(&r.body, "OrderId").as_deref() == Some(order_id))
        {
            return r;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no notification about {order_id}: {:#?}",
            hook.requests()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn python_flow(app: TestApp) {
    let sdk = tokio::task::spawn_blocking(install_python).await.unwrap();
    let hook = Receiver::start().await;
    let out = run_script(
        &app,
        "python3",
        "sdk_python.py",
        ("PYTHONPATH", sdk.as_path()),
        &hook,
    )
    .await;
    assert_common(&out);
    // The subscription the SDK created (id from Location), as its list shows it.
    let subscription = out["subscription_id"].as_str().unwrap();
    assert_eq!(
        out["subscriptions"],
        json!([{"id": subscription, "order_type": "orders", "url": hook.url, "expiry": "3600"}])
    );
    assert_eq!(
        out["subscriptions_get"], "TypeError",
        "the SDK's own subscriptions.get bug (upstream)"
    );
    let note = notification_about(&hook, out["order_id"].as_str().unwrap()).await;
    assert_eq!(
        note.header("content-type"),
        "application/xml; charset=utf-8"
    );
    assert_eq!(
        text_of(&note.body, "SubscriptionId").as_deref(),
        Some(subscription)
    );
    assert_eq!(text_of(&note.body, "Status").as_deref(), Some("COMPLETE"));
    assert_eq!(
        text_of(&note.body, "CustomerOrderId").as_deref(),
        Some("py-1")
    );
    assert!(
        note.body
            .contains("<TelephoneNumber>2065550100</TelephoneNumber>")
    );
    assert_eq!(out["partial_status"], "PARTIAL");
    assert_eq!(out["partial_completed"], json!(["2065552233"]));
    assert_eq!(
        out["partial_errors"],
        json!([{"code": "5005", "telephone_number": "2065550100"}])
    );
    assert_eq!(
        out["in_service_after"],
        json!(["2065550101", "2065552233", "2065617890", "9195550142"])
    );
    // The core agrees: the disconnected number is aging, not the account's any more.
    let native: Value = app
        .get(&app.operator, "/v1/operator/inventory/stats")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(native["aging"], 1);
}

async fn node_flow(app: TestApp) {
    let modules = tokio::task::spawn_blocking(install_node).await.unwrap();
    let hook = Receiver::start().await;
    let out = run_script(
        &app,
        "node",
        "sdk_node.js",
        ("NODE_PATH", modules.as_path()),
        &hook,
    )
    .await;
    assert_common(&out);
    // Created (Location, then the SDK's GET through <Subscriptions>), updated, listed.
    let subscription = out["subscription_id"].as_str().unwrap();
    assert_eq!(
        out["subscription_created"],
        json!({"order_type": "disconnects", "url": hook.url, "expiry": 3600})
    );
    assert_eq!(
        out["subscriptions"],
        json!([{"id": subscription, "order_type": "disconnects", "expiry": 7200}])
    );
    let note = notification_about(&hook, out["disconnect_id"].as_str().unwrap()).await;
    assert_eq!(
        text_of(&note.body, "SubscriptionId").as_deref(),
        Some(subscription)
    );
    assert_eq!(
        text_of(&note.body, "OrderType").as_deref(),
        Some("disconnects")
    );
    assert_eq!(text_of(&note.body, "Status").as_deref(), Some("COMPLETE"));
    assert!(
        note.body
            .contains("<TelephoneNumber>2065550100</TelephoneNumber>")
    );
    assert_eq!(
        out["search_detail"][0]["lata"], 426,
        "the Node parser turns numbers into numbers"
    );
    // The Node SDK rejects a 2xx body with <Error><Code>/<Description>: a PARTIAL order
    // surfaces as a BandwidthError carrying the per-number code (upstream behaviour).
    assert_eq!(out["partial_error_code"], "5005");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_runs_the_guide_flow() {
    python_flow(spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sdk_runs_the_guide_flow() {
    node_flow(spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_runs_the_guide_flow_on_postgres() {
    let Some(app) = spawn_app_on(Backend::Postgres).await else {
        eprintln!("NUMBERSD_TEST_POSTGRES_URL not set: skipping the PostgreSQL run");
        return;
    };
    python_flow(app).await;
}
