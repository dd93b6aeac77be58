//! Where the server secret comes from, and the keys derived from it that seal the secrets stored
//! in the database (`numbers_core::sealing`). A SQLite installation without a configured secret
//! keeps a generated one in a file beside its database (`<database file>.secret`, mode 0600), so
//! every command against that database derives the same keys (MessageMedia HMAC, sealing) across
//! restarts; `numbersd secrets rotate --new-secret` replaces it and keeps the one before in
//! `<database file>.secret.previous`, which still opens what it sealed. PostgreSQL installations
//! run several processes, possibly on several machines, which must agree on the secret: there it
//! must be configured (`secret_key` / `NUMBERSD_SECRET_KEY`), and `serve` refuses to start without
//! it. Secrets configured in `previous_secret_keys` only open values sealed before a rotation.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use numbers_core::account::ServerSecret;
use numbers_core::sealing::SecretBox;

use crate::config::Config;

/// The file a SQLite database's generated secret lives in.
pub fn secret_file_for(database_path: &Path) -> PathBuf {
    let mut name = database_path.as_os_str().to_owned();
    name.push(".secret");
    PathBuf::from(name)
}

/// The file the generated secret before the last rotation lives in.
pub fn previous_secret_file_for(database_path: &Path) -> PathBuf {
    let mut name = secret_file_for(database_path).into_os_string();
    name.push(".previous");
    PathBuf::from(name)
}

/// The server secret of a process and the earlier ones it still opens sealed values with.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    pub current: Option<ServerSecret>,
    pub previous: Vec<ServerSecret>,
    /// The generated secret file in use (SQLite without a configured secret).
    pub file: Option<PathBuf>,
}

impl Keys {
    /// The box the store seals and opens secrets with.
    pub fn secret_box(&self) -> SecretBox {
        numbers_core::sealing::secret_box(self.current.as_ref(), &self.previous)
    }
}

/// Whether a database URL names PostgreSQL (anything else is a SQLite file).
pub fn is_postgres_url(database_url: &str) -> bool {
    database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")
}

/// The configured secret, else (SQLite) the one in the secret file, created on first use; plus
/// the previous ones (configured, and the generated file's previous one).
pub fn resolve(config: &Config) -> anyhow::Result<Keys> {
    let mut keys = Keys {
        current: config.service.secret_key.clone(),
        previous: config.previous_secret_keys.clone(),
        file: None,
    };
    if keys.current.is_some() {
        return Ok(keys);
    }
    if is_postgres_url(&config.database_url) {
        tracing::warn!(
            "no secret_key configured: keys work with HTTP Basic only (HMAC signatures are \
             refused) and no secret can be stored (serve refuses to start)"
        );
        return Ok(keys);
    }
    let database = numbers_store_sqlite::path_from_url(&config.database_url)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let file = secret_file_for(&database);
    keys.current = Some(load_or_create(&file)?);
    let previous = previous_secret_file_for(&database);
    if previous.exists() {
        keys.previous.push(read_secret(&previous)?);
    }
    keys.file = Some(file);
    Ok(keys)
}

/// Options creating a new file only its owner may read (0600).
fn private_file() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

fn read_secret(path: &Path) -> anyhow::Result<ServerSecret> {
    numbers_store_sqlite::make_private(path);
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    ServerSecret::parse(&text, &path.display().to_string()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn load_or_create(path: &Path) -> anyhow::Result<ServerSecret> {
    let fresh = ServerSecret::generate();
    match private_file().open(path) {
        Ok(mut file) => {
            file.write_all(fresh.as_str().as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(file = %path.display(), "generated the server secret");
            Ok(fresh)
        }
        // Another process (or an earlier run) made it: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_secret(path),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

/// Writes `secret` to `path` (0600) through a temporary file renamed over it, so a crash leaves
/// either the old file or the new one, never half of one.
fn replace_file(path: &Path, secret: &ServerSecret) -> anyhow::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    let _ = std::fs::remove_file(&temporary);
    let mut file = private_file()
        .open(&temporary)
        .with_context(|| format!("creating {}", temporary.display()))?;
    file.write_all(secret.as_str().as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("replacing {}", path.display()))
}

/// Replaces a SQLite database's generated secret with a new one, keeping the current one as the
/// previous one (it still opens what it sealed until everything is re-sealed). Returns the keys
/// to re-seal with.
pub fn generate_new_secret(keys: &Keys) -> anyhow::Result<Keys> {
    let (Some(file), Some(current)) = (&keys.file, &keys.current) else {
        anyhow::bail!(
            "the server secret is configured (secret_key / NUMBERSD_SECRET_KEY), not generated: \
             configure the new one there, list the old one in previous_secret_keys \
             (NUMBERSD_PREVIOUS_SECRET_KEYS), restart, then run `numbersd secrets rotate`"
        );
    };
    let mut previous_file = file.as_os_str().to_owned();
    previous_file.push(".previous");
    // The previous file first: from here on, both secrets are on disk whatever happens.
    replace_file(Path::new(&previous_file), current)?;
    let fresh = ServerSecret::generate();
    replace_file(file, &fresh)?;
    let mut previous = vec![current.clone()];
    previous.extend(keys.previous.iter().cloned());
    Ok(Keys {
        current: Some(fresh),
        previous,
        file: Some(file.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(path).unwrap().permissions().mode() & 0o777
        }
        #[cfg(not(unix))]
        0o600
    }

    #[test]
    fn the_generated_secret_is_kept_and_reused_and_private() {
        let dir = std::env::temp_dir().join(format!("numbersd-secret-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = secret_file_for(&dir.join("n.db"));
        assert!(path.ends_with("n.db.secret"));
        let first = load_or_create(&path).unwrap();
        let again = load_or_create(&path).unwrap();
        assert_eq!(first, again);
        assert_eq!(mode(&path), 0o600);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            load_or_create(&path).unwrap();
            assert_eq!(
                mode(&path),
                0o600,
                "an existing file readable by others is tightened"
            );
        }
        std::fs::write(&path, "short").unwrap();
        assert!(load_or_create(&path).is_err(), "a damaged file is refused");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_new_secret_keeps_the_old_one_as_previous() {
        let dir = std::env::temp_dir().join(format!("numbersd-secret-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("n.db");
        let file = secret_file_for(&db);
        let old = load_or_create(&file).unwrap();
        let keys = Keys {
            current: Some(old.clone()),
            previous: Vec::new(),
            file: Some(file.clone()),
        };
        let rotated = generate_new_secret(&keys).unwrap();
        let new = rotated.current.clone().unwrap();
        assert_ne!(new, old);
        assert_eq!(rotated.previous, vec![old.clone()]);
        assert_eq!(read_secret(&file).unwrap(), new);
        let previous = previous_secret_file_for(&db);
        assert_eq!(read_secret(&previous).unwrap(), old);
        assert_eq!((mode(&file), mode(&previous)), (0o600, 0o600));
        let configured = Keys {
            current: Some(old),
            previous: Vec::new(),
            file: None,
        };
        assert!(generate_new_secret(&configured).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
