//! `roles list|my-roles|create|assign|remove`.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

use super::{Ctx, message_of};
use crate::output::{Column, text};

const COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("Role", "name"),
    text("Description", "description"),
];

#[derive(Subcommand)]
pub enum Command {
    /// Every role (admin)
    List,
    /// Your roles
    MyRoles,
    /// Create a role (admin; it has no permissions of its own)
    Create {
        /// Role name
        name: String,
        /// What it is for
        #[arg(long, short = 'd')]
        description: Option<String>,
    },
    /// Give a user a role (admin)
    Assign {
        /// User id or username
        user: String,
        /// Role name (user, manager, admin, guest, …)
        role: String,
    },
    /// Take a role from a user (admin)
    Remove {
        /// User id or username
        user: String,
        /// Role name
        role: String,
    },
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::List => list(ctx, "/api/v1/roles").await,
        Command::MyRoles => list(ctx, "/api/v1/roles/my-roles").await,
        Command::Create { name, description } => {
            let role: Value = ctx
                .api
                .post("/api/v1/roles")
                .json(&json!({ "name": name, "description": description }))
                .send()
                .await?;
            ctx.out
                .emit(&role, |out| out.ok(format!("Role {name} created (id {})", role["id"])));
            Ok(())
        }
        Command::Assign { user, role } => change(ctx, &user, &role, true).await,
        Command::Remove { user, role } => change(ctx, &user, &role, false).await,
    }
}

async fn list(ctx: &Ctx, path: &str) -> Result<()> {
    let roles: Value = ctx.api.get(path).send().await?;
    ctx.out.emit(&roles, |out| {
        out.rows(roles.as_array().map_or(&[][..], Vec::as_slice), COLUMNS, "No roles.");
    });
    Ok(())
}

async fn change(ctx: &Ctx, user: &str, role: &str, grant: bool) -> Result<()> {
    let mut body = json!({ "role_name": role });
    match user.parse::<i64>() {
        Ok(id) => body["user_id"] = json!(id),
        Err(_) => body["username"] = json!(user),
    }
    let request = if grant {
        ctx.api.post("/api/v1/roles/assign")
    } else {
        ctx.api.delete("/api/v1/roles/assign")
    };
    let answer: Value = request.json(&body).send().await?;
    let fallback = if grant { "Role assigned" } else { "Role removed" };
    ctx.out.emit(&answer, |out| out.ok(message_of(&answer, fallback)));
    Ok(())
}
