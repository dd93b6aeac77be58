//! `numbersd number-requirements …` and `numbersd number-order …`: the operator's side of KYC
//! number orders from the command line, acting directly on the database named by
//! `--database-url` through the same service calls as the operator API.

use numbers_core::account::Principal;
use numbers_core::ids::NumberOrderId;
use numbers_core::number::NumberType;
use numbers_core::number_order::{NumberOrder, NumberOrderFilter, NumberOrderState};
use serde_json::{Value, json};

use crate::cli::{NumberOrderCommand, NumberRequirementsCommand};
use crate::commands::serve::service_for;
use crate::config::Config;

fn core(e: numbers_core::Error) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub async fn requirements(
    config: &Config,
    command: &NumberRequirementsCommand,
) -> anyhow::Result<()> {
    let service = service_for(config).await?;
    match command {
        NumberRequirementsCommand::Set {
            region,
            number_type,
            file,
        } => {
            let kind: NumberType = number_type.parse().map_err(core)?;
            let text = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let document: Value = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", file.display()))?;
            let stored = service
                .set_number_requirements(Principal::Operator, region, kind, &document)
                .await
                .map_err(core)?;
            println!("{}", serde_json::to_string_pretty(&stored)?);
        }
        NumberRequirementsCommand::Show {
            region,
            number_type,
        } => {
            let kind: NumberType = number_type.parse().map_err(core)?;
            let r = service
                .number_requirements(region, kind)
                .await
                .map_err(core)?;
            println!("{}", serde_json::to_string_pretty(&r)?);
        }
    }
    Ok(())
}

fn summary(o: &NumberOrder, now: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "id": o.id.to_string(),
        "account_id": o.account.to_string(),
        "state": o.state_at(now).as_str(),
        "region_code": o.region_code,
        "number_type": o.number_type.as_str(),
        "numbers": o.numbers.iter().map(|n| n.e164.as_str()).collect::<Vec<_>>(),
        "order_id": o.order_id.map(|id| id.to_string()),
        "expire_at": o.expire_at.to_rfc3339(),
        "logs": o.logs.iter().map(|l| json!({"message": l.message, "at": l.at.to_rfc3339()})).collect::<Vec<_>>(),
    })
}

fn print(o: &NumberOrder, now: chrono::DateTime<chrono::Utc>, as_json: bool) {
    if as_json {
        println!("{}", summary(o, now));
    } else {
        let numbers: Vec<&str> = o.numbers.iter().map(|n| n.e164.as_str()).collect();
        println!(
            "{}  {:<9}  {} {:<9}  {}  account {}",
            o.id,
            o.state_at(now).as_str(),
            o.region_code,
            o.number_type.as_str(),
            numbers.join(","),
            o.account
        );
    }
}

pub async fn number_order(config: &Config, command: &NumberOrderCommand) -> anyhow::Result<()> {
    let service = service_for(config).await?;
    let id = |raw: &str| -> anyhow::Result<NumberOrderId> { raw.parse().map_err(core) };
    match command {
        NumberOrderCommand::Approve { id: raw, json } => {
            let o = service
                .approve_number_order(Principal::Operator, id(raw)?)
                .await
                .map_err(core)?;
            print(&o, service.now(), *json);
        }
        NumberOrderCommand::Reject {
            id: raw,
            reason,
            json,
        } => {
            let o = service
                .reject_number_order(Principal::Operator, id(raw)?, reason)
                .await
                .map_err(core)?;
            print(&o, service.now(), *json);
        }
        NumberOrderCommand::Block {
            id: raw,
            reason,
            json,
        } => {
            let o = service
                .block_number_order(Principal::Operator, id(raw)?, reason)
                .await
                .map_err(core)?;
            print(&o, service.now(), *json);
        }
        NumberOrderCommand::List { state, limit, json } => {
            let states = state
                .iter()
                .flat_map(|s| s.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| NumberOrderState::parse(s, "--state"))
                .collect::<Result<Vec<_>, _>>()
                .map_err(core)?;
            let page = service
                .list_number_orders(
                    Principal::Operator,
                    NumberOrderFilter {
                        account: None,
                        states,
                        page_size: (*limit).clamp(1, 1000),
                        before: None,
                    },
                )
                .await
                .map_err(core)?;
            let now = service.now();
            if *json {
                let list: Vec<Value> = page.items.iter().map(|o| summary(o, now)).collect();
                println!("{}", Value::from(list));
            } else {
                for o in &page.items {
                    print(o, now, false);
                }
            }
        }
    }
    Ok(())
}
