//! `system status|summary|cleanup|config` (and the top-level `status`).

use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;

use super::{Ctx, Yes, message_of};
use crate::output::{text, time};
use crate::prompt;

#[derive(Subcommand)]
pub enum Command {
    /// Server and database health, and who you are logged in as
    Status,
    /// How many resources are available, in use or unavailable now
    Summary,
    /// Mark every reservation that has ended as expired (admin)
    Cleanup {
        #[command(flatten)]
        yes: Yes,
    },
    /// This CLI's settings: server, profile, configuration directory, session, time zone
    Config,
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Status => status(ctx).await,
        Command::Summary => {
            let summary: Value = ctx
                .api
                .get("/api/v1/resources/availability/summary")
                .public()
                .send()
                .await?;
            ctx.out.emit(&summary, |out| {
                out.record(
                    &summary,
                    &[
                        text("Resources", "total_resources"),
                        text("Available now", "available_now"),
                        text("In use now", "currently_in_use"),
                        text("Unavailable now", "unavailable_now"),
                        time("At", "timestamp"),
                    ],
                )
            });
            Ok(())
        }
        Command::Config => {
            let config = serde_json::json!({
                "api_url": ctx.api.base_url(),
                "profile": ctx.profile,
                "config_dir": ctx.config_dir,
                "session_file": ctx.api.store().path(),
                "logged_in": matches!(ctx.api.store().load(), Ok(Some(_))),
                "time_zone": ctx.out.zone().header().unwrap_or("system"),
            });
            ctx.out.emit(&config, |out| {
                out.record(
                    &config,
                    &[
                        text("API URL", "api_url"),
                        text("Profile", "profile"),
                        text("Config directory", "config_dir"),
                        text("Session file", "session_file"),
                        crate::output::flag("Logged in", "logged_in"),
                        text("Time zone", "time_zone"),
                    ],
                )
            });
            Ok(())
        }
        Command::Cleanup { yes } => {
            prompt::confirm("Mark every reservation that has ended as expired?", yes.yes)?;
            let answer: Value = ctx.api.post("/api/v1/admin/cleanup-expired").send().await?;
            ctx.out
                .emit(&answer, |out| out.ok(message_of(&answer, "Clean-up done")));
            Ok(())
        }
    }
}

/// `GET /health`; for people, also who is logged in.
pub async fn status(ctx: &Ctx) -> Result<()> {
    let health: Value = ctx.api.get("/health").public().send().await?;
    if ctx.out.is_json() {
        ctx.out.print_json(&health);
        return Ok(());
    }
    ctx.out.record(
        &health,
        &[
            text("Status", "status"),
            text("Database", "database"),
            text("Backend", "database_backend"),
            text("Version", "version"),
            text("Resources", "resources_count"),
            time("Checked at", "timestamp"),
        ],
    );
    let healthy = health["status"] == "healthy";
    if healthy {
        ctx.out.ok(format!("API at {} is healthy", ctx.api.base_url()));
    } else {
        ctx.out.warn(format!(
            "API at {} reports {}",
            ctx.api.base_url(),
            crate::output::plain(&health["status"])
        ));
    }
    if ctx.api.store().load()?.is_some() {
        match ctx.api.get("/api/v1/users/me").send::<Value>().await {
            Ok(me) => ctx
                .out
                .info(format!("Logged in as {}", crate::output::plain(&me["username"]))),
            Err(error) => ctx.out.warn(format!("Saved session not usable: {error}")),
        }
    } else {
        ctx.out.info("Not logged in");
    }
    Ok(())
}
