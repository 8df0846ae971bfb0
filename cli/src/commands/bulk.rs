//! `bulk create|validate|import|cancel|export`: many reservations at once, all or nothing.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

use super::{Ctx, FileUpload, TIME_HELP, TimeRange};
use crate::output::{Column, Output, text, time};
use crate::time::wire;

const BULK: &str = "/api/v1/bulk/reservations";

/// What a batch booked (or would book).
const CREATED: &[Column] = &[
    text("#", "index"),
    text("ID", "reservation_id"),
    text("Resource", "resource_name"),
    time("Start", "start_time"),
    time("End", "end_time"),
    text("Status", "status"),
];

/// Why items were refused: the CSV row (imports), the item's index, what was asked, why.
const ERRORS: &[Column] = &[
    text("Row", "row"),
    text("#", "index"),
    text("Resource", "data.resource_id"),
    time("Start", "data.start_time"),
    time("End", "data.end_time"),
    text("Error", "error"),
];

#[derive(Subcommand)]
pub enum Command {
    /// Book the same slot on several resources, all or nothing
    #[command(after_help = TIME_HELP)]
    Create {
        /// Resource ids (repeat the option, or separate with commas)
        #[arg(long = "resource", short = 'r', required = true, value_delimiter = ',')]
        resources: Vec<i64>,
        #[command(flatten)]
        range: TimeRange,
        /// Check everything, book nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Check whether the same slot could be booked on several resources
    #[command(after_help = TIME_HELP)]
    Validate {
        /// Resource ids (repeat the option, or separate with commas)
        #[arg(long = "resource", short = 'r', required = true, value_delimiter = ',')]
        resources: Vec<i64>,
        #[command(flatten)]
        range: TimeRange,
    },
    /// Book every row of a CSV file, all or nothing
    #[command(after_help = "Columns: resource_id or resource_name, start_time, end_time \
                            (\"2030-05-01 10:00\" is UTC; RFC 3339 with an offset also works).\n\
                            Example: resource-reserver-cli bulk import term.csv --dry-run")]
    Import {
        /// The CSV file
        file: std::path::PathBuf,
        /// Check every row, book nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Cancel several reservations (each on its own)
    Cancel {
        /// Reservation ids
        #[arg(required = true)]
        ids: Vec<i64>,
        /// Why (shown to others concerned)
        #[arg(long)]
        reason: Option<String>,
    },
    /// Your reservations as CSV (everyone's with the permission to read them)
    Export {
        /// Only this user's (needs the permission to read others')
        #[arg(long)]
        user: Option<i64>,
        /// Only this resource's
        #[arg(long)]
        resource: Option<i64>,
        /// Only this status (active, cancelled, …)
        #[arg(long)]
        status: Option<String>,
        /// Write the CSV to this file instead of standard output
        #[arg(long, short = 'f')]
        file: Option<std::path::PathBuf>,
    },
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Create {
            resources,
            range,
            dry_run,
        } => {
            let body = json!({ "reservations": items(&resources, &range, ctx)?, "dry_run": dry_run });
            let answer: Value = super::with_spinner(ctx, "Booking", ctx.api.post(BULK).json(&body).send()).await?;
            report(&ctx.out, &answer)
        }
        Command::Validate { resources, range } => {
            let body = json!({ "reservations": items(&resources, &range, ctx)? });
            let request = ctx.api.post(format!("{BULK}/validate")).json(&body);
            let answer: Value = super::with_spinner(ctx, "Checking", request.send()).await?;
            ctx.out.emit(&answer, |out| {
                out.rows(errors_of(&answer), ERRORS, "");
                if answer["valid"] == true {
                    out.ok(format!("All {} can be booked", answer["would_create"]));
                } else {
                    out.warn(format!(
                        "{} of {} cannot be booked",
                        errors_of(&answer).len(),
                        answer["total"]
                    ));
                }
            });
            failed_if(answer["valid"] != true)
        }
        Command::Import { file, dry_run } => import(&file, dry_run, ctx).await,
        Command::Cancel { ids, reason } => {
            let body = json!({ "reservation_ids": ids, "reason": reason });
            let request = ctx.api.post(format!("{BULK}/cancel")).json(&body);
            let answer: Value = super::with_spinner(ctx, "Cancelling", request.send()).await?;
            ctx.out.emit(&answer, |out| {
                let errors = answer["errors"].as_array().map_or(&[][..], Vec::as_slice);
                out.rows(errors, &[text("ID", "reservation_id"), text("Error", "error")], "");
                out.ok(format!("{} of {} cancelled", answer["success"], answer["total"]));
            });
            failed_if(answer["failed"].as_u64().unwrap_or(0) > 0)
        }
        Command::Export {
            user,
            resource,
            status,
            file,
        } => {
            let request = ctx
                .api
                .get(format!("{BULK}/export"))
                .query_opt("user_id", user)
                .query_opt("resource_id", resource)
                .query_opt("status", status);
            super::save_download(ctx, request, file.as_deref(), "reservations CSV").await
        }
    }
}

/// The same slot on each resource.
fn items(resources: &[i64], range: &TimeRange, ctx: &Ctx) -> Result<Vec<Value>> {
    let slot = range.resolve(ctx)?;
    Ok(resources
        .iter()
        .map(|id| json!({ "resource_id": id, "start_time": wire(slot.start), "end_time": wire(slot.end) }))
        .collect())
}

/// Uploads the file with a progress bar, then shows what was booked and a table of the rows
/// that were refused.
async fn import(file: &std::path::Path, dry_run: bool, ctx: &Ctx) -> Result<()> {
    let FileUpload {
        name,
        content,
        progress,
    } = FileUpload::read(file, "import.csv", ctx)?;
    let answer: Result<Value> = ctx
        .api
        .post(format!("{BULK}/import"))
        .flag("dry_run", dry_run)
        .upload("file", &name, &content, progress.clone())
        .send()
        .await;
    progress.finish_and_clear();
    report(&ctx.out, &answer?)
}

fn errors_of(answer: &Value) -> &[Value] {
    answer["errors"].as_array().map_or(&[][..], Vec::as_slice)
}

/// What a batch (or an import) did: the bookings, the refused items, a summary. Fails (exit 1)
/// when anything was refused.
fn report(out: &Output, answer: &Value) -> Result<()> {
    let errors = errors_of(answer);
    out.emit(answer, |out| {
        let created = answer["created"].as_array().map_or(&[][..], Vec::as_slice);
        if !created.is_empty() {
            out.rows(created, CREATED, "");
        }
        if !errors.is_empty() {
            out.rows(errors, ERRORS, "");
        }
        match (answer["dry_run"] == true, errors.is_empty()) {
            (true, true) => out.ok(format!("Dry run: all {} would be booked", answer["success"])),
            (false, true) => out.ok(format!("{} reservations booked", answer["success"])),
            (_, false) => out.warn(format!(
                "{} of {} refused: nothing was booked",
                answer["failed"], answer["total"]
            )),
        }
    });
    failed_if(!errors.is_empty())
}

fn failed_if(failed: bool) -> Result<()> {
    if failed {
        anyhow::bail!("some items were refused (see above)");
    }
    Ok(())
}
