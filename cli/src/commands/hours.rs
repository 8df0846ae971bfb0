//! `hours show|set|slots|next` (opening hours, free slots) and `blackouts list|add|delete`
//! (days that cannot be booked). Without a resource id they work on the global rows, which
//! apply to every resource that has none of its own.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

use super::{Ctx, Yes, show_done, show_list, show_record};
use crate::error::CliError;
use crate::output::{Column, flag, text, time};
use crate::prompt;

const HOURS: &[Column] = &[
    text("Day", "day_of_week"),
    text("Opens", "open_time"),
    text("Closes", "close_time"),
    flag("Closed", "is_closed"),
    text("Resource", "resource_id"),
];

const SLOTS: &[Column] = &[time("Start", "start"), time("End", "end"), flag("Free", "available")];

const BLACKOUTS: &[Column] = &[
    text("ID", "id"),
    text("Date", "date"),
    text("Reason", "reason"),
    text("Resource", "resource_id"),
];

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Subcommand)]
pub enum Command {
    /// Opening hours of a resource (or the global ones); 0 is Monday
    Show {
        /// Resource id (none: the global hours)
        resource_id: Option<i64>,
    },
    /// Replace the opening hours of a resource (or the global ones)
    #[command(after_help = "Each DAY is mon..sun (or 0..6, 0 is Monday) followed by =HH:MM-HH:MM \
        or =closed, e.g.\n  resource-reserver-cli hours set --resource 3 mon=09:00-17:00 tue=09:00-17:00 sun=closed\n\
        Days not given have no hours of their own. --clear removes them all.")]
    Set {
        /// Resource id (none: the global hours)
        #[arg(long, short = 'r')]
        resource: Option<i64>,
        /// DAY=HH:MM-HH:MM or DAY=closed
        #[arg(value_parser = day_hours, required_unless_present = "clear")]
        days: Vec<Value>,
        /// Remove every row
        #[arg(long, conflicts_with = "days")]
        clear: bool,
    },
    /// Free and taken slots of a resource on a day
    Slots {
        /// Resource id
        resource_id: i64,
        /// The day, YYYY-MM-DD, on the resource's calendar
        #[arg(long, short = 'd')]
        date: String,
        /// Slot length in minutes (15-480)
        #[arg(long, short = 'm', default_value_t = 30)]
        duration: u32,
    },
    /// The next free slot of a resource
    Next {
        /// Resource id
        resource_id: i64,
        /// Slot length in minutes (15-480)
        #[arg(long, short = 'm', default_value_t = 30)]
        duration: u32,
        /// How far ahead to look, in days
        #[arg(long, default_value_t = 7)]
        days_ahead: u32,
    },
}

#[derive(Subcommand)]
pub enum BlackoutCommand {
    /// Blackout dates of a resource (with the global ones), or the global ones
    List {
        /// Resource id (none: the global dates)
        #[arg(long, short = 'r')]
        resource: Option<i64>,
        /// Leave out the global dates from a resource's list
        #[arg(long, requires = "resource")]
        no_global: bool,
    },
    /// Add a blackout date
    Add {
        /// The day, YYYY-MM-DD
        date: String,
        /// Only this resource (none: every resource)
        #[arg(long, short = 'r')]
        resource: Option<i64>,
        /// Why (shown to whoever tries to book it)
        #[arg(long)]
        reason: Option<String>,
    },
    /// Delete a blackout date
    Delete {
        /// Blackout date id
        id: i64,
        #[command(flatten)]
        yes: Yes,
    },
}

/// `mon=09:00-17:00`, `6=closed` → the API's row.
fn day_hours(raw: &str) -> Result<Value, String> {
    let (day, hours) = raw
        .split_once('=')
        .ok_or_else(|| format!("{raw:?}: expected DAY=HH:MM-HH:MM or DAY=closed"))?;
    let day = day.trim().to_ascii_lowercase();
    let index = match day.parse::<usize>() {
        Ok(index) if index < 7 => index,
        _ => DAYS
            .iter()
            .position(|d| day.starts_with(d))
            .ok_or_else(|| format!("{day:?} is not a weekday (mon..sun or 0..6)"))?,
    };
    let hours = hours.trim();
    if hours.eq_ignore_ascii_case("closed") {
        return Ok(json!({ "day_of_week": index, "open_time": "00:00", "close_time": "00:00", "is_closed": true }));
    }
    let (open, close) = hours
        .split_once('-')
        .ok_or_else(|| format!("{hours:?}: expected HH:MM-HH:MM or closed"))?;
    Ok(json!({ "day_of_week": index, "open_time": open.trim(), "close_time": close.trim(), "is_closed": false }))
}

fn hours_path(resource: Option<i64>) -> String {
    match resource {
        Some(id) => format!("/api/v1/resources/{id}/business-hours"),
        None => "/api/v1/business-hours/global".into(),
    }
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Show { resource_id } => {
            let rows: Value = ctx.api.get(hours_path(resource_id)).send().await?;
            show_list(ctx, &rows, "hours", HOURS, "No opening hours: open all the time.");
        }
        Command::Set { resource, days, clear } => {
            let days = if clear { Vec::new() } else { days };
            let rows: Value = ctx
                .api
                .put(hours_path(resource))
                .json(&json!({ "hours": days }))
                .send()
                .await?;
            show_list(ctx, &rows, "hours", HOURS, "No opening hours: open all the time.");
            ctx.out.ok("Opening hours saved");
        }
        Command::Slots {
            resource_id,
            date,
            duration,
        } => {
            let answer: Value = ctx
                .api
                .get(format!("/api/v1/resources/{resource_id}/available-slots"))
                .query("date", &date)
                .query("slot_duration", duration)
                .send()
                .await?;
            ctx.out.emit(&answer, |out| {
                out.rows(super::items(&answer, "slots"), SLOTS, "No slots: closed that day.");
                if answer["is_blackout"] == true {
                    out.info(format!(
                        "Blackout date: {}",
                        crate::output::plain(&answer["blackout_reason"])
                    ));
                }
            });
        }
        Command::Next {
            resource_id,
            duration,
            days_ahead,
        } => {
            let answer: Value = ctx
                .api
                .get(format!("/api/v1/resources/{resource_id}/next-available"))
                .query("slot_duration", duration)
                .query("days_ahead", days_ahead)
                .send()
                .await?;
            show_record(ctx, &answer, &[]);
        }
    }
    Ok(())
}

pub async fn run_blackouts(command: BlackoutCommand, ctx: &Ctx) -> Result<()> {
    match command {
        BlackoutCommand::List { resource, no_global } => {
            let request = match resource {
                Some(id) => ctx
                    .api
                    .get(format!("/api/v1/resources/{id}/blackout-dates"))
                    .query("include_global", !no_global),
                None => ctx.api.get("/api/v1/blackout-dates"),
            };
            let dates: Value = request.send().await?;
            show_list(ctx, &dates, "blackout_dates", BLACKOUTS, "No blackout dates.");
        }
        BlackoutCommand::Add { date, resource, reason } => {
            if chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").is_err() {
                return Err(CliError::usage(format!("{date:?} is not a date (YYYY-MM-DD)")));
            }
            let path = match resource {
                Some(id) => format!("/api/v1/resources/{id}/blackout-dates"),
                None => "/api/v1/blackout-dates".into(),
            };
            let created: Value = ctx
                .api
                .post(path)
                .json(&json!({ "date": date, "reason": reason }))
                .send()
                .await?;
            show_record(ctx, &created, BLACKOUTS);
        }
        BlackoutCommand::Delete { id, yes } => {
            prompt::confirm(&format!("Delete blackout date {id}?"), yes.yes)?;
            let answer: Value = ctx.api.delete(format!("/api/v1/blackout-dates/{id}")).send().await?;
            show_done(ctx, &answer, &format!("Blackout date {id} deleted"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_specs() {
        assert_eq!(
            day_hours("Mon=09:00-17:30").unwrap(),
            json!({"day_of_week": 0, "open_time": "09:00", "close_time": "17:30", "is_closed": false})
        );
        assert_eq!(day_hours("6=closed").unwrap()["is_closed"], true);
        assert_eq!(day_hours("sunday=closed").unwrap()["day_of_week"], 6);
        assert!(day_hours("mon").is_err());
        assert!(day_hours("7=closed").is_err());
        assert!(day_hours("xyz=09:00-10:00").is_err());
        assert!(day_hours("tue=0900").is_err());
    }
}
