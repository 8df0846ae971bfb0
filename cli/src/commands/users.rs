//! `users list|disable|enable` (admin).

use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;

use super::{Ctx, Yes, message_of};
use crate::output::{Column, flag, list, text, time};
use crate::prompt;

const COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("Username", "username"),
    text("E-mail", "email"),
    flag("Active", "is_active"),
    flag("MFA", "mfa_enabled"),
    list("Roles", "roles"),
    time("Created", "created_at"),
];

#[derive(Subcommand)]
pub enum Command {
    /// User accounts
    List {
        /// Skip this many accounts
        #[arg(long, default_value_t = 0)]
        skip: u32,
        /// Show at most this many (1-1000)
        #[arg(long, short = 'l', default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// Disable an account: it cannot log in, and its sessions end at once
    Disable {
        /// User id or username
        user: String,
        #[command(flatten)]
        yes: Yes,
    },
    /// Enable a disabled account again
    Enable {
        /// User id or username
        user: String,
    },
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::List { skip, limit } => {
            let users: Value = ctx
                .api
                .get("/api/v1/auth/admin/users")
                .query("skip", skip)
                .query("limit", limit)
                .send()
                .await?;
            ctx.out.emit(&users, |out| {
                out.rows(users.as_array().map_or(&[][..], Vec::as_slice), COLUMNS, "No users.");
            });
        }
        Command::Disable { user, yes } => {
            let id = user_id(ctx, &user).await?;
            prompt::confirm(&format!("Disable user {user}? Their sessions end at once."), yes.yes)?;
            set_active(ctx, id, false).await?;
        }
        Command::Enable { user } => {
            let id = user_id(ctx, &user).await?;
            set_active(ctx, id, true).await?;
        }
    }
    Ok(())
}

async fn set_active(ctx: &Ctx, id: i64, active: bool) -> Result<()> {
    let verb = if active { "enable" } else { "disable" };
    let answer: Value = ctx
        .api
        .post(format!("/api/v1/auth/admin/users/{id}/{verb}"))
        .send()
        .await?;
    ctx.out.emit(&answer, |out| {
        out.ok(message_of(&answer, &format!("User {id} {verb}d")))
    });
    Ok(())
}

/// A user id, or the id of the account with this username.
async fn user_id(ctx: &Ctx, user: &str) -> Result<i64> {
    if let Ok(id) = user.parse() {
        return Ok(id);
    }
    let wanted = user.to_lowercase();
    let mut skip = 0;
    loop {
        let page: Vec<Value> = ctx
            .api
            .get("/api/v1/auth/admin/users")
            .query("skip", skip)
            .query("limit", 1000)
            .send()
            .await?;
        if let Some(id) = page
            .iter()
            .find(|u| u["username"] == wanted.as_str())
            .and_then(|u| u["id"].as_i64())
        {
            return Ok(id);
        }
        if page.len() < 1000 {
            anyhow::bail!("User '{user}' not found");
        }
        skip += 1000;
    }
}
