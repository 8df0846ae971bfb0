//! `search resources|reservations|suggest|tags|saved|save|run|forget`: the search endpoints and
//! saved searches.

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value, json};

use super::{Ctx, TIME_HELP, Yes, show_done, show_list, time_arg};
use crate::client::Request;
use crate::output::{Column, flag, list, text, time};
use crate::prompt;
use crate::time::{TimeInput, wire};

const RESOURCES: &[Column] = &[
    text("ID", "id"),
    text("Name", "name"),
    flag("Available", "available"),
    text("Status", "status"),
    list("Tags", "tags"),
];

const RESERVATIONS: &[Column] = &[
    text("ID", "id"),
    text("Resource", "resource_id"),
    text("User", "user_id"),
    time("Start", "start_time"),
    time("End", "end_time"),
    text("Status", "status"),
];

#[derive(Debug, Args)]
pub struct Window {
    /// At most this many results (1-100)
    #[arg(long, short = 'l')]
    limit: Option<u32>,
    /// Skip this many
    #[arg(long)]
    offset: Option<u32>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SearchType {
    Resources,
    Reservations,
}

impl SearchType {
    fn as_str(self) -> &'static str {
        match self {
            SearchType::Resources => "resources",
            SearchType::Reservations => "reservations",
        }
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Resources by text, tags, labels, state, group and free time window
    #[command(after_help = TIME_HELP)]
    Resources {
        /// Text in the name or a tag
        #[arg(long, short = 'q')]
        query: Option<String>,
        /// Required tags, comma-separated
        #[arg(long, short = 't')]
        tags: Option<String>,
        /// Required label, category:value (repeat for several)
        #[arg(long)]
        label: Vec<String>,
        /// available, in_use or unavailable
        #[arg(long, short = 's')]
        status: Option<String>,
        /// Free from this time… (with --until)
        #[arg(long, value_parser = time_arg, requires = "until")]
        from: Option<TimeInput>,
        /// …until this time
        #[arg(long, value_parser = time_arg, requires = "from")]
        until: Option<TimeInput>,
        /// Only resources in this group (or its subgroups)
        #[arg(long, short = 'g')]
        group: Option<i64>,
        /// Only resources in this building
        #[arg(long)]
        building: Option<String>,
        #[command(flatten)]
        window: Window,
    },
    /// Reservations by resource, user, status and dates (yours, or anyone's with the permission)
    Reservations {
        /// Resource id
        #[arg(long, short = 'r')]
        resource: Option<i64>,
        /// User id
        #[arg(long, short = 'u')]
        user: Option<i64>,
        /// Status, or several comma-separated
        #[arg(long, short = 's')]
        status: Option<String>,
        /// Starting from (YYYY-MM-DD or RFC 3339)
        #[arg(long)]
        from: Option<String>,
        /// Starting until
        #[arg(long)]
        until: Option<String>,
        /// Include cancelled ones
        #[arg(long, short = 'c')]
        include_cancelled: bool,
        #[command(flatten)]
        window: Window,
    },
    /// Resource names and tags containing some text
    Suggest {
        /// The text
        query: String,
    },
    /// The most used tags
    Tags {
        /// How many
        #[arg(long, short = 'l', default_value_t = 20)]
        limit: u32,
    },
    /// Your saved searches
    Saved {
        /// Only this kind
        #[arg(long, value_enum)]
        kind: Option<SearchType>,
    },
    /// Save a search under a name (filters as key=value, e.g. query=desk tags=quiet)
    Save {
        /// Name (saving again under it replaces it)
        name: String,
        /// What it searches
        #[arg(long, value_enum)]
        kind: SearchType,
        /// Filters, key=value
        filters: Vec<String>,
    },
    /// Run a saved search
    Run {
        /// Saved search id
        id: i64,
        #[command(flatten)]
        window: Window,
    },
    /// Delete a saved search
    Forget {
        /// Saved search id
        id: i64,
        #[command(flatten)]
        yes: Yes,
    },
}

const BASE: &str = "/api/v1/search";

impl Window {
    fn apply<'a>(&self, request: Request<'a>) -> Request<'a> {
        request.query_opt("limit", self.limit).query_opt("offset", self.offset)
    }
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Resources {
            query,
            tags,
            label,
            status,
            from,
            until,
            group,
            building,
            window,
        } => {
            let zone = ctx.out.zone();
            let instant = |t: Option<TimeInput>| -> Result<Option<String>> {
                t.map(|t| zone.instant(t).map(wire).map_err(crate::error::CliError::usage))
                    .transpose()
            };
            let mut request = ctx
                .api
                .get(format!("{BASE}/resources"))
                .if_signed_in()
                .query_opt("query", query.as_deref())
                .query_opt("tags", tags.as_deref())
                .query_opt("status", status.as_deref())
                .query_opt("available_from", instant(from)?)
                .query_opt("available_until", instant(until)?)
                .query_opt("group_id", group)
                .query_opt("building", building.as_deref());
            for label in &label {
                request = request.query("label", label);
            }
            let found: Value = window.apply(request).send().await?;
            show_results(ctx, &found, RESOURCES, "resources");
        }
        Command::Reservations {
            resource,
            user,
            status,
            from,
            until,
            include_cancelled,
            window,
        } => {
            let request = ctx
                .api
                .get(format!("{BASE}/reservations"))
                .query_opt("resource_id", resource)
                .query_opt("user_id", user)
                .query_opt("status", status.as_deref())
                .query_opt("start_from", from.as_deref())
                .query_opt("start_until", until.as_deref())
                .flag("include_cancelled", include_cancelled);
            let found: Value = window.apply(request).send().await?;
            show_results(ctx, &found, RESERVATIONS, "reservations");
        }
        Command::Suggest { query } => {
            let answer: Value = ctx
                .api
                .get(format!("{BASE}/suggestions"))
                .query("query", &query)
                .send()
                .await?;
            let mut rows = Vec::new();
            for (kind, key) in [("resource", "resources"), ("tag", "tags")] {
                for name in super::items(&answer, key) {
                    rows.push(json!({ "kind": kind, "name": name }));
                }
            }
            ctx.out.emit(&answer, |out| {
                out.rows(&rows, &[text("Kind", "kind"), text("Name", "name")], "No suggestions.")
            });
        }
        Command::Tags { limit } => {
            let tags: Value = ctx
                .api
                .get(format!("{BASE}/tags/popular"))
                .query("limit", limit)
                .send()
                .await?;
            ctx.out.emit(&tags, |out| out.auto(&tags));
        }
        Command::Saved { kind } => {
            let saved: Value = ctx
                .api
                .get(format!("{BASE}/saved"))
                .query_opt("search_type", kind.map(SearchType::as_str))
                .send()
                .await?;
            show_list(
                ctx,
                &saved,
                "saved_searches",
                &[
                    text("ID", "id"),
                    text("Name", "name"),
                    text("Type", "search_type"),
                    text("Filters", "filters"),
                    time("Saved", "updated_at"),
                ],
                "No saved searches.",
            );
        }
        Command::Save { name, kind, filters } => {
            let mut object = Map::new();
            for filter in &filters {
                let (key, value) = filter
                    .split_once('=')
                    .ok_or_else(|| crate::error::CliError::usage(format!("{filter:?}: expected key=value")))?;
                object.insert(key.to_owned(), json!(value));
            }
            let body = json!({ "name": name, "search_type": kind.as_str(), "filters": object });
            let answer: Value = ctx.api.post(format!("{BASE}/saved")).json(&body).send().await?;
            ctx.out.emit(&answer, |out| {
                out.ok(format!(
                    "Saved search {} ({})",
                    answer["id"],
                    crate::output::plain(&answer["name"])
                ))
            });
        }
        Command::Run { id, window } => {
            let request = ctx.api.post(format!("{BASE}/saved/{id}/execute"));
            let found: Value = window.apply(request).send().await?;
            let columns = if found["search_type"] == "reservations" {
                RESERVATIONS
            } else {
                RESOURCES
            };
            show_results(ctx, &found, columns, "results");
        }
        Command::Forget { id, yes } => {
            prompt::confirm(&format!("Delete saved search {id}?"), yes.yes)?;
            let answer: Value = ctx.api.delete(format!("{BASE}/saved/{id}")).send().await?;
            show_done(ctx, &answer, "Saved search deleted");
        }
    }
    Ok(())
}

/// `{results, total, has_more}` as a table and a count.
fn show_results(ctx: &Ctx, found: &Value, columns: &[Column], noun: &str) {
    let rows = super::items(found, "results");
    ctx.out.emit(found, |out| {
        out.rows(rows, columns, &format!("No {noun} found."));
        if let Some(total) = found["total"].as_u64() {
            out.info(format!("{} of {total} {noun}.", rows.len()));
        }
        if found["has_more"] == true {
            out.hint("More: add --offset (and --limit).");
        }
    });
}
