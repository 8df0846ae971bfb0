//! `reservations create|list|show|cancel|move|history`.

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::{Ctx, PageArgs, TIME_HELP, TimeRange, Yes, fetch_pages, show_page};
use crate::error::CliError;
use crate::output::{Column, Output, flag, text, time};
use crate::prompt;
use crate::time::{self, UntilInput, Zone, wire};

/// Reservations in lists.
pub const COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("Resource", "resource.name"),
    time("Start", "start_time"),
    time("End", "end_time"),
    text("Status", "status"),
    text("Series", "recurrence_rule_id"),
];

/// One reservation.
pub const FIELDS: &[Column] = &[
    text("ID", "id"),
    text("Resource", "resource.name"),
    text("Resource ID", "resource_id"),
    time("Start", "start_time"),
    time("End", "end_time"),
    text("Status", "status"),
    text("User ID", "user_id"),
    time("Created", "created_at"),
    time("Cancelled", "cancelled_at"),
    text("Cancellation reason", "cancellation_reason"),
    text("Series", "recurrence_rule_id"),
    flag("Repeat of another", "is_recurring_instance"),
];

#[derive(Subcommand)]
pub enum Command {
    /// Book a resource, once or as a series
    #[command(after_help = CREATE_HELP)]
    Create {
        /// Resource id
        resource_id: i64,
        #[command(flatten)]
        range: TimeRange,
        #[command(flatten)]
        recurrence: RecurrenceArgs,
    },
    /// Your reservations (active ones unless --include-cancelled)
    List {
        /// Also show cancelled, expired and other ended reservations
        #[arg(long, short = 'c')]
        include_cancelled: bool,
        /// Only reservations that have not ended
        #[arg(long, short = 'u')]
        upcoming: bool,
        /// More columns: who, when created, why cancelled
        #[arg(long, short = 'd')]
        detailed: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show one reservation
    Show {
        /// Reservation id
        id: i64,
    },
    /// Cancel a reservation (by id, wherever it is in your list)
    Cancel {
        /// Reservation id
        id: i64,
        /// Why (kept in its history)
        #[arg(long, short = 'r')]
        reason: Option<String>,
        /// Also cancel every later occurrence of its series
        #[arg(long)]
        following: bool,
        #[command(flatten)]
        yes: Yes,
    },
    /// Move a reservation to another free slot (before it starts)
    #[command(name = "move", after_help = TIME_HELP)]
    Move {
        /// Reservation id
        id: i64,
        #[command(flatten)]
        range: TimeRange,
    },
    /// What happened to a reservation: created, moved, cancelled…
    History {
        /// Reservation id
        id: i64,
        /// Also show each entry's details
        #[arg(long, short = 'd')]
        detailed: bool,
    },
}

const CREATE_HELP: &str = "\
Examples:
  resource-reserver-cli reservations create 3 \"2030-05-01 10:00\" 1h30m
  resource-reserver-cli reservations create 3 \"2030-05-01 10:00\" \"2030-05-01 12:00\"
  resource-reserver-cli reservations create 3 \"05/04/2030 09:00\" 1h -r weekly --days mon,wed --count 6
  resource-reserver-cli reservations create 3 2030-05-01T09:00:00Z 30m -r daily --until 2030-05-31

Times: `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS`, `MM/DD/YYYY HH:MM` or `MM/DD/YY HH:MM` are
wall-clock times in your local time zone (the TZ variable, else the system's; --utc for UTC).
They are converted to an explicit UTC offset before they are sent. RFC 3339 times with an offset
(2030-05-01T10:00:00+02:00, …Z) are sent as they are. Durations: 2h, 30m, 1h30m, 1d.
Series are expanded by the server in the resource's time zone.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
}

/// Weekdays of a weekly series (0 is Monday).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weekdays(pub Vec<u8>);

fn weekdays_arg(raw: &str) -> Result<Weekdays, String> {
    time::parse_weekdays(raw).map(Weekdays)
}

fn until_arg(raw: &str) -> Result<UntilInput, String> {
    time::parse_until(raw)
}

/// How a reservation repeats.
#[derive(Debug, Args, Default)]
pub struct RecurrenceArgs {
    /// Repeat daily, weekly or monthly
    #[arg(long, short = 'r', value_enum)]
    pub recurrence: Option<Frequency>,
    /// Every N days, weeks or months (default 1)
    #[arg(long, requires = "recurrence", value_parser = clap::value_parser!(u32).range(1..))]
    pub interval: Option<u32>,
    /// Weekdays of a weekly series: 0,2,4 (0 is Monday) or mon,wed,fri
    #[arg(long, short = 'd', requires = "recurrence", value_parser = weekdays_arg)]
    pub days: Option<Weekdays>,
    /// Number of occurrences, the first included (default 5)
    #[arg(long, short = 'n', visible_alias = "recurrence-count", requires = "recurrence", value_parser = clap::value_parser!(u32).range(1..))]
    pub count: Option<u32>,
    /// Last day of the series (YYYY-MM-DD) or last start time
    #[arg(long, visible_alias = "recurrence-end", requires = "recurrence", conflicts_with = "count", value_parser = until_arg)]
    pub until: Option<UntilInput>,
    /// Book the free occurrences and list the others, instead of refusing the whole series
    #[arg(long, requires = "recurrence")]
    pub skip_conflicts: bool,
}

impl RecurrenceArgs {
    /// The API's recurrence object, or `None` for a single booking.
    pub fn rule(&self, zone: &Zone) -> Result<Option<Value>, String> {
        let Some(frequency) = self.recurrence else {
            return Ok(None);
        };
        let frequency = match frequency {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
        };
        let days = self.days.as_ref().map(|d| d.0.clone()).unwrap_or_default();
        if !days.is_empty() && frequency != "weekly" {
            return Err("--days is only for weekly series".into());
        }
        let mut rule = json!({
            "frequency": frequency,
            "interval": self.interval.unwrap_or(1),
            "days_of_week": days,
        });
        match self.until {
            Some(UntilInput::Date(date)) => {
                rule["end_type"] = json!("on_date");
                rule["end_date"] = json!(date.format("%Y-%m-%d").to_string());
            }
            Some(UntilInput::Time(at)) => {
                rule["end_type"] = json!("on_date");
                rule["end_date"] = json!(wire(zone.instant(at)?));
            }
            None => {
                rule["end_type"] = json!("after_count");
                rule["occurrence_count"] = json!(self.count.unwrap_or(5));
            }
        }
        Ok(Some(rule))
    }
}

fn path(id: i64) -> String {
    format!("/api/v1/reservations/{id}")
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Create {
            resource_id,
            range,
            recurrence,
        } => create(resource_id, &range, &recurrence, ctx).await,
        Command::List {
            include_cancelled,
            upcoming,
            detailed,
            page,
        } => {
            let request = || {
                ctx.api
                    .get("/api/v1/reservations/my")
                    .flag("include_cancelled", include_cancelled)
                    .flag("upcoming", upcoming)
            };
            let found = fetch_pages(request, &page).await?;
            show_page(
                &ctx.out,
                &found,
                if detailed { FIELDS } else { COLUMNS },
                "reservations",
            );
            Ok(())
        }
        Command::Show { id } => {
            let reservation: Value = ctx.api.get(path(id)).send().await?;
            ctx.out.emit(&reservation, |out| out.record(&reservation, FIELDS));
            Ok(())
        }
        Command::Cancel {
            id,
            reason,
            following,
            yes,
        } => {
            let what = if following {
                format!("Cancel reservation {id} and every later occurrence of its series?")
            } else {
                format!("Cancel reservation {id}?")
            };
            prompt::confirm(&what, yes.yes)?;
            let mut body = json!({ "scope": if following { "following" } else { "occurrence" } });
            if let Some(reason) = reason {
                body["reason"] = json!(reason);
            }
            let answer: Value = ctx.api.post(format!("{}/cancel", path(id))).json(&body).send().await?;
            ctx.out.emit(&answer, |out| {
                let ids = answer["cancelled_reservation_ids"].as_array().map_or(0, Vec::len);
                if ids > 1 {
                    out.ok(format!("Cancelled reservation {id} and {} later occurrences", ids - 1));
                } else {
                    out.ok(format!("Cancelled reservation {id}"));
                }
            });
            Ok(())
        }
        Command::Move { id, range } => {
            let slot = range.resolve(ctx)?;
            let body = json!({ "start_time": wire(slot.start), "end_time": wire(slot.end) });
            let reservation: Value = ctx.api.patch(path(id)).json(&body).send().await?;
            ctx.out.emit(&reservation, |out| {
                out.record(&reservation, FIELDS);
                out.ok(format!("Moved reservation {id}"));
            });
            Ok(())
        }
        Command::History { id, detailed } => {
            let history: Value = ctx.api.get(format!("{}/history", path(id))).send().await?;
            ctx.out.emit(&history, |out| {
                let entries = history.as_array().map_or(&[][..], Vec::as_slice);
                let columns = [
                    time("When", "timestamp"),
                    text("Action", "action"),
                    text("By user", "user_id"),
                    text("Details", "details"),
                ];
                let shown = if detailed { &columns[..] } else { &columns[..3] };
                out.rows(entries, shown, "No history.");
            });
            Ok(())
        }
    }
}

/// `reserve RESOURCE_ID START DURATION`: the original's shortcut for a single booking.
#[derive(Debug, Args)]
pub struct ReserveArgs {
    /// Resource id
    resource_id: i64,
    #[command(flatten)]
    range: TimeRange,
}

pub async fn reserve(args: ReserveArgs, ctx: &Ctx) -> Result<()> {
    create(args.resource_id, &args.range, &RecurrenceArgs::default(), ctx).await
}

/// `upcoming`: the reservations that have not ended, soonest first (the first page).
pub async fn upcoming(ctx: &Ctx) -> Result<()> {
    let page: Value = ctx
        .api
        .get("/api/v1/reservations/my")
        .query("upcoming", true)
        .query("sort_by", "start_time")
        .query("sort_order", "asc")
        .query("include_total", true)
        .send()
        .await?;
    show_page(&ctx.out, &page, COLUMNS, "upcoming reservations");
    Ok(())
}

async fn create(resource_id: i64, range: &TimeRange, recurrence: &RecurrenceArgs, ctx: &Ctx) -> Result<()> {
    let slot = range.resolve(ctx)?;
    let rule = recurrence.rule(ctx.out.zone()).map_err(CliError::usage)?;
    let mut body = json!({
        "resource_id": resource_id,
        "start_time": wire(slot.start),
        "end_time": wire(slot.end),
    });
    let Some(rule) = rule else {
        let reservation: Value = ctx.api.post("/api/v1/reservations").json(&body).send().await?;
        ctx.out.emit(&reservation, |out| {
            out.record(&reservation, FIELDS);
            out.ok(format!(
                "Reservation {} created: {}, {} to {}",
                reservation["id"],
                crate::output::plain(&reservation["resource"]["name"]),
                out.zone()
                    .display_text(reservation["start_time"].as_str().unwrap_or_default()),
                out.zone()
                    .display_text(reservation["end_time"].as_str().unwrap_or_default()),
            ));
        });
        return Ok(());
    };
    body["recurrence"] = rule;
    body["skip_conflicts"] = json!(recurrence.skip_conflicts);
    let answer: Value = ctx
        .api
        .post("/api/v1/reservations/recurring")
        .json(&body)
        .send()
        .await?;
    ctx.out.emit(&answer, |out| show_series(out, &answer));
    Ok(())
}

/// A series: the list of reservations, or with `--skip-conflicts` `{created, skipped}`.
fn show_series(out: &Output, answer: &Value) {
    let created = answer
        .as_array()
        .or_else(|| answer["created"].as_array())
        .map_or(&[][..], Vec::as_slice);
    out.rows(created, COLUMNS, "No reservation was created.");
    let skipped = answer["skipped"].as_array().map_or(&[][..], Vec::as_slice);
    for slot in skipped {
        out.warn(format!(
            "Skipped ({}): {} to {}",
            slot["reason"].as_str().unwrap_or("conflict"),
            out.zone().display_text(slot["start_time"].as_str().unwrap_or_default()),
            out.zone().display_text(slot["end_time"].as_str().unwrap_or_default()),
        ));
    }
    out.ok(format!(
        "Series created: {} reservations{}",
        created.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(", {} skipped", skipped.len())
        }
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Harness {
        #[command(flatten)]
        recurrence: RecurrenceArgs,
    }

    fn rule(args: &[&str]) -> Result<Option<Value>, String> {
        let harness =
            Harness::try_parse_from(std::iter::once("test").chain(args.iter().copied())).map_err(|e| e.to_string())?;
        harness.recurrence.rule(&Zone::named("Europe/Paris"))
    }

    #[test]
    fn no_recurrence_is_a_single_booking() {
        assert_eq!(rule(&[]), Ok(None));
    }

    #[test]
    fn weekly_on_days_with_a_count() {
        assert_eq!(
            rule(&["-r", "weekly", "--days", "mon,wed,fri", "--count", "6"]),
            Ok(Some(json!({
                "frequency": "weekly", "interval": 1, "days_of_week": [0, 2, 4],
                "end_type": "after_count", "occurrence_count": 6,
            })))
        );
    }

    #[test]
    fn until_a_date_or_a_local_time() {
        let by_date = rule(&["--recurrence", "daily", "--until", "2030-05-31", "--interval", "2"])
            .unwrap()
            .unwrap();
        assert_eq!(
            (by_date["end_type"].clone(), by_date["end_date"].clone()),
            (json!("on_date"), json!("2030-05-31"))
        );
        assert_eq!(by_date["interval"], json!(2));
        let by_time = rule(&["-r", "monthly", "--until", "2030-07-01 18:00"])
            .unwrap()
            .unwrap();
        assert_eq!(by_time["end_date"], json!("2030-07-01T18:00:00+02:00"));
    }

    #[test]
    fn the_default_is_five_occurrences() {
        assert_eq!(rule(&["-r", "daily"]).unwrap().unwrap()["occurrence_count"], json!(5));
    }

    #[test]
    fn inconsistent_options_are_refused() {
        assert!(rule(&["-r", "daily", "--days", "0"]).unwrap_err().contains("weekly"));
        assert!(rule(&["--days", "0"]).is_err(), "--days needs --recurrence");
        assert!(rule(&["--count", "3"]).is_err(), "--count needs --recurrence");
        assert!(rule(&["-r", "daily", "--count", "3", "--until", "2030-05-31"]).is_err());
        assert!(rule(&["-r", "daily", "--count", "0"]).is_err());
        assert!(rule(&["-r", "yearly"]).is_err());
        assert!(rule(&["-r", "weekly", "--days", "8"]).is_err());
        assert!(rule(&["--skip-conflicts"]).is_err());
    }
}
