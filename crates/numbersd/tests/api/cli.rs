//! The `numbersd` command line, run as a process against a SQLite file.

use std::process::Command;

use serde_json::Value;

fn db() -> String {
    let dir = std::env::temp_dir().join("numbersd-cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    format!(
        "sqlite://{}",
        dir.join(format!("{}.db", uuid::Uuid::new_v4())).display()
    )
}

fn numbersd(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_numbersd"))
        .args(args)
        .args(["--database-url", db])
        .env("NUMBERSD_LOG", "warn")
        .output()
        .expect("run numbersd");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn account_and_key_commands() {
    let db = db();
    let (ok, out, err) = numbersd(&db, &["migrate"]);
    assert!(ok, "{err}");
    assert!(out.contains("current schema"));
    let (ok, out, err) = numbersd(
        &db,
        &["account", "create", "--name", "Acme Telecom", "--json"],
    );
    assert!(ok, "{err}");
    let created: Value = serde_json::from_str(out.trim()).unwrap();
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "account_id",
            "bandwidth_peer_id",
            "bandwidth_site_id",
            "key_id",
            "secret"
        ],
        "exactly these keys"
    );
    let account = created["account_id"].as_str().unwrap();
    let (ok, out, _) = numbersd(&db, &["account", "list", "--json"]);
    assert!(ok);
    let list: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(list[0]["name"], "Acme Telecom");
    let (ok, out, _) = numbersd(&db, &["key", "create", "--account", account, "--json"]);
    assert!(ok);
    let key: Value = serde_json::from_str(out.trim()).unwrap();
    let (ok, _, _) = numbersd(&db, &["key", "revoke", key["key_id"].as_str().unwrap()]);
    assert!(ok);
    let (ok, _, err) = numbersd(&db, &["key", "revoke", key["key_id"].as_str().unwrap()]);
    assert!(!ok && err.contains("not found"), "{err}");
    let (ok, _, err) = numbersd(&db, &["key", "create", "--account", "not-a-uuid"]);
    assert!(!ok && err.contains("account_id"), "{err}");
    let (ok, out, _) = numbersd(&db, &["operator-key", "create", "--json"]);
    assert!(ok);
    assert!(
        serde_json::from_str::<Value>(out.trim()).unwrap()["secret"]
            .as_str()
            .unwrap()
            .len()
            >= 32
    );
    let (ok, _, err) = numbersd(&db, &["account", "create", "--name", "   "]);
    assert!(!ok && err.contains("name"), "{err}");
}

#[test]
fn inventory_import_and_generate() {
    let db = db();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/inventory.csv");
    let (ok, out, err) = numbersd(&db, &["inventory", "import", example, "--json"]);
    assert!(ok, "{err}");
    let summary: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(summary["inserted"].as_u64().unwrap() >= 10);
    assert_eq!(summary["rejected"], Value::Array(vec![]));
    // Importing again inserts nothing new.
    let (_, out, _) = numbersd(&db, &["inventory", "import", example, "--json"]);
    let again: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(again["inserted"], 0);
    assert_eq!(again["existing"], summary["inserted"]);

    let bad = std::env::temp_dir().join(format!("numbersd-bad-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(
        &bad,
        "e164,type\n+12065550100,LOCAL\nnot-a-number,LOCAL\n+12065550101,PAGER\n",
    )
    .unwrap();
    let (ok, out, err) = numbersd(&db, &["inventory", "import", bad.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(err.contains("line 3") && err.contains("line 4"), "{err}");
    assert!(out.contains("2 rejected"), "{out}");
    std::fs::write(&bad, "number\n+12065550100\n").unwrap();
    let (ok, _, err) = numbersd(&db, &["inventory", "import", bad.to_str().unwrap()]);
    assert!(!ok && err.contains("e164"), "{err}");

    let (ok, out, err) = numbersd(
        &db,
        &["inventory", "generate", "--count", "2000", "--seed", "7"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("generated 2000 new numbers"), "{out}");
    // Deterministic: the same seed yields the same numbers, all already present.
    let (ok, out, _) = numbersd(
        &db,
        &["inventory", "generate", "--count", "2000", "--seed", "7"],
    );
    assert!(ok);
    assert!(
        out.contains("generated 0 new numbers (2000 already present)"),
        "{out}"
    );
}
