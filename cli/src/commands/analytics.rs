//! `analytics dashboard|utilization|popular|peaks|patterns|heatmap|cancellations|export`.
//! Every report is shown as its figures and tables (`--output csv`: its main table); the two
//! CSV exports are downloaded with a progress bar.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

use super::{Ctx, save_download, show_report};

#[derive(Debug, Args)]
pub struct Period {
    /// Over the last N days
    #[arg(long, short = 'd', default_value_t = 30)]
    days: u32,
}

#[derive(Subcommand)]
pub enum Command {
    /// Overview: counts, utilisation, most booked resources, peak hours
    Dashboard {
        #[command(flatten)]
        period: Period,
    },
    /// Booked hours against open hours, per resource
    Utilization {
        #[command(flatten)]
        period: Period,
        /// Only this resource
        #[arg(long, short = 'r')]
        resource: Option<i64>,
    },
    /// The most booked resources
    Popular {
        #[command(flatten)]
        period: Period,
        /// How many (1-100)
        #[arg(long, short = 'l')]
        limit: Option<u32>,
    },
    /// Bookings by hour of day and day of week
    Peaks {
        #[command(flatten)]
        period: Period,
    },
    /// How a user books (yours, or anyone's with the permission)
    Patterns {
        #[command(flatten)]
        period: Period,
        /// User id
        #[arg(long, short = 'u')]
        user: Option<i64>,
    },
    /// Bookings by weekday and hour, as a grid
    Heatmap {
        #[command(flatten)]
        period: Period,
        /// Only this resource
        #[arg(long, short = 'r')]
        resource: Option<i64>,
    },
    /// Cancellations: how many, how early, why
    Cancellations {
        #[command(flatten)]
        period: Period,
    },
    /// Download a CSV export
    Export {
        /// Which export
        #[arg(value_enum)]
        what: ExportKind,
        #[command(flatten)]
        period: Period,
        /// Write it to this file instead of standard output
        #[arg(long, short = 'f')]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportKind {
    Utilization,
    Reservations,
}

const BASE: &str = "/api/v1/analytics";

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    let (path, period, resource, user, limit) = match command {
        Command::Dashboard { period } => ("dashboard", period, None, None, None),
        Command::Utilization { period, resource } => ("utilization", period, resource, None, None),
        Command::Popular { period, limit } => ("popular-resources", period, None, None, limit),
        Command::Peaks { period } => ("peak-times", period, None, None, None),
        Command::Patterns { period, user } => ("user-patterns", period, None, user, None),
        Command::Heatmap { period, resource } => ("heatmap", period, resource, None, None),
        Command::Cancellations { period } => ("cancellations", period, None, None, None),
        Command::Export { what, period, file } => {
            let name = match what {
                ExportKind::Utilization => "utilization.csv",
                ExportKind::Reservations => "reservations.csv",
            };
            let request = ctx.api.get(format!("{BASE}/export/{name}")).query("days", period.days);
            return save_download(ctx, request, file.as_deref(), name).await;
        }
    };
    let report: Value = ctx
        .api
        .get(format!("{BASE}/{path}"))
        .query("days", period.days)
        .query_opt("resource_id", resource)
        .query_opt("user_id", user)
        .query_opt("limit", limit)
        .send()
        .await?;
    show_report(ctx, &report);
    Ok(())
}
