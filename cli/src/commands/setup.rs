//! `setup status|init|unlock`: first-run setup. On a new server the first administrator is
//! appointed either by registering first, or with `setup init` and the setup token the server
//! logs at start-up.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

use super::auth::Credentials;
use super::{Ctx, message_of};
use crate::output::{flag, text};

#[derive(Subcommand)]
pub enum Command {
    /// Whether setup is complete
    Status,
    /// Appoint the first administrator: a new account, or an existing one with --existing-user
    #[command(
        after_help = "The token is the setup token the server logs at start-up (or SETUP_REOPEN_TOKEN after \
                            `setup unlock`)."
    )]
    Init {
        /// Setup token
        #[arg(long, env = "SETUP_TOKEN", hide_env_values = true)]
        token: String,
        /// Make this existing account the administrator instead of creating one
        #[arg(long, short = 'e', conflicts_with_all = ["username", "password_stdin"])]
        existing_user: Option<String>,
        #[command(flatten)]
        credentials: Credentials,
    },
    /// Reopen setup to appoint another administrator (needs SETUP_REOPEN_TOKEN)
    Unlock {
        /// The server's SETUP_REOPEN_TOKEN
        #[arg(long, env = "SETUP_REOPEN_TOKEN", hide_env_values = true)]
        token: String,
    },
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Status => {
            let status: Value = ctx.api.get("/api/v1/setup/status").public().send().await?;
            ctx.out.emit(&status, |out| {
                out.record(
                    &status,
                    &[
                        flag("Setup complete", "setup_complete"),
                        flag("Reopened", "setup_reopened"),
                        text("Users", "user_count"),
                    ],
                );
                if status["setup_complete"] != json!(true) {
                    out.hint("Register the first account, or run `setup init --token <setup token>`.");
                }
            });
        }
        Command::Init {
            token,
            existing_user,
            credentials,
        } => {
            let body = match existing_user {
                Some(existing) => json!({ "existing_username": existing }),
                None => {
                    let username = credentials.username()?;
                    let password = credentials.password(true)?;
                    json!({ "username": username, "password": password })
                }
            };
            let answer: Value = ctx
                .api
                .post("/api/v1/setup/initialize")
                .public()
                .header("X-Setup-Token", token)
                .json(&body)
                .send()
                .await?;
            ctx.out.emit(&answer, |out| {
                out.ok(format!(
                    "{}: {} is the administrator",
                    message_of(&answer, "Setup completed"),
                    crate::output::plain(&answer["admin_username"])
                ));
            });
        }
        Command::Unlock { token } => {
            let answer: Value = ctx
                .api
                .post("/api/v1/setup/unlock")
                .public()
                .header("X-Setup-Token", token)
                .send()
                .await?;
            ctx.out
                .emit(&answer, |out| out.ok(message_of(&answer, "Setup reopened")));
        }
    }
    Ok(())
}
