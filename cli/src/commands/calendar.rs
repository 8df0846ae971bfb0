//! `calendar url|regenerate|feed|export`: the secret feed URL calendar apps subscribe to, the
//! feed itself, and one reservation as an `.ics` file.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;

use super::{Ctx, Yes, save_download, show_record};
use crate::output::{Column, text};
use crate::prompt;

const FIELDS: &[Column] = &[text("Feed URL", "url"), text("Token", "token")];

#[derive(Subcommand)]
pub enum Command {
    /// Your feed URL, to subscribe to in a calendar app (it is a password: keep it private)
    Url,
    /// A new feed URL; the old one stops working at once
    Regenerate {
        #[command(flatten)]
        yes: Yes,
    },
    /// Download your feed (.ics)
    Feed {
        /// Reservations that started up to this many days ago (0-365)
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(0..=365))]
        days_back: u16,
        /// …and up to this many days ahead (1-365)
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u16).range(1..=365))]
        days_ahead: u16,
        /// Write it to this file instead of standard output
        #[arg(long, short = 'f')]
        file: Option<PathBuf>,
    },
    /// Download one reservation as an .ics file
    Export {
        /// Reservation id
        id: i64,
        /// Write it to this file instead of standard output (e.g. reservation-7.ics)
        #[arg(long, short = 'f')]
        file: Option<PathBuf>,
    },
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Url => {
            let answer: Value = ctx.api.get("/api/v1/calendar/subscription-url").send().await?;
            show_record(ctx, &answer, FIELDS);
        }
        Command::Regenerate { yes } => {
            prompt::confirm(
                "Replace your feed URL? Calendars subscribed to the old one stop updating.",
                yes.yes,
            )?;
            let answer: Value = ctx.api.post("/api/v1/calendar/regenerate-token").send().await?;
            show_record(ctx, &answer, FIELDS);
        }
        Command::Feed {
            days_back,
            days_ahead,
            file,
        } => {
            let request = ctx
                .api
                .get("/api/v1/calendar/my-feed")
                .query("days_back", days_back)
                .query("days_ahead", days_ahead);
            save_download(ctx, request, file.as_deref(), "calendar feed").await?;
        }
        Command::Export { id, file } => {
            let request = ctx.api.get(format!("/api/v1/calendar/export/{id}.ics"));
            save_download(ctx, request, file.as_deref(), &format!("reservation {id}")).await?;
        }
    }
    Ok(())
}
