//! Where the server secret comes from when the configuration gives none. A SQLite installation
//! keeps a generated one in a file beside its database (`<database file>.secret`, mode 0600), so
//! keys issued by any command against that database can sign requests (MessageMedia HMAC) and
//! keep working across restarts. PostgreSQL installations run several processes, possibly on
//! several machines, which must agree on the secret: there it must be configured (`secret_key` /
//! `NUMBERSD_SECRET_KEY`); without it keys still work with HTTP Basic and HMAC is refused.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use numbers_core::account::ServerSecret;

use crate::config::Config;

/// The file a SQLite database's generated secret lives in.
pub fn secret_file_for(database_path: &Path) -> PathBuf {
    let mut name = database_path.as_os_str().to_owned();
    name.push(".secret");
    PathBuf::from(name)
}

/// The configured secret, else (SQLite) the one in the secret file, created on first use.
pub fn resolve(config: &Config, is_postgres: bool) -> anyhow::Result<Option<ServerSecret>> {
    if let Some(secret) = &config.service.secret_key {
        return Ok(Some(secret.clone()));
    }
    if is_postgres {
        tracing::warn!(
            "no secret_key configured: keys work with HTTP Basic only (HMAC signatures are refused)"
        );
        return Ok(None);
    }
    let database = numbers_store_sqlite::path_from_url(&config.database_url)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    load_or_create(&secret_file_for(&database)).map(Some)
}

fn load_or_create(path: &Path) -> anyhow::Result<ServerSecret> {
    let fresh = ServerSecret::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(fresh.as_str().as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(file = %path.display(), "generated the server secret");
            Ok(fresh)
        }
        // Another process (or an earlier run) made it: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            ServerSecret::parse(&text, &path.display().to_string())
                .map_err(|e| anyhow::anyhow!("{e}"))
        }
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_secret_is_kept_and_reused_and_private() {
        let dir = std::env::temp_dir().join(format!("numbersd-secret-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = secret_file_for(&dir.join("n.db"));
        assert!(path.ends_with("n.db.secret"));
        let first = load_or_create(&path).unwrap();
        let again = load_or_create(&path).unwrap();
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert!(load_or_create(&path).is_err(), "a damaged file is refused");
    }
}
