//! `resource-reserver-cli`: a client of the Resource Reserver HTTP API (and only of it).
//!
//! Output is a table for people, or the API's JSON (`--output json`) or the table as CSV
//! (`--output csv`) for scripts. Exit codes are listed in [`error::EXIT_CODES_HELP`].

mod client;
mod commands;
mod config;
mod error;
mod output;
mod profiles;
mod prompt;
mod time;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};

use crate::client::Client;
use crate::commands::{Command, Ctx};
use crate::config::TokenStore;
use crate::output::{Format, Output};
use crate::profiles::ProfileStore;
use crate::time::Zone;

const AFTER_HELP: &str = "\
Tables are for people; --output json prints the API's own JSON objects and nothing else on
stdout, --output csv the table's columns as CSV.
Log in first with `auth login`; the session is kept in CLI_CONFIG_DIR/auth.json (per profile:
CLI_CONFIG_DIR/profiles/NAME/auth.json). The server: --api-url, else the profile's URL, else
API_URL, else http://localhost:8000.";

/// The command line, with the exit codes under the help (and in the man page).
pub fn command() -> clap::Command {
    Cli::command().after_help(format!("{AFTER_HELP}\n\n{}", error::EXIT_CODES_HELP))
}

#[derive(Parser)]
#[command(
    name = "resource-reserver-cli",
    version,
    about = "Command-line client for Resource Reserver"
)]
pub struct Cli {
    /// Server base URL [default: the profile's, else http://localhost:8000]
    #[arg(
        long,
        env = "API_URL",
        global = true,
        value_name = "URL",
        help_heading = "Global options"
    )]
    api_url: Option<String>,
    /// Use this profile (a server and its session; see `profile`)
    #[arg(
        long,
        short = 'P',
        env = "CLI_PROFILE",
        global = true,
        help_heading = "Global options"
    )]
    profile: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table, global = true, help_heading = "Global options")]
    output: Format,
    /// Where profiles and sessions are kept [default: ~/.reservation-cli]
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
    let matches = command().get_matches();
    // `--api-url` beats a profile's URL, which beats `API_URL` from the environment.
    let api_url_from_flag = matches.value_source("api_url") == Some(ValueSource::CommandLine);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    match run(cli, api_url_from_flag).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("[ERROR] {error:#}");
            ExitCode::from(error::exit_code(&error))
        }
    }
}

async fn run(cli: Cli, api_url_from_flag: bool) -> anyhow::Result<()> {
    let zone = Zone::detect(cli.utc);
    let out = Output::new(cli.output, zone);
    // These need neither a server nor a profile.
    match cli.command {
        Command::Completions(args) => return commands::docs::completions(args, command()),
        Command::Man(args) => return commands::docs::man(args, command(), &out),
        _ => {}
    }
    let config_dir = cli.config_dir.unwrap_or_else(config::default_dir);
    let saved = ProfileStore::new(config_dir.clone()).load()?;
    let (flag, env) = match (cli.api_url.as_deref(), api_url_from_flag) {
        (url, true) => (url, None),
        (url, false) => (None, url),
    };
    let selection = profiles::select(&saved, cli.profile.as_deref(), flag, env)?;
    let store = TokenStore::new(profiles::session_dir(&config_dir, &selection.name));
    let ctx = Ctx {
        api: Client::new(&selection.api_url, store, out.zone().header())?,
        out,
        config_dir,
        profile: selection.name,
    };
    commands::run(cli.command, &ctx).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        super::command().debug_assert();
    }
}
