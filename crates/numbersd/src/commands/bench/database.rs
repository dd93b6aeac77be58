//! Where the benchmark's database lives: a SQLite file under target/bench, or a database of its
//! own on a PostgreSQL server; made fresh for a run or reused from an earlier one.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::BenchOptions;

/// The database the bench works on and how to reach it.
pub enum Target {
    Sqlite { path: PathBuf, url: String },
    Postgres { server: String, name: String },
}

impl Target {
    pub fn from_options(o: &BenchOptions) -> anyhow::Result<Target> {
        match &o.database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Target::Postgres {
                    server: url.clone(),
                    name: format!("numbersd_bench_{}", o.count),
                })
            }
            Some(url) => Ok(Target::Sqlite {
                path: numbers_store_sqlite::path_from_url(url)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                url: url.clone(),
            }),
            None => {
                let path = PathBuf::from(format!("target/bench/numbersd-{}.db", o.count));
                Ok(Target::Sqlite {
                    url: format!("sqlite://{}", path.display()),
                    path,
                })
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Target::Sqlite { .. } => "sqlite",
            Target::Postgres { .. } => "postgres",
        }
    }

    /// Removes the database unless it is to be reused; answers the URL to open.
    pub async fn prepare(&self, reuse: bool) -> anyhow::Result<String> {
        match self {
            Target::Sqlite { path, url } => {
                if !reuse {
                    for suffix in ["", "-wal", "-shm", ".secret"] {
                        let file = sidecar(path, suffix);
                        match std::fs::remove_file(&file) {
                            Ok(()) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                            Err(e) => {
                                return Err(e)
                                    .with_context(|| format!("removing {}", file.display()));
                            }
                        }
                    }
                }
                Ok(url.clone())
            }
            Target::Postgres { server, name } => {
                if !reuse {
                    numbers_store_postgres::drop_database(server, name)
                        .await
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                }
                match numbers_store_postgres::create_database(server, name).await {
                    Ok(url) => Ok(url),
                    // Reusing: it is already there. The URL is the server's with our name.
                    Err(_) if reuse => Ok(database_url_named(server, name)),
                    Err(e) => Err(anyhow::anyhow!("{e}")),
                }
            }
        }
    }

    pub async fn size_bytes(&self, url: &str) -> anyhow::Result<u64> {
        match self {
            Target::Sqlite { path, .. } => Ok(["", "-wal", "-shm"]
                .iter()
                .filter_map(|s| std::fs::metadata(sidecar(path, s)).ok())
                .map(|m| m.len())
                .sum()),
            Target::Postgres { .. } => {
                let store = numbers_store_postgres::PostgresStore::connect(url)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let size = store
                    .database_size_bytes()
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(u64::try_from(size).unwrap_or(0))
            }
        }
    }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `postgres://u@h:p/anything?x` → `postgres://u@h:p/name?x`.
fn database_url_named(server: &str, name: &str) -> String {
    let (base, query) = server.split_once('?').map_or((server, ""), |(b, q)| (b, q));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{}/{name}{query}", &base[..authority_end])
}
