//! numbersd: the binary's library half — configuration, start-up and the commands — so the
//! integration tests drive exactly what the binary runs.
#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod config;
pub mod connections;
pub mod provisioning;
pub mod secret;
pub mod startup;
pub mod webhook_http;

use cli::{Cli, Command};
use config::Config;

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::resolve(&cli.global.overrides())?;
    match &cli.command {
        Command::Serve(args) => commands::serve::serve(&config, args).await,
        Command::Migrate => commands::serve::migrate(&config).await,
        Command::Account(c) => commands::accounts::account(&config, c).await,
        Command::Key(c) => commands::accounts::key(&config, c).await,
        Command::OperatorKey(c) => commands::accounts::operator_key(&config, c).await,
        Command::Inventory(c) => {
            let service = commands::serve::service_for(&config).await?;
            match c {
                cli::InventoryCommand::Import {
                    file,
                    batch_size,
                    json,
                } => commands::inventory::import_file(&service, file, *batch_size, *json)
                    .await
                    .map(|_| ()),
                cli::InventoryCommand::Generate {
                    count,
                    seed,
                    batch_size,
                } => {
                    let summary =
                        commands::inventory::generate(&service, *count, *seed, *batch_size, true)
                            .await?;
                    println!(
                        "generated {} new numbers ({} already present) in {:.1}s ({:.0} numbers/s; \
                         search indexes {:.1}s of it)",
                        summary.inserted,
                        summary.existing,
                        summary.seconds,
                        (summary.inserted + summary.existing) as f64 / summary.seconds.max(1e-9),
                        summary.index_seconds
                    );
                    Ok(())
                }
            }
        }
        Command::Secrets(c) => commands::secrets::secrets(&config, c).await,
        Command::NumberRequirements(c) => commands::number_orders::requirements(&config, c).await,
        Command::NumberOrder(c) => commands::number_orders::number_order(&config, c).await,
        Command::Demo { count, seed } => commands::demo::demo(&config, *count, *seed).await,
        Command::Bench(args) => {
            let options = commands::bench::BenchOptions {
                count: args.count,
                database_url: cli.global.database_url.clone(),
                duration_per_class: args.duration_per_class,
                json: args.json.clone(),
                reuse: args.reuse,
                connections: args.connections,
                order_clients: args.order_clients,
                seed: args.seed,
                sold_fraction: args.sold_fraction,
                servers: args.servers,
                values_per_class: args.values_per_class,
            };
            commands::bench::bench(&config, &options).await.map(|_| ())
        }
    }
}
