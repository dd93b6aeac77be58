//! The one snapshot mechanism of the API tests: a response document, already stripped of what
//! changes from run to run by its dialect's test module, is compared byte for byte with a
//! committed file under `snapshots/`. A missing or different file fails the test; running with
//! `UPDATE_SNAPSHOTS=1` writes the files instead (then review the diff and commit it).

use std::path::PathBuf;

/// The variable that rewrites snapshots instead of checking them.
pub const UPDATE_VAR: &str = "UPDATE_SNAPSHOTS";

/// Compares `actual` with `snapshots/<relative>` byte for byte (`UPDATE_SNAPSHOTS=1` writes it).
#[track_caller]
pub fn assert_matches(relative: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api/snapshots")
        .join(relative);
    if std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "snapshot {} is missing; run with {UPDATE_VAR}=1 to write it\n{actual}",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "snapshot {relative} differs (run with {UPDATE_VAR}=1 to rewrite it, then review the diff)"
    );
}
