//! `audit logs|show|entity|activity|mine|stats|export`: the audit log of security and admin
//! events. Exports are downloaded with a progress bar.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

use super::{Ctx, save_download, show_list, show_record, show_report};
use crate::client::Request;
use crate::output::{Column, flag, text, time};

const COLUMNS: &[Column] = &[
    text("ID", "id"),
    time("When", "timestamp"),
    text("User", "username"),
    text("Action", "action"),
    text("Entity", "entity_type"),
    text("Entity ID", "entity_id"),
    flag("Success", "success"),
    text("IP", "ip_address"),
];

/// The filters shared by the listing, statistics and export.
#[derive(Debug, Args)]
pub struct Filters {
    /// Only this user's actions
    #[arg(long, short = 'u')]
    user: Option<i64>,
    /// Only this action (e.g. login, reservation_cancelled)
    #[arg(long, short = 'a')]
    action: Option<String>,
    /// Only this kind of entity (user, resource, reservation, …)
    #[arg(long, short = 'e')]
    entity_type: Option<String>,
    /// From this time (YYYY-MM-DD or RFC 3339, UTC)
    #[arg(long)]
    since: Option<String>,
    /// Until this time
    #[arg(long)]
    until: Option<String>,
    /// Only successes (true) or failures (false)
    #[arg(long)]
    success: Option<bool>,
    /// Text anywhere in the entry
    #[arg(long, short = 'q')]
    search: Option<String>,
}

impl Filters {
    fn apply<'a>(&self, request: Request<'a>) -> Request<'a> {
        request
            .query_opt("user_id", self.user)
            .query_opt("action", self.action.as_deref())
            .query_opt("entity_type", self.entity_type.as_deref())
            .query_opt("start_date", self.since.as_deref())
            .query_opt("end_date", self.until.as_deref())
            .query_opt("success", self.success)
            .query_opt("search", self.search.as_deref())
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Entries, newest first
    Logs {
        #[command(flatten)]
        filters: Filters,
        /// Skip this many
        #[arg(long, default_value_t = 0)]
        skip: u32,
        /// Show at most this many (1-1000)
        #[arg(long, short = 'l', default_value_t = 50)]
        limit: u32,
    },
    /// One entry with its details
    Show {
        /// Entry id
        id: i64,
    },
    /// What happened to one entity
    Entity {
        /// Kind (user, resource, reservation, …)
        entity_type: String,
        /// Its id
        entity_id: i64,
    },
    /// What a user did lately
    Activity {
        /// User id
        user_id: i64,
        /// Over the last N days
        #[arg(long, short = 'd', default_value_t = 30)]
        days: u32,
    },
    /// What you did lately
    Mine {
        /// Over the last N days
        #[arg(long, short = 'd', default_value_t = 30)]
        days: u32,
    },
    /// Counts by action, user and outcome
    Stats {
        #[command(flatten)]
        filters: Filters,
    },
    /// Download the entries (up to 10,000) as CSV or JSON
    Export {
        #[command(flatten)]
        filters: Filters,
        /// File format
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Write it to this file instead of standard output
        #[arg(long, short = 'f')]
        file: Option<PathBuf>,
    },
}

const BASE: &str = "/api/v1/audit";

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Logs { filters, skip, limit } => {
            let request = ctx
                .api
                .get(format!("{BASE}/logs"))
                .query("skip", skip)
                .query("limit", limit);
            let page: Value = filters.apply(request).send().await?;
            show_list(ctx, &page, "logs", COLUMNS, "No entries.");
            if let Some(total) = page["total"].as_u64() {
                ctx.out
                    .info(format!("{} of {total} entries.", super::items(&page, "logs").len()));
            }
        }
        Command::Show { id } => {
            let entry: Value = ctx.api.get(format!("{BASE}/logs/{id}")).send().await?;
            show_record(ctx, &entry, &[]);
        }
        Command::Entity { entity_type, entity_id } => {
            let entries: Value = ctx
                .api
                .get(format!("{BASE}/entity/{entity_type}/{entity_id}"))
                .send()
                .await?;
            show_list(ctx, &entries, "logs", COLUMNS, "No entries.");
        }
        Command::Activity { user_id, days } => {
            let entries: Value = ctx
                .api
                .get(format!("{BASE}/user/{user_id}/activity"))
                .query("days", days)
                .send()
                .await?;
            show_list(ctx, &entries, "logs", COLUMNS, "No entries.");
        }
        Command::Mine { days } => {
            let entries: Value = ctx
                .api
                .get(format!("{BASE}/my-activity"))
                .query("days", days)
                .send()
                .await?;
            show_list(ctx, &entries, "logs", COLUMNS, "No entries.");
        }
        Command::Stats { filters } => {
            let stats: Value = filters.apply(ctx.api.get(format!("{BASE}/statistics"))).send().await?;
            show_report(ctx, &stats);
        }
        Command::Export { filters, format, file } => {
            let (path, what) = match format {
                ExportFormat::Csv => ("csv", "audit log CSV"),
                ExportFormat::Json => ("json", "audit log JSON"),
            };
            let request = filters.apply(ctx.api.get(format!("{BASE}/export/{path}")));
            save_download(ctx, request, file.as_deref(), what).await?;
        }
    }
    Ok(())
}
