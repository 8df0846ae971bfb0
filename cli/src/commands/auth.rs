//! `auth register|login|logout|status|refresh`.

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{Ctx, message_of};
use crate::client::{Refresh, TokenAnswer};
use crate::error::CliError;
use crate::output::{flag, text};
use crate::prompt;

#[derive(Subcommand)]
pub enum Command {
    /// Create an account (the first account on a new server becomes its administrator)
    #[command(
        after_help = "Example: echo \"$PASSWORD\" | resource-reserver-cli auth register -u alice --password-stdin"
    )]
    Register(Credentials),
    /// Log in and save the session (auth.json in the config directory)
    #[command(
        after_help = "Without --username or --password-stdin you are asked on the terminal (the password is \
                            not shown). With MFA enabled, pass --mfa-code or answer the prompt."
    )]
    Login {
        #[command(flatten)]
        credentials: Credentials,
        /// A code from your authenticator app, or a backup code
        #[arg(long)]
        mfa_code: Option<String>,
    },
    /// End all your sessions on the server and forget the saved one
    Logout,
    /// Who is logged in, and until when the access token is valid
    Status,
    /// Get a new access token now (otherwise done automatically when needed)
    Refresh,
}

#[derive(Args)]
pub struct Credentials {
    /// Username (asked if missing)
    #[arg(long, short = 'u')]
    pub username: Option<String>,
    /// Read the password from the first line of stdin instead of asking
    #[arg(long)]
    pub password_stdin: bool,
}

impl Credentials {
    pub fn username(&self) -> Result<String> {
        match &self.username {
            Some(name) if !name.trim().is_empty() => Ok(name.trim().to_owned()),
            Some(_) => Err(CliError::usage("--username cannot be empty")),
            None => prompt::ask("Username", "the username"),
        }
    }

    /// The password: from stdin, or asked (twice for a new one).
    pub fn password(&self, new: bool) -> Result<String> {
        match (self.password_stdin, new) {
            (true, _) => prompt::secret_from_stdin(),
            (false, true) => prompt::ask_new_secret(),
            (false, false) => prompt::ask_secret("Password"),
        }
    }
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Register(credentials) => register(credentials, ctx).await,
        Command::Login { credentials, mfa_code } => login(credentials, mfa_code, ctx).await,
        Command::Logout => logout(ctx).await,
        Command::Status => status(ctx).await,
        Command::Refresh => refresh(ctx).await,
    }
}

async fn register(credentials: Credentials, ctx: &Ctx) -> Result<()> {
    let username = credentials.username()?;
    let password = credentials.password(true)?;
    let user: Value = ctx
        .api
        .post("/api/v1/register")
        .public()
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await?;
    ctx.out.emit(&user, |out| {
        out.ok(format!(
            "Registered {} (id {})",
            user["username"].as_str().unwrap_or(&username),
            user["id"]
        ));
        out.hint(format!("Log in with: resource-reserver-cli auth login -u {username}"));
    });
    Ok(())
}

async fn login(credentials: Credentials, mfa_code: Option<String>, ctx: &Ctx) -> Result<()> {
    let username = credentials.username()?;
    let password = credentials.password(false)?;
    let mut mfa_code = mfa_code;
    let answer: TokenAnswer = loop {
        let mut form = vec![("username", username.as_str()), ("password", password.as_str())];
        if let Some(code) = mfa_code.as_deref() {
            form.push(("mfa_code", code));
        }
        match ctx.api.post("/api/v1/token").public().form(&form).send().await {
            Ok(answer) => break answer,
            Err(error) if mfa_code.is_none() && mfa_required(&error) => {
                mfa_code = Some(prompt::ask("MFA code", "the MFA code")?);
            }
            Err(error) => return Err(error),
        }
    };
    ctx.api.store().save(&answer.into_tokens(None))?;
    let me: Value = ctx.api.get("/api/v1/users/me").send().await?;
    ctx.out.emit(&me, |out| {
        out.ok(format!("Logged in as {}", me["username"].as_str().unwrap_or(&username)));
        if me["is_admin"] == json!(true) {
            out.hint("You are an administrator.");
        }
    });
    Ok(())
}

fn mfa_required(error: &anyhow::Error) -> bool {
    CliError::api(error).is_some_and(|(status, detail, _)| status == 401 && detail.contains("MFA code required"))
}

async fn logout(ctx: &Ctx) -> Result<()> {
    if ctx.api.store().load()?.is_none() {
        let answer = json!({ "message": "Not logged in" });
        ctx.out.emit(&answer, |out| out.info("Not logged in."));
        return Ok(());
    }
    let result: Result<Value> = ctx.api.post("/api/v1/logout").send().await;
    ctx.api.store().clear()?;
    let answer = match result {
        Ok(answer) => answer,
        Err(error) => {
            ctx.out.warn(format!("The server did not end the session: {error:#}"));
            json!({ "message": "Logged out locally" })
        }
    };
    ctx.out.emit(&answer, |out| out.ok("Logged out"));
    Ok(())
}

async fn status(ctx: &Ctx) -> Result<()> {
    if ctx.api.store().load()?.is_none() {
        return Err(CliError::NotLoggedIn.into());
    }
    let me: Value = ctx.api.get("/api/v1/users/me").send().await?;
    let tokens = ctx.api.store().load()?.ok_or(CliError::NotLoggedIn)?;
    let mut shown = me.clone();
    shown["token_expires_at"] = json!(expiry_text(tokens.expiry()));
    shown["config"] = json!(ctx.api.store().path().display().to_string());
    ctx.out.emit(&me, |out| {
        out.record(
            &shown,
            &[
                text("User", "username"),
                text("ID", "id"),
                flag("Administrator", "is_admin"),
                flag("MFA enabled", "mfa_enabled"),
                text("E-mail", "email"),
                crate::output::time("Access token expires", "token_expires_at"),
                text("Session file", "config"),
            ],
        );
        out.ok(format!("Logged in to {}", ctx.api.base_url()));
    });
    Ok(())
}

async fn refresh(ctx: &Ctx) -> Result<()> {
    let tokens = ctx.api.refresh(Refresh::Always).await?;
    let expires = expiry_text(tokens.expiry());
    let answer = json!({ "message": "Token refreshed", "expires_at": expires });
    ctx.out.emit(&answer, |out| {
        out.ok(format!(
            "{}; valid until {}",
            message_of(&answer, "Token refreshed"),
            out.zone().display_text(&expires)
        ));
    });
    Ok(())
}

/// An epoch time as RFC 3339.
fn expiry_text(epoch: f64) -> String {
    chrono::DateTime::from_timestamp(epoch as i64, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
