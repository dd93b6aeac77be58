//! `numbersd account …`, `numbersd key …`, `numbersd operator-key …`.

use numbers_core::account::Principal;
use numbers_core::ids::AccountId;
use serde_json::json;

use crate::cli::{AccountCommand, KeyCommand, OperatorKeyCommand};
use crate::commands::serve::service_for;
use crate::config::Config;

fn core(e: numbers_core::Error) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub async fn account(config: &Config, command: &AccountCommand) -> anyhow::Result<()> {
    let service = service_for(config).await?;
    match command {
        AccountCommand::Create { name, json } => {
            let (account, key) = service
                .create_account(Principal::Operator, name)
                .await
                .map_err(core)?;
            let (site, peer) = service
                .create_default_site(account.id)
                .await
                .map_err(core)?;
            if *json {
                println!(
                    "{}",
                    json!({"account_id": account.id.to_string(), "key_id": key.key_id, "secret": key.secret, "bandwidth_site_id": site.id, "bandwidth_peer_id": peer.id})
                );
            } else {
                println!(
                    "account_id: {}\nkey_id:     {}\nsecret:     {}\nbandwidth site {} (SiteId), SIP peer {} (its default)",
                    account.id, key.key_id, key.secret, site.id, peer.id
                );
                println!("(the secret is shown only now)");
            }
        }
        AccountCommand::List { json } => {
            let accounts = service
                .list_accounts(Principal::Operator)
                .await
                .map_err(core)?;
            if *json {
                let list: Vec<_> = accounts
                    .iter()
                    .map(|a| json!({"account_id": a.id.to_string(), "name": a.name, "status": a.status.as_str(), "created_at": a.created_at.to_rfc3339()}))
                    .collect();
                println!("{}", serde_json::Value::from(list));
            } else {
                for a in accounts {
                    println!(
                        "{}  {:<9}  {}  {}",
                        a.id,
                        a.status.as_str(),
                        a.created_at.format("%Y-%m-%d %H:%M"),
                        a.name
                    );
                }
            }
        }
    }
    Ok(())
}

pub async fn key(config: &Config, command: &KeyCommand) -> anyhow::Result<()> {
    let service = service_for(config).await?;
    match command {
        KeyCommand::Create { account, json } => {
            let id: AccountId = account.parse().map_err(core)?;
            let key = service
                .create_key(Principal::Operator, id)
                .await
                .map_err(core)?;
            if *json {
                println!(
                    "{}",
                    json!({"account_id": id.to_string(), "key_id": key.key_id, "secret": key.secret})
                );
            } else {
                println!(
                    "key_id: {}\nsecret: {}\n(the secret is shown only now)",
                    key.key_id, key.secret
                );
            }
        }
        KeyCommand::Revoke { key_id } => {
            service
                .revoke_key(Principal::Operator, key_id)
                .await
                .map_err(core)?;
            println!("revoked {key_id}");
        }
    }
    Ok(())
}

pub async fn operator_key(config: &Config, command: &OperatorKeyCommand) -> anyhow::Result<()> {
    let service = service_for(config).await?;
    match command {
        OperatorKeyCommand::Create { json } => {
            let key = service.create_operator_key().await.map_err(core)?;
            if *json {
                println!("{}", json!({"key_id": key.key_id, "secret": key.secret}));
            } else {
                println!(
                    "key_id: {}\nsecret: {}\n(the secret is shown only now)",
                    key.key_id, key.secret
                );
            }
        }
    }
    Ok(())
}
