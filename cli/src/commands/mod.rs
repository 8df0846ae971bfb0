//! The command groups, one module each, and what they share: the context every command gets,
//! pagination, time-range arguments and confirmations.

pub mod analytics;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod calendar;
pub mod docs;
pub mod groups;
pub mod holds;
pub mod hours;
pub mod labels;
pub mod mfa;
pub mod notifications;
pub mod oauth;
pub mod profile;
pub mod reservations;
pub mod resources;
pub mod roles;
pub mod search;
pub mod setup;
pub mod system;
pub mod users;
pub mod waitlist;
pub mod watch;
pub mod webhooks;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::client::{Client, Request};
use crate::error::CliError;
use crate::output::{Column, Output, count_of};
use crate::time::{self, EndInput, Slot, TimeInput};

/// What every command works with.
pub struct Ctx {
    pub api: Client,
    pub out: Output,
    /// `CLI_CONFIG_DIR` (profiles live here).
    pub config_dir: std::path::PathBuf,
    /// The profile in use.
    pub profile: String,
}

/// Shown under the help of every command that takes times.
pub const TIME_HELP: &str = "\
Times: `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS`, `MM/DD/YYYY HH:MM` or `MM/DD/YY HH:MM` are
wall-clock times in your local time zone (the TZ variable, else the system's; --utc for UTC).
They are converted to an explicit UTC offset before they are sent. RFC 3339 times with an offset
(2030-05-01T10:00:00+02:00, …Z) are sent as they are. Durations: 2h, 30m, 1h30m, 1d.";

#[derive(Subcommand)]
pub enum Command {
    /// Register, log in and out, and manage the saved session
    #[command(subcommand)]
    Auth(auth::Command),
    /// Browse, search and administer resources
    #[command(subcommand)]
    Resources(resources::Command),
    /// Book, list, move and cancel reservations
    #[command(subcommand, visible_alias = "res")]
    Reservations(reservations::Command),
    /// Many reservations at once: book (all or nothing), import CSV, cancel, export
    #[command(subcommand)]
    Bulk(bulk::Command),
    /// Wait for a taken slot and accept offers
    #[command(subcommand)]
    Waitlist(waitlist::Command),
    /// Hold a slot for a few minutes before confirming it
    #[command(subcommand)]
    Holds(holds::Command),
    /// Check in to a reservation that is starting
    #[command(visible_alias = "check-in", after_help = "Example: resource-reserver-cli checkin 42")]
    Checkin(holds::CheckinArgs),
    /// Approve or reject reservations waiting for approval
    #[command(subcommand)]
    Approvals(approvals::Command),
    /// Server health, usage summary and maintenance tasks
    #[command(subcommand)]
    System(system::Command),
    /// First-run setup: appoint the first administrator
    #[command(subcommand)]
    Setup(setup::Command),
    /// Two-factor authentication for your account
    #[command(subcommand)]
    Mfa(mfa::Command),
    /// Roles and who holds them (admin)
    #[command(subcommand)]
    Roles(roles::Command),
    /// User accounts (admin)
    #[command(subcommand)]
    Users(users::Command),
    /// OAuth2 clients of your applications
    #[command(subcommand)]
    Oauth(oauth::Command),
    /// Your in-app notifications
    #[command(subcommand)]
    Notifications(notifications::Command),
    /// Calendar feed URL, the feed itself, and one reservation as .ics
    #[command(subcommand)]
    Calendar(calendar::Command),
    /// Webhooks: create, list, delete, deliveries and retries
    #[command(subcommand)]
    Webhooks(webhooks::Command),
    /// Opening hours and free slots of resources
    #[command(subcommand)]
    Hours(hours::Command),
    /// Blackout dates: days a resource (or every resource) cannot be booked
    #[command(subcommand)]
    Blackouts(hours::BlackoutCommand),
    /// Resource groups: buildings, floors, rooms
    #[command(subcommand)]
    Groups(groups::Command),
    /// Labels (category:value) and the resources that carry them
    #[command(subcommand)]
    Labels(labels::Command),
    /// Search resources and reservations, suggestions and saved searches
    #[command(subcommand)]
    Search(search::Command),
    /// Usage analytics and their CSV exports (admin, manager)
    #[command(subcommand)]
    Analytics(analytics::Command),
    /// The audit log: entries, statistics and exports (admin)
    #[command(subcommand)]
    Audit(audit::Command),
    /// A live board of reservations and resource states over the WebSocket
    Watch(watch::Args),
    /// Servers you use, each with its own session
    #[command(subcommand)]
    Profile(profile::Command),
    /// Book a resource: RESOURCE_ID START DURATION (short for `reservations create`)
    #[command(after_help = TIME_HELP)]
    Reserve(reservations::ReserveArgs),
    /// Your next reservations
    Upcoming,
    /// Every command, in one table
    Commands,
    /// Print a shell completion script
    Completions(docs::CompletionsArgs),
    /// Print the man page, or write one per command into a directory
    Man(docs::ManArgs),
    /// Server and database health (same as `system status`)
    Status,
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Auth(command) => auth::run(command, ctx).await,
        Command::Resources(command) => resources::run(command, ctx).await,
        Command::Reservations(command) => reservations::run(command, ctx).await,
        Command::Bulk(command) => bulk::run(command, ctx).await,
        Command::Waitlist(command) => waitlist::run(command, ctx).await,
        Command::Holds(command) => holds::run(command, ctx).await,
        Command::Checkin(args) => holds::checkin(args, ctx).await,
        Command::Approvals(command) => approvals::run(command, ctx).await,
        Command::System(command) => system::run(command, ctx).await,
        Command::Setup(command) => setup::run(command, ctx).await,
        Command::Mfa(command) => mfa::run(command, ctx).await,
        Command::Roles(command) => roles::run(command, ctx).await,
        Command::Users(command) => users::run(command, ctx).await,
        Command::Oauth(command) => oauth::run(command, ctx).await,
        Command::Notifications(command) => notifications::run(command, ctx).await,
        Command::Calendar(command) => calendar::run(command, ctx).await,
        Command::Webhooks(command) => webhooks::run(command, ctx).await,
        Command::Hours(command) => hours::run(command, ctx).await,
        Command::Blackouts(command) => hours::run_blackouts(command, ctx).await,
        Command::Groups(command) => groups::run(command, ctx).await,
        Command::Labels(command) => labels::run(command, ctx).await,
        Command::Search(command) => search::run(command, ctx).await,
        Command::Analytics(command) => analytics::run(command, ctx).await,
        Command::Audit(command) => audit::run(command, ctx).await,
        Command::Watch(args) => watch::run(args, ctx).await,
        Command::Profile(command) => profile::run(command, ctx).await,
        Command::Reserve(args) => reservations::reserve(args, ctx).await,
        Command::Upcoming => reservations::upcoming(ctx).await,
        Command::Commands => {
            list_commands(&crate::command(), ctx);
            Ok(())
        }
        // Handled before a server is chosen (see `main`).
        Command::Completions(_) | Command::Man(_) => Ok(()),
        Command::Status => system::status(ctx).await,
    }
}

/// `commands`: every command and what it does, as the original printed them.
fn list_commands(root: &clap::Command, ctx: &Ctx) {
    let mut rows = Vec::new();
    for group in root.get_subcommands().filter(|c| c.get_name() != "help") {
        let about = |c: &clap::Command| c.get_about().map(ToString::to_string).unwrap_or_default();
        let leaves: Vec<&clap::Command> = group.get_subcommands().filter(|c| c.get_name() != "help").collect();
        if leaves.is_empty() {
            rows.push(json!({ "command": group.get_name(), "description": about(group) }));
        }
        for leaf in leaves {
            rows.push(json!({
                "command": format!("{} {}", group.get_name(), leaf.get_name()),
                "description": about(leaf),
            }));
        }
    }
    let value = Value::Array(rows);
    ctx.out.emit(&value, |out| {
        out.rows(
            items(&value, ""),
            &[
                crate::output::text("Command", "command"),
                crate::output::text("Description", "description"),
            ],
            "",
        )
    });
}

/// The items of a list answer: the answer itself when it is a list, else its list at `key`.
pub fn items<'v>(answer: &'v Value, key: &str) -> &'v [Value] {
    answer
        .as_array()
        .or_else(|| answer.get(key).and_then(Value::as_array))
        .map_or(&[][..], Vec::as_slice)
}

/// Shows a list answer (a list, or an object with the list at `key`) as a table.
pub fn show_list(ctx: &Ctx, answer: &Value, key: &str, columns: &[Column], empty: &str) {
    ctx.out.emit(answer, |out| out.rows(items(answer, key), columns, empty));
}

/// Shows an object answer: its `fields`, or every scalar field when `fields` is empty.
pub fn show_record(ctx: &Ctx, answer: &Value, fields: &[Column]) {
    ctx.out.emit(answer, |out| {
        if fields.is_empty() {
            out.auto(answer)
        } else {
            out.record(answer, fields)
        }
    });
}

/// Shows a report (analytics, statistics): its scalar fields, then each list of objects in it
/// as a table under its name. As CSV: the first such list (the report's main table).
pub fn show_report(ctx: &Ctx, answer: &Value) {
    let tables: Vec<(&String, &Vec<Value>)> = answer
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(key, value)| value.as_array().map(|items| (key, items)))
                .filter(|(_, items)| items.iter().all(Value::is_object))
                .collect()
        })
        .unwrap_or_default();
    ctx.out.emit(answer, |out| {
        if answer.is_array() {
            return out.auto(answer);
        }
        if !out.is_human() {
            match tables.first() {
                Some((_, items)) => out.auto_rows(items, ""),
                None => out.auto(answer),
            }
            return;
        }
        out.auto(answer);
        for (name, items) in &tables {
            out.info(format!("{}:", name.replace('_', " ")));
            out.auto_rows(items, "  (none)");
        }
    });
}

/// Shows the `message` of an answer as an `[OK]` line (the answer itself with --output json).
pub fn show_done(ctx: &Ctx, answer: &Value, fallback: &str) {
    ctx.out.emit(answer, |out| out.ok(message_of(answer, fallback)));
}

/// A byte-counting progress bar for long transfers, hidden unless the output is for people
/// (so that scripts' stdout and stderr hold nothing but the answer).
pub fn progress_bar(ctx: &Ctx, message: String) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressStyle};
    if !ctx.out.is_human() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message);
    bar
}

/// Awaits `work` (one long request: a batch booked or cancelled on the server) with a spinner,
/// shown only for people, on stderr.
pub async fn with_spinner<T>(ctx: &Ctx, message: &str, work: impl std::future::Future<Output = T>) -> T {
    let spinner = if ctx.out.is_human() {
        let spinner = indicatif::ProgressBar::new_spinner();
        spinner.set_message(format!("{message}…"));
        spinner.enable_steady_tick(std::time::Duration::from_millis(100));
        spinner
    } else {
        indicatif::ProgressBar::hidden()
    };
    let result = work.await;
    spinner.finish_and_clear();
    result
}

/// Downloads a file (an export, an `.ics`) with a progress bar, into `file` or onto stdout.
pub async fn save_download(ctx: &Ctx, request: Request<'_>, file: Option<&std::path::Path>, what: &str) -> Result<()> {
    use anyhow::Context as _;
    let progress = progress_bar(ctx, format!("Downloading {what}"));
    let content = request.download(&progress).await?;
    match file {
        Some(path) => {
            std::fs::write(path, &content).with_context(|| format!("writing {}", path.display()))?;
            ctx.out.ok(format!(
                "{what} written to {} ({} bytes)",
                path.display(),
                content.len()
            ));
        }
        None => {
            use std::io::Write as _;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&content).and_then(|()| stdout.flush())?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

/// Pagination options of every list.
#[derive(Debug, Args)]
pub struct PageArgs {
    /// Results per page (1-100)
    #[arg(long, short = 'l', value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: Option<u32>,
    /// Start after this cursor (printed under the previous page)
    #[arg(long, conflicts_with = "all")]
    pub cursor: Option<String>,
    /// Fetch every page (100 at a time unless --limit says otherwise)
    #[arg(long, short = 'a')]
    pub all: bool,
    /// Sort by this field (e.g. id, name, start_time, created_at)
    #[arg(long, short = 's')]
    pub sort: Option<String>,
    /// Sort order
    #[arg(long, short = 'o', value_enum)]
    pub order: Option<Order>,
}

/// Fetches one page, or with `--all` every page, of a cursor-paginated list. The answer is
/// always the API's envelope `{data, next_cursor, prev_cursor, has_more, total_count}`; with
/// `--all`, `data` holds every item and `has_more` is false.
pub async fn fetch_pages<'a>(request: impl Fn() -> Request<'a>, page: &PageArgs) -> Result<Value> {
    let with_page = |cursor: Option<&str>, limit: Option<u32>| {
        request()
            .query("include_total", true)
            .query_opt("limit", limit)
            .query_opt("cursor", cursor)
            .query_opt("sort_by", page.sort.as_deref())
            .query_opt("sort_order", page.order.map(Order::as_str))
    };
    if !page.all {
        return with_page(page.cursor.as_deref(), page.limit).send().await;
    }
    let limit = page.limit.unwrap_or(100);
    let mut first: Value = with_page(None, Some(limit)).send().await?;
    let mut items = take_items(&mut first);
    let mut next = next_cursor(&first);
    while let Some(cursor) = next {
        let mut more: Value = with_page(Some(&cursor), Some(limit)).send().await?;
        items.extend(take_items(&mut more));
        next = next_cursor(&more).filter(|n| *n != cursor);
    }
    Ok(json!({
        "data": items,
        "next_cursor": null,
        "prev_cursor": null,
        "has_more": false,
        "total_count": first.get("total_count").cloned().unwrap_or(Value::Null),
    }))
}

fn take_items(page: &mut Value) -> Vec<Value> {
    match page.get_mut("data").map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

fn next_cursor(page: &Value) -> Option<String> {
    if page.get("has_more").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    page.get("next_cursor").and_then(Value::as_str).map(str::to_owned)
}

/// Shows a page of a list (see [`fetch_pages`]), with a count and how to get the next page.
pub fn show_page(out: &Output, page: &Value, columns: &[Column], noun: &str) {
    out.emit(page, |out| {
        let rows = page
            .get("data")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        out.rows(rows, columns, &format!("No {noun} found."));
        if rows.is_empty() {
            return;
        }
        match page.get("total_count").and_then(Value::as_u64) {
            Some(total) if total as usize != rows.len() => {
                out.info(format!("Showing {} of {}.", rows.len(), count_of(total as usize, noun)))
            }
            _ => out.info(format!("{}.", count_of(rows.len(), noun))),
        }
        if let Some(cursor) = next_cursor(page) {
            out.hint(format!("More: add --cursor {cursor} (or --all)."));
        }
    });
}

/// A time argument (see [`TIME_HELP`]).
pub fn time_arg(raw: &str) -> Result<TimeInput, String> {
    time::parse_time(raw)
}

/// An END|DURATION argument.
pub fn end_arg(raw: &str) -> Result<EndInput, String> {
    time::parse_end(raw)
}

/// START and END|DURATION.
#[derive(Debug, Args)]
pub struct TimeRange {
    /// Start (e.g. "2030-05-01 10:00", local time; see below)
    #[arg(value_parser = time_arg)]
    pub start: TimeInput,
    /// End ("2030-05-01 11:30") or duration (2h, 30m, 1h30m)
    #[arg(value_parser = end_arg, value_name = "END|DURATION")]
    pub end: EndInput,
}

impl TimeRange {
    /// Both ends as instants, read in the user's zone.
    pub fn resolve(&self, ctx: &Ctx) -> Result<Slot> {
        Slot::resolve(self.start, self.end, ctx.out.zone()).map_err(CliError::usage)
    }
}

/// `--yes` on commands that ask before changing something.
#[derive(Debug, Args)]
pub struct Yes {
    /// Do not ask for confirmation (needed when there is no terminal)
    #[arg(long, short = 'y', visible_alias = "force", short_alias = 'f')]
    pub yes: bool,
}

/// The `message` of an API answer, or `fallback`.
pub fn message_of(value: &Value, fallback: &str) -> String {
    value
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or(fallback)
        .to_owned()
}

/// A file read for a multipart upload, with the progress bar its upload shows (hidden when the
/// output is JSON, so that stdout and stderr hold nothing but the answer).
pub struct FileUpload {
    pub name: String,
    pub content: Vec<u8>,
    pub progress: indicatif::ProgressBar,
}

impl FileUpload {
    /// Reads `file`; `fallback` names it when the path has no file name.
    pub fn read(file: &std::path::Path, fallback: &str, ctx: &Ctx) -> Result<FileUpload> {
        use anyhow::Context as _;

        let content = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let name = file
            .file_name()
            .map_or_else(|| fallback.into(), |n| n.to_string_lossy().into_owned());
        let progress = progress_bar(ctx, format!("Uploading {name}"));
        Ok(FileUpload {
            name,
            content,
            progress,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_followed_only_while_there_are_more() {
        assert_eq!(
            next_cursor(&json!({"has_more": true, "next_cursor": "abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(next_cursor(&json!({"has_more": false, "next_cursor": "abc"})), None);
        assert_eq!(next_cursor(&json!({"has_more": true, "next_cursor": null})), None);
        let mut page = json!({"data": [1, 2]});
        assert_eq!(take_items(&mut page), vec![json!(1), json!(2)]);
        assert_eq!(take_items(&mut json!({})), Vec::<Value>::new());
    }
}
