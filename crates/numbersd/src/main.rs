#![forbid(unsafe_code)]

use clap::Parser;
use numbersd::cli::Cli;
use tracing_subscriber::EnvFilter;

// jemalloc, with its background thread purging freed pages after its decay time (10 s): with
// glibc's malloc the memory of a connection burst stayed with the process after the connections
// had closed (measured: docs/SECURITY.md, "Connections").
#[cfg(all(unix, not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_env("NUMBERSD_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    numbersd::startup::log_panics_in_one_line();
    #[cfg(all(unix, not(target_env = "musl")))]
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!(error = %e, "allocator background purging not enabled; freed memory returns later");
    }
    match numbersd::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
