//! `numbersd secrets rotate`: re-seals every stored secret with the current server secret's key
//! (values in clear, and values sealed with a secret listed in `previous_secret_keys` or kept in
//! `<db>.secret.previous`); with `--new-secret`, first replaces a SQLite database's generated
//! secret. The procedure around it is in docs/SECURITY.md ("Key rotation").

use serde_json::json;

use crate::cli::SecretsCommand;
use crate::commands::serve::service_with_keys;
use crate::config::Config;

pub async fn secrets(config: &Config, command: &SecretsCommand) -> anyhow::Result<()> {
    let SecretsCommand::Rotate { new_secret, json } = command;
    let mut keys = crate::secret::resolve(config)?;
    if keys.current.is_none() {
        anyhow::bail!(
            "no server secret is configured (secret_key / NUMBERSD_SECRET_KEY): there is no key \
             to seal with"
        );
    }
    if *new_secret {
        keys = crate::secret::generate_new_secret(&keys)?;
    }
    let service = service_with_keys(config, &keys).await?;
    let report = service
        .reseal_secrets(true)
        .await
        .map_err(|e| anyhow::anyhow!("re-sealing: {e}"))?;
    let key = report.key_id.clone().unwrap_or_default();
    if *json {
        println!(
            "{}",
            json!({
                "key_id": key,
                "new_secret": new_secret,
                "examined": report.examined,
                "sealed": report.sealed,
                "resealed": report.resealed,
            })
        );
    } else {
        println!(
            "every stored secret is sealed with key {key}: {} looked at, {} were in clear, {} \
             were sealed with a previous key",
            report.examined, report.sealed, report.resealed
        );
        if *new_secret {
            println!(
                "a new server secret was generated; the old one stays in the .secret.previous \
                 file until the next rotation. Keys issued before keep working with HTTP Basic; \
                 their MessageMedia HMAC secrets were derived from the old secret: issue new keys \
                 for HMAC clients."
            );
        }
    }
    Ok(())
}
