//! `resources list|search|show|create|update|delete|availability|status|enable|disable|
//! maintenance|reset|upload`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{ArgGroup, Subcommand, ValueEnum};
use serde_json::{Value, json};

use super::{Ctx, FileUpload, PageArgs, TIME_HELP, Yes, fetch_pages, message_of, show_page, time_arg};
use crate::error::{CliError, validation_item};
use crate::output::{Column, flag, list, text, time};
use crate::prompt;
use crate::time::{TimeInput, wire};

/// Resources in lists.
pub const COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("Name", "name"),
    text("Status", "status"),
    flag("Enabled", "available"),
    list("Tags", "tags"),
    text("In use by", "current_user_name"),
];

/// Resources in lists with `--details`.
const DETAILED_COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("Name", "name"),
    text("Description", "description"),
    text("Status", "status"),
    flag("Enabled", "available"),
    flag("Bookable now", "current_availability"),
    list("Tags", "tags"),
    text("Time zone", "timezone"),
    text("In use by", "current_user_name"),
];

/// One resource.
const FIELDS: &[Column] = &[
    text("ID", "id"),
    text("Name", "name"),
    text("Description", "description"),
    text("Status", "status"),
    flag("Enabled", "available"),
    flag("Bookable now", "current_availability"),
    list("Tags", "tags"),
    text("Time zone", "timezone"),
    text("In use by", "current_user_name"),
];

#[derive(Subcommand)]
pub enum Command {
    /// List resources (public)
    // `-c` for the cursor here, as in the original (elsewhere `-c` means something else).
    #[command(mut_arg("cursor", |arg| arg.short('c')))]
    List {
        #[command(flatten)]
        page: PageArgs,
        /// Show descriptions and time zones
        #[arg(long, short = 'd')]
        details: bool,
    },
    /// Search by name or tag, state, and free time window (public)
    #[command(after_help = TIME_HELP, mut_arg("cursor", |arg| arg.short('c')))]
    Search {
        /// Text in the name or a tag
        #[arg(long, short = 'q')]
        query: Option<String>,
        /// Required tag (repeat, or separate with commas, to require several)
        #[arg(long = "tag", short = 't', value_delimiter = ',')]
        tags: Vec<String>,
        /// Free from this time… (with --until)
        #[arg(long, value_parser = time_arg, requires = "until")]
        from: Option<TimeInput>,
        /// …until this time
        #[arg(long, value_parser = time_arg, requires = "from")]
        until: Option<TimeInput>,
        /// Current state to match (default: available)
        #[arg(long, value_enum)]
        status: Option<StateFilter>,
        /// Only resources available (the default; the original's flag)
        #[arg(long, conflicts_with = "status")]
        available_only: bool,
        #[command(flatten)]
        page: PageArgs,
        /// Show descriptions and time zones
        #[arg(long, short = 'd')]
        details: bool,
        /// Then offer to book one of the resources found
        #[arg(long, short = 'i')]
        interactive: bool,
    },
    /// Show one resource
    Show {
        /// Resource id
        id: i64,
    },
    /// Create a resource (admin)
    Create {
        /// Unique name
        name: String,
        /// Description
        #[arg(long)]
        description: Option<String>,
        /// Tags, comma-separated
        #[arg(long, short = 't', value_delimiter = ',')]
        tags: Vec<String>,
        /// Create it disabled (not bookable)
        #[arg(long, conflicts_with = "available")]
        unavailable: bool,
        /// Create it enabled (the default; the original's flag)
        #[arg(long)]
        available: bool,
        /// IANA time zone of the resource, used for recurring series (default UTC)
        #[arg(long)]
        timezone: Option<String>,
    },
    /// Change a resource's name, description, tags or time zone (admin, manager)
    #[command(group(ArgGroup::new("change").required(true).multiple(true)
        .args(["name", "description", "tags", "timezone"])))]
    Update {
        /// Resource id
        id: i64,
        /// New name
        #[arg(long)]
        name: Option<String>,
        /// New description ("" clears it)
        #[arg(long)]
        description: Option<String>,
        /// New tags, comma-separated (replace the current ones)
        #[arg(long, short = 't', value_delimiter = ',')]
        tags: Option<Vec<String>>,
        /// New IANA time zone
        #[arg(long)]
        timezone: Option<String>,
    },
    /// Delete a resource (admin)
    Delete {
        /// Resource id
        id: i64,
        /// Cancel its upcoming reservations first (otherwise they prevent the deletion)
        #[arg(long)]
        cancel_reservations: bool,
        #[command(flatten)]
        yes: Yes,
    },
    /// Reservations of a resource from today on (public)
    Availability {
        /// Resource id
        id: i64,
        /// How many days ahead (0-365)
        #[arg(long, short = 'd', default_value_t = 7, value_parser = clap::value_parser!(u16).range(0..=365))]
        days: u16,
        /// Also show the free periods in that window
        #[arg(long)]
        detailed: bool,
    },
    /// Live state of a resource: in use, under maintenance (public)
    Status {
        /// Resource id
        id: i64,
    },
    /// Make a resource bookable again (admin, manager)
    Enable {
        /// Resource id
        id: i64,
        /// Accepted for the original's `--force/-f` (enabling never asks)
        #[arg(long, short = 'f', hide = true)]
        force: bool,
    },
    /// Make a resource not bookable (admin, manager)
    Disable {
        /// Resource id
        id: i64,
        #[command(flatten)]
        yes: Yes,
    },
    /// Put a resource under maintenance for some hours (admin, manager)
    Maintenance {
        /// Resource id
        id: i64,
        /// Hours until it ends by itself (1-8760)
        #[arg(long, short = 'H', default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=8760))]
        hours: u16,
        #[command(flatten)]
        yes: Yes,
    },
    /// End a resource's maintenance now (admin, manager)
    Reset {
        /// Resource id
        id: i64,
    },
    /// Create resources from a CSV file, all or nothing (admin)
    #[command(
        after_help = "Columns: name (required), tags (comma-separated inside the field), available \
                            (true/false), description, timezone. Lines starting with # are skipped. Every row \
                            is checked first: one bad row and nothing is imported."
    )]
    Upload {
        /// The CSV file
        file: PathBuf,
        /// Only check the file and show what would be created
        #[arg(long, short = 'p')]
        preview: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StateFilter {
    Available,
    InUse,
    Unavailable,
    All,
}

impl StateFilter {
    fn as_str(self) -> &'static str {
        match self {
            StateFilter::Available => "available",
            StateFilter::InUse => "in_use",
            StateFilter::Unavailable => "unavailable",
            StateFilter::All => "all",
        }
    }
}

fn path(id: i64) -> String {
    format!("/api/v1/resources/{id}")
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::List { page, details } => {
            let found = fetch_pages(|| ctx.api.get("/api/v1/resources").if_signed_in(), &page).await?;
            show_page(&ctx.out, &found, columns(details), "resources");
        }
        Command::Search {
            query,
            tags,
            from,
            until,
            status,
            available_only,
            page,
            details,
            interactive,
        } => {
            let status = status.or(available_only.then_some(StateFilter::Available));
            let zone = ctx.out.zone();
            let window = match (from, until) {
                (Some(from), Some(until)) => Some((
                    wire(zone.instant(from).map_err(CliError::usage)?),
                    wire(zone.instant(until).map_err(CliError::usage)?),
                )),
                _ => None,
            };
            let request = || {
                let mut request = ctx
                    .api
                    .get("/api/v1/resources/search")
                    .if_signed_in()
                    .query_opt("q", query.as_deref())
                    .query_opt("status", status.map(StateFilter::as_str));
                for tag in tags.iter().filter(|t| !t.trim().is_empty()) {
                    request = request.query("tags", tag.trim());
                }
                if let Some((from, until)) = &window {
                    request = request.query("available_from", from).query("available_until", until);
                }
                request
            };
            let found = fetch_pages(request, &page).await?;
            show_page(&ctx.out, &found, columns(details), "resources");
            if interactive {
                book_one_of(&found, window, ctx).await?;
            }
        }
        Command::Show { id } => {
            let resource: Value = ctx.api.get(path(id)).if_signed_in().send().await?;
            ctx.out.emit(&resource, |out| out.record(&resource, FIELDS));
        }
        Command::Create {
            name,
            description,
            tags,
            unavailable,
            available: _,
            timezone,
        } => {
            let mut body = json!({ "name": name, "tags": tags, "available": !unavailable });
            insert_some(&mut body, "description", description);
            insert_some(&mut body, "timezone", timezone);
            let resource: Value = ctx.api.post("/api/v1/resources").json(&body).send().await?;
            ctx.out.emit(&resource, |out| {
                out.record(&resource, FIELDS);
                out.ok(format!(
                    "Resource {} created (id {})",
                    resource["name"].as_str().unwrap_or(&name),
                    resource["id"]
                ));
            });
        }
        Command::Update {
            id,
            name,
            description,
            tags,
            timezone,
        } => {
            let mut body = json!({});
            insert_some(&mut body, "name", name);
            insert_some(&mut body, "description", description);
            insert_some(&mut body, "tags", tags);
            insert_some(&mut body, "timezone", timezone);
            let resource: Value = ctx.api.put(path(id)).json(&body).send().await?;
            ctx.out.emit(&resource, |out| {
                out.record(&resource, FIELDS);
                out.ok(format!("Resource {id} updated"));
            });
        }
        Command::Delete {
            id,
            cancel_reservations,
            yes,
        } => {
            let what = if cancel_reservations {
                format!("Delete resource {id} and cancel its upcoming reservations?")
            } else {
                format!("Delete resource {id}?")
            };
            prompt::confirm(&what, yes.yes)?;
            let answer: Value = ctx
                .api
                .delete(path(id))
                .flag("cancel_reservations", cancel_reservations)
                .send()
                .await
                .map_err(|error| match CliError::api(&error) {
                    Some((409, detail, _)) if !cancel_reservations => {
                        anyhow::anyhow!("{detail} (add --cancel-reservations to cancel them)")
                    }
                    _ => error,
                })?;
            ctx.out.emit(&answer, |out| {
                out.ok(message_of(&answer, "Resource deleted"));
                if let Some(ids) = answer["cancelled_reservations"]
                    .as_array()
                    .filter(|ids| !ids.is_empty())
                {
                    out.info(format!(
                        "Cancelled reservations: {}",
                        crate::output::plain(&Value::from(ids.clone()))
                    ));
                }
            });
        }
        Command::Availability { id, days, detailed } => availability(id, days, detailed, ctx).await?,
        Command::Status { id } => {
            let status: Value = ctx
                .api
                .get(format!("{}/status", path(id)))
                .if_signed_in()
                .send()
                .await?;
            ctx.out.emit(&status, |out| {
                out.record(
                    &status,
                    &[
                        text("Resource", "resource_name"),
                        text("ID", "resource_id"),
                        text("Status", "status"),
                        flag("Enabled", "base_available"),
                        flag("Bookable", "is_available_for_reservation"),
                        flag("In use", "is_currently_in_use"),
                        text("Current reservation", "current_reservation.id"),
                        time("…ends", "current_reservation.end_time"),
                        time("Maintenance since", "unavailable_since"),
                        text("Hours until auto-reset", "hours_until_auto_reset"),
                        time("Checked at", "current_time"),
                    ],
                )
            });
        }
        Command::Enable { id, force: _ } => set_enabled(id, true, ctx).await?,
        Command::Disable { id, yes } => {
            prompt::confirm(
                &format!("Disable resource {id}? It cannot be booked until enabled."),
                yes.yes,
            )?;
            set_enabled(id, false, ctx).await?;
        }
        Command::Maintenance { id, hours, yes } => {
            prompt::confirm(
                &format!("Put resource {id} under maintenance for {hours} hours?"),
                yes.yes,
            )?;
            let answer: Value = ctx
                .api
                .put(format!("{}/status/unavailable", path(id)))
                .query("auto_reset_hours", hours)
                .send()
                .await?;
            ctx.out
                .emit(&answer, |out| out.ok(message_of(&answer, "Resource under maintenance")));
        }
        Command::Reset { id } => {
            let answer: Value = ctx.api.put(format!("{}/status/available", path(id))).send().await?;
            ctx.out
                .emit(&answer, |out| out.ok(message_of(&answer, "Resource available again")));
        }
        Command::Upload { file, preview } => upload(&file, preview, ctx).await?,
    }
    Ok(())
}

fn columns(details: bool) -> &'static [Column] {
    if details { DETAILED_COLUMNS } else { COLUMNS }
}

fn insert_some(body: &mut Value, key: &str, value: Option<impl Into<Value>>) {
    if let (Some(value), Some(map)) = (value, body.as_object_mut()) {
        map.insert(key.to_owned(), value.into());
    }
}

async fn set_enabled(id: i64, available: bool, ctx: &Ctx) -> Result<()> {
    let answer: Value = ctx
        .api
        .put(format!("{}/availability", path(id)))
        .json(&json!({ "available": available }))
        .send()
        .await?;
    ctx.out.emit(&answer, |out| {
        let name = answer["resource"]["name"].as_str().unwrap_or("The resource");
        out.ok(format!(
            "{name} is now {}",
            if available { "enabled" } else { "disabled" }
        ));
    });
    Ok(())
}

/// The schedule, read from the API's `{success, data}` envelope, not the top level.
/// `search --interactive`: asks which of the resources found to book, and when (the search
/// window if one was given), then books it.
async fn book_one_of(found: &Value, window: Option<(String, String)>, ctx: &Ctx) -> Result<()> {
    let ids: Vec<i64> = super::items(found, "data")
        .iter()
        .filter_map(|r| r["id"].as_i64())
        .collect();
    if ids.is_empty() || !ctx.out.is_human() {
        return Ok(());
    }
    let answer = prompt::ask("Book one? Resource id (empty to stop)", "resource id")
        .or_else(|_| Ok::<_, anyhow::Error>(String::new()))?;
    let Ok(id) = answer.trim().parse::<i64>() else {
        return Ok(());
    };
    if !ids.contains(&id) {
        return Err(CliError::usage(format!("resource {id} is not among those found")));
    }
    let (start, end) = match window {
        Some(window) => window,
        None => {
            let start = super::time_arg(&prompt::ask("Start (YYYY-MM-DD HH:MM)", "start")?).map_err(CliError::usage)?;
            let end = super::end_arg(&prompt::ask("End or duration (e.g. 1h)", "end")?).map_err(CliError::usage)?;
            let slot = crate::time::Slot::resolve(start, end, ctx.out.zone()).map_err(CliError::usage)?;
            (wire(slot.start), wire(slot.end))
        }
    };
    let body = json!({ "resource_id": id, "start_time": start, "end_time": end });
    let reservation: Value = ctx.api.post("/api/v1/reservations").json(&body).send().await?;
    ctx.out.ok(format!("Reservation {} created", reservation["id"]));
    Ok(())
}

async fn availability(id: i64, days: u16, detailed: bool, ctx: &Ctx) -> Result<()> {
    let answer: Value = ctx
        .api
        .get(format!("{}/availability", path(id)))
        .if_signed_in()
        .query("days_ahead", days)
        .send()
        .await?;
    let data = match answer.get("data") {
        Some(data) if data.is_object() => data,
        _ => anyhow::bail!("unexpected availability answer from the API: no `data` object"),
    };
    ctx.out.emit(&answer, |out| {
        let name = data["resource_name"].as_str().unwrap_or("Resource");
        let now = if data["is_currently_available"] == json!(true) {
            "available now"
        } else {
            "not available now"
        };
        out.info(format!(
            "{name} (id {id}): {now}; its time zone is {}",
            crate::output::plain(&data["timezone"])
        ));
        let reservations = data["reservations"].as_array().map_or(&[][..], Vec::as_slice);
        out.rows(
            reservations,
            &[
                text("ID", "id"),
                time("Start", "start_time"),
                time("End", "end_time"),
                text("Status", "status"),
                text("Booked by", "user_name"),
            ],
            &format!("No reservations in the next {days} days."),
        );
        if detailed {
            out.info("Free periods:");
            let free = data["free_periods"].as_array().map_or(&[][..], Vec::as_slice);
            out.rows(
                free,
                &[time("From", "start_time"), time("Until", "end_time")],
                "  (none)",
            );
        }
    });
    Ok(())
}

async fn upload(file: &std::path::Path, preview: bool, ctx: &Ctx) -> Result<()> {
    let FileUpload {
        name,
        content,
        progress,
    } = FileUpload::read(file, "upload.csv", ctx)?;
    let result: Result<Value> = ctx
        .api
        .post("/api/v1/resources/upload")
        .flag("preview", preview)
        .upload("file", &name, &content, progress.clone())
        .send()
        .await;
    progress.finish_and_clear();
    let answer = match result {
        Ok(answer) => answer,
        Err(error) => return Err(row_errors(error)),
    };
    ctx.out.emit(&answer, |out| {
        if preview {
            let rows = answer["would_create"].as_array().map_or(&[][..], Vec::as_slice);
            out.rows(
                rows,
                &[
                    text("Line", "line"),
                    text("Name", "name"),
                    flag("Enabled", "available"),
                    list("Tags", "tags"),
                    text("Time zone", "timezone"),
                    text("Description", "description"),
                ],
                "No rows to import.",
            );
        }
        let errors = answer["errors"].as_array().map_or(&[][..], Vec::as_slice);
        for error in errors {
            out.warn(crate::output::plain(error));
        }
        match (preview, errors.is_empty()) {
            (true, true) => out.ok(format!("Preview: {} resources would be created", rows_count(&answer))),
            (true, false) => out.warn(format!(
                "{} rows have problems: nothing would be imported",
                errors.len()
            )),
            (false, _) => out.ok(format!("{} resources created", answer["created_count"])),
        }
    });
    if preview && answer["errors"].as_array().is_some_and(|e| !e.is_empty()) {
        anyhow::bail!("the file has errors (see above)");
    }
    Ok(())
}

fn rows_count(answer: &Value) -> usize {
    answer["would_create"].as_array().map_or(0, Vec::len)
}

/// A 422 listing bad rows becomes one line per row (`Row 3: …`).
fn row_errors(error: anyhow::Error) -> anyhow::Error {
    let Some((422, _, body)) = CliError::api(&error) else {
        return error;
    };
    let Some(items) = body.get("detail").and_then(Value::as_array) else {
        return error;
    };
    let lines: Vec<String> = items
        .iter()
        .map(|item| {
            item.get("msg")
                .and_then(Value::as_str)
                .map_or_else(|| validation_item(item), str::to_owned)
        })
        .collect();
    anyhow::anyhow!("nothing was imported:\n  {}", lines.join("\n  "))
}
