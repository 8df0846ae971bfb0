//! `mfa setup|enable|disable|backup-codes`: two-factor sign-in with an authenticator app.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

use super::{Ctx, message_of};
use crate::prompt;

#[derive(Subcommand)]
pub enum Command {
    /// Start enrolment: a secret for your authenticator app, and backup codes
    Setup,
    /// Turn MFA on with a code from the app (after `mfa setup`)
    Enable {
        /// The 6-digit code the app shows (asked if missing)
        #[arg(long)]
        code: Option<String>,
    },
    /// Turn MFA off (needs your password)
    Disable {
        /// Read the password from the first line of stdin instead of asking
        #[arg(long)]
        password_stdin: bool,
    },
    /// Replace your backup codes with ten new ones
    BackupCodes,
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Setup => {
            let answer: Value = ctx.api.post("/api/v1/auth/mfa/setup").send().await?;
            ctx.out.emit(&answer, |out| {
                out.ok("MFA enrolment started");
                out.hint(format!(
                    "Add this to your authenticator app: {}",
                    crate::output::plain(&answer["totp_uri"])
                ));
                out.hint(format!(
                    "(or enter the secret by hand: {})",
                    crate::output::plain(&answer["secret"])
                ));
                print_codes(&answer);
                out.hint("Then run `resource-reserver-cli mfa enable --code <code from the app>`.");
            });
        }
        Command::Enable { code } => {
            let code = match code {
                Some(code) => code,
                None => prompt::ask("Code from your authenticator app", "the MFA code")?,
            };
            let answer: Value = ctx
                .api
                .post("/api/v1/auth/mfa/verify")
                .json(&json!({ "code": code.trim() }))
                .send()
                .await?;
            ctx.out.emit(&answer, |out| out.ok(message_of(&answer, "MFA enabled")));
        }
        Command::Disable { password_stdin } => {
            let password = if password_stdin {
                prompt::secret_from_stdin()?
            } else {
                prompt::ask_secret("Password")?
            };
            let answer: Value = ctx
                .api
                .post("/api/v1/auth/mfa/disable")
                .json(&json!({ "password": password }))
                .send()
                .await?;
            ctx.out.emit(&answer, |out| out.ok(message_of(&answer, "MFA disabled")));
        }
        Command::BackupCodes => {
            let answer: Value = ctx.api.post("/api/v1/auth/mfa/backup-codes").send().await?;
            ctx.out.emit(&answer, |out| {
                print_codes(&answer);
                out.ok(message_of(&answer, "New backup codes"));
            });
        }
    }
    Ok(())
}

fn print_codes(answer: &Value) {
    let codes = answer["backup_codes"].as_array().map_or(&[][..], Vec::as_slice);
    if !codes.is_empty() {
        crate::output::line("Backup codes (each works once; keep them safe):");
        for code in codes {
            crate::output::line(format!("  {}", crate::output::plain(code)));
        }
    }
}
