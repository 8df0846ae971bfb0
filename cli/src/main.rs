//! `resource-reserver-cli`: a client of the Resource Reserver HTTP API (and only of it).
//!
//! Output is a table for people, or JSON with `--output json` for scripts.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use comfy_table::Table;
use serde_json::Value;

#[derive(Parser)]
#[command(
    name = "resource-reserver-cli",
    version,
    about = "Command-line client for Resource Reserver"
)]
struct Cli {
    /// Server base URL
    #[arg(long, env = "API_URL", default_value = "http://localhost:8000", global = true)]
    api_url: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = Output::Table, global = true)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Server and database health
    Status,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("[ERROR] {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().build()?;
    match cli.command {
        Command::Status => {
            let url = format!("{}/health", cli.api_url.trim_end_matches('/'));
            let health: Value = client
                .get(&url)
                .send()
                .await
                .with_context(|| format!("Unable to reach API at {}. Is the server running?", cli.api_url))?
                .json()
                .await?;
            match cli.output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&health)?),
                Output::Table => {
                    let mut table = Table::new();
                    table.set_header(["check", "value"]);
                    for key in [
                        "status",
                        "database",
                        "database_backend",
                        "version",
                        "resources_count",
                        "timestamp",
                    ] {
                        let value = health
                            .get(key)
                            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
                        table.add_row([key.to_owned(), value.unwrap_or_default()]);
                    }
                    println!("{table}");
                }
            }
        }
    }
    Ok(())
}
