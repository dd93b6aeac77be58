//! Installing the vendors' official SDKs for the compatibility tests, once, into
//! `target/sdk/<vendor>/<language>/`, from the pins committed under `tests/sdk/`.
//!
//! Several tests want the same SDK at the same moment (the test harness runs them in parallel,
//! and a runner such as nextest runs each in its own process), so every install holds an
//! exclusive file lock on `target/sdk/.install.lock`: a second caller waits, then finds the
//! marker the first one wrote and reuses its work. The marker is written last, so an install
//! that was interrupted is redone from an empty directory.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sdk_root() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../../target"))
        .join("sdk")
}

/// Runs a command to completion; panics with its output unless it succeeded.
pub fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Makes `dir` hold what `install` puts there, exactly once per `marker_text` (a pin or a lock
/// file's contents: when it changes, the directory is rebuilt).
fn ensure_installed(dir: &Path, marker_text: &str, install: impl FnOnce(&Path)) {
    let root = sdk_root();
    std::fs::create_dir_all(&root).unwrap();
    let lock = File::create(root.join(".install.lock")).unwrap();
    // Released when `lock` is dropped at the end of this function, or when the process dies.
    lock.lock().unwrap();
    let marker = dir.join(".numbersd-installed");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == marker_text) {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    install(dir);
    std::fs::write(&marker, marker_text).unwrap();
}

/// `pip install --target` of one pinned requirement (`name==version`); the directory to put on
/// `PYTHONPATH`.
pub fn python_sdk(vendor: &str, requirement: &str) -> PathBuf {
    let dir = sdk_root().join(vendor).join("python");
    ensure_installed(&dir, requirement, |dir| {
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
                .arg(requirement),
            &format!("pip install {requirement}"),
        );
    });
    dir
}

/// `npm ci` from the `package.json` and `package-lock.json` committed in `sources` (relative to
/// this crate); the `node_modules` directory to put on `NODE_PATH`.
pub fn node_sdk(vendor: &str, sources: &str) -> PathBuf {
    let sources = manifest_dir().join(sources);
    let dir = sdk_root().join(vendor).join("node");
    let lock = std::fs::read_to_string(sources.join("package-lock.json")).unwrap();
    ensure_installed(&dir, &lock, |dir| {
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(sources.join(file), dir.join(file)).unwrap();
        }
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--prefix"])
                .arg(dir),
            &format!("npm ci in {}", sources.display()),
        );
    });
    dir.join("node_modules")
}
