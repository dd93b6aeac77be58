//! Who may read the database files. A SQLite database and its `-wal` / `-shm` files hold the
//! whole inventory, every customer and key hash, and the sealed secrets, so they are for this
//! server's user alone: the database file is created 0600 before SQLite opens it (SQLite gives
//! the `-wal` and `-shm` files it creates the database file's mode), existing files readable by
//! others are tightened to 0600 (or a warning says why not), and a directory others may write to
//! — where they could swap the files — is warned about. Outside Unix there are no modes to set.

use std::path::{Path, PathBuf};

use numbers_core::error::{Error, Result};

/// The database file and the files SQLite keeps beside it.
pub(crate) fn database_files(path: &Path) -> [PathBuf; 3] {
    let beside = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [path.to_path_buf(), beside("-wal"), beside("-shm")]
}

/// Creates the database file 0600 if it does not exist, tightens the modes of existing ones,
/// and warns about a directory others can write to.
#[cfg(unix)]
pub(crate) fn prepare(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

    let directory = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let Ok(meta) = std::fs::metadata(&directory) {
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o022 != 0 {
            tracing::warn!(
                directory = %directory.display(),
                mode = format!("{mode:o}"),
                "the database directory is writable by other users, who could replace the \
                 database or its -wal/-shm files; give it to the server's user alone (0700)"
            );
        }
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(Error::Unavailable(format!(
                "cannot create SQLite database {}: {e}",
                path.display()
            )));
        }
    }
    for file in database_files(path) {
        tighten(&file);
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn prepare(_path: &Path) -> Result<()> {
    Ok(())
}

/// Makes an existing file private to its owner (0600), or says why it could not.
#[cfg(unix)]
pub fn tighten(file: &Path) {
    use std::os::unix::fs::PermissionsExt;

    let Ok(meta) = std::fs::metadata(file) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return;
    }
    match std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)) {
        Ok(()) => tracing::warn!(
            file = %file.display(),
            was = format!("{mode:o}"),
            "the file was readable by other users; its mode is now 600"
        ),
        Err(e) => tracing::warn!(
            file = %file.display(),
            mode = format!("{mode:o}"),
            error = %e,
            "the file is readable by other users and its mode could not be changed; make it 600"
        ),
    }
}

#[cfg(not(unix))]
pub fn tighten(_file: &Path) {}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_are_private_and_old_ones_are_tightened() {
        let dir = std::env::temp_dir().join(format!("numbersd-files-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("n.db");
        prepare(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        let [_, wal, _] = database_files(&db);
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o664)).unwrap();
        prepare(&db).unwrap();
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
