//! `waitlist join|list|show|leave|accept`: wait for a taken slot; when it frees up the server
//! offers it, and `accept` books it.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

use super::{Ctx, PageArgs, TIME_HELP, Yes, end_arg, fetch_pages, message_of, show_page, time_arg};
use crate::output::{Column, flag, text, time};
use crate::prompt;
use crate::time::{EndInput, Slot, TimeInput, wire};

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
    /// (The original's `--resource/-r`, `--start/-s`, `--end/-e` work too.)
    Join {
        /// Resource id
        #[arg(required_unless_present = "resource", conflicts_with = "resource")]
        resource_id: Option<i64>,
        /// Start (e.g. "2030-05-01 10:00", local time)
        #[arg(value_parser = time_arg, required_unless_present = "start", conflicts_with = "start")]
        start_time: Option<TimeInput>,
        /// End or duration (2h, 30m, 1h30m)
        #[arg(value_parser = end_arg, value_name = "END|DURATION", required_unless_present = "end", conflicts_with = "end")]
        end_time: Option<EndInput>,
        /// Resource id, as an option
        #[arg(long, short = 'r', hide = true)]
        resource: Option<i64>,
        /// Start, as an option
        #[arg(long, short = 's', value_parser = time_arg, hide = true)]
        start: Option<TimeInput>,
        /// End or duration, as an option
        #[arg(long, short = 'e', value_parser = end_arg, hide = true)]
        end: Option<EndInput>,
        /// A nearby slot is acceptable too
        #[arg(long, short = 'f')]
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
        /// Accepted for the original's `--force/-f` (accepting never asks)
        #[arg(long, short = 'f', hide = true)]
        force: bool,
    },
}

fn path(id: i64) -> String {
    format!("/api/v1/waitlist/{id}")
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Join {
            resource_id,
            start_time,
            end_time,
            resource,
            start,
            end,
            flexible,
        } => {
            // clap makes sure each is given one way or the other.
            let (Some(resource_id), Some(start), Some(end)) =
                (resource_id.or(resource), start_time.or(start), end_time.or(end))
            else {
                return Err(crate::error::CliError::usage("give RESOURCE_ID START END|DURATION"));
            };
            let slot = Slot::resolve(start, end, ctx.out.zone()).map_err(crate::error::CliError::usage)?;
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
        Command::Accept { id, force: _ } => {
            let reservation: Value = ctx.api.post(format!("{}/accept", path(id))).send().await?;
            ctx.out.emit(&reservation, |out| {
                out.record(&reservation, super::reservations::FIELDS);
                out.ok(format!("Offer accepted: reservation {}", reservation["id"]));
            });
        }
    }
    Ok(())
}
