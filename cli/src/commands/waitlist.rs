//! `waitlist join|list|show|leave|accept`: wait for a taken slot; when it frees up the server
//! offers it, and `accept` books it.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

use super::{Ctx, PageArgs, TIME_HELP, TimeRange, Yes, fetch_pages, message_of, show_page};
use crate::output::{Column, flag, text, time};
use crate::prompt;
use crate::time::wire;

const COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("Resource", "resource.name"),
    time("From", "desired_start"),
    time("Until", "desired_end"),
    text("Status", "status"),
    text("Position", "position"),
    time("Offer expires", "offer_expires_at"),
];

const FIELDS: &[Column] = &[
    text("ID", "id"),
    text("Resource", "resource.name"),
    text("Resource ID", "resource_id"),
    time("From", "desired_start"),
    time("Until", "desired_end"),
    flag("Flexible time", "flexible_time"),
    text("Status", "status"),
    text("Position", "position"),
    time("Joined", "created_at"),
    time("Offered", "offered_at"),
    time("Offer expires", "offer_expires_at"),
];

#[derive(Subcommand)]
pub enum Command {
    /// Join the waitlist for a slot that is taken
    #[command(after_help = TIME_HELP)]
    Join {
        /// Resource id
        resource_id: i64,
        #[command(flatten)]
        range: TimeRange,
        /// A nearby slot is acceptable too
        #[arg(long)]
        flexible: bool,
    },
    /// Your waitlist entries (waiting or offered unless --include-completed)
    List {
        /// Also show fulfilled, expired and cancelled entries
        #[arg(long, short = 'c')]
        include_completed: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one entry
    Show {
        /// Waitlist entry id
        id: i64,
    },
    /// Leave the waitlist
    Leave {
        /// Waitlist entry id
        id: i64,
        #[command(flatten)]
        yes: Yes,
    },
    /// Accept an offer: book the slot that was offered
    Accept {
        /// Waitlist entry id
        id: i64,
    },
}

fn path(id: i64) -> String {
    format!("/api/v1/waitlist/{id}")
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Join {
            resource_id,
            range,
            flexible,
        } => {
            let slot = range.resolve(ctx)?;
            let body = json!({
                "resource_id": resource_id,
                "desired_start": wire(slot.start),
                "desired_end": wire(slot.end),
                "flexible_time": flexible,
            });
            let entry: Value = ctx.api.post("/api/v1/waitlist").json(&body).send().await?;
            ctx.out.emit(&entry, |out| {
                out.record(&entry, FIELDS);
                out.ok(format!(
                    "On the waitlist (entry {}, position {})",
                    entry["id"], entry["position"]
                ));
            });
        }
        Command::List {
            include_completed,
            page,
        } => {
            let request = || {
                ctx.api
                    .get("/api/v1/waitlist")
                    .flag("include_completed", include_completed)
            };
            let found = fetch_pages(request, &page).await?;
            show_page(&ctx.out, &found, COLUMNS, "waitlist entries");
        }
        Command::Show { id } => {
            let entry: Value = ctx.api.get(path(id)).send().await?;
            ctx.out.emit(&entry, |out| out.record(&entry, FIELDS));
        }
        Command::Leave { id, yes } => {
            prompt::confirm(&format!("Leave waitlist entry {id}?"), yes.yes)?;
            let answer: Value = ctx.api.delete(path(id)).send().await?;
            ctx.out
                .emit(&answer, |out| out.ok(message_of(&answer, "Left the waitlist")));
        }
        Command::Accept { id } => {
            let reservation: Value = ctx.api.post(format!("{}/accept", path(id))).send().await?;
            ctx.out.emit(&reservation, |out| {
                out.record(&reservation, super::reservations::FIELDS);
                out.ok(format!("Offer accepted: reservation {}", reservation["id"]));
            });
        }
    }
    Ok(())
}
