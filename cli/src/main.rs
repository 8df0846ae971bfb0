//! `resource-reserver-cli`: a client of the Resource Reserver HTTP API (and only of it).
//!
//! Output is a table for people, or the API's JSON with `--output json` for scripts. Exit codes:
//! 0 on success, 1 on errors, 2 on usage errors.

mod client;
mod commands;
mod config;
mod error;
mod output;
mod prompt;
mod time;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::client::Client;
use crate::commands::{Command, Ctx};
use crate::config::TokenStore;
use crate::output::{Format, Output};
use crate::time::Zone;

#[derive(Parser)]
#[command(
    name = "resource-reserver-cli",
    version,
    about = "Command-line client for Resource Reserver",
    after_help = "Tables are for people; --output json prints the API's own JSON objects and nothing \
                  else on stdout. Exit codes: 0 success, 1 error, 2 usage error.\n\
                  Log in first with `auth login`; the session is kept in CLI_CONFIG_DIR/auth.json."
)]
struct Cli {
    /// Server base URL
    #[arg(
        long,
        env = "API_URL",
        default_value = "http://localhost:8000",
        global = true,
        help_heading = "Global options"
    )]
    api_url: String,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table, global = true, help_heading = "Global options")]
    output: Format,
    /// Where the session (auth.json) is kept [default: ~/.reservation-cli]
    #[arg(
        long,
        env = "CLI_CONFIG_DIR",
        global = true,
        value_name = "DIR",
        help_heading = "Global options"
    )]
    config_dir: Option<PathBuf>,
    /// Read times without an offset as UTC, and show times in UTC (default: your local zone)
    #[arg(long, global = true, help_heading = "Global options")]
    utc: bool,
    #[command(subcommand)]
    command: Command,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("[ERROR] {error:#}");
            ExitCode::from(error::exit_code(&error))
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let zone = Zone::detect(cli.utc);
    let store = TokenStore::new(cli.config_dir.unwrap_or_else(config::default_dir));
    let ctx = Ctx {
        api: Client::new(&cli.api_url, store, zone.header())?,
        out: Output::new(cli.output, zone),
    };
    commands::run(cli.command, &ctx).await
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
