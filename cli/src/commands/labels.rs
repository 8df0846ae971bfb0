//! `labels list|categories|show|create|update|delete|merge|of|set`: labels (`category:value`)
//! and the resources that carry them.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Map, Value, json};

use super::{Ctx, PageArgs, Yes, fetch_pages, show_done, show_list, show_page, show_record};
use crate::output::{Column, text};
use crate::prompt;

const COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("Category", "category"),
    text("Value", "value"),
    text("Color", "color"),
    text("Resources", "resource_count"),
    text("Description", "description"),
];

#[derive(Subcommand)]
pub enum Command {
    /// Labels, by category
    List {
        /// Only this category
        #[arg(long, short = 'c')]
        category: Option<String>,
        /// Text in the category, value or description
        #[arg(long, short = 'q')]
        search: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Categories and how many labels each has
    Categories,
    /// One label
    Show {
        /// Label id
        id: i64,
    },
    /// Create a label (admin, manager)
    Create {
        /// Category (e.g. equipment)
        category: String,
        /// Value (e.g. projector)
        value: String,
        /// Colour, #RRGGBB
        #[arg(long)]
        color: Option<String>,
        /// Description
        #[arg(long, short = 'd')]
        description: Option<String>,
    },
    /// Change a label
    Update {
        /// Label id
        id: i64,
        /// New category
        #[arg(long)]
        category: Option<String>,
        /// New value
        #[arg(long)]
        value: Option<String>,
        /// New colour
        #[arg(long)]
        color: Option<String>,
        /// New description
        #[arg(long, short = 'd')]
        description: Option<String>,
    },
    /// Delete a label (its assignments go with it)
    Delete {
        /// Label id
        id: i64,
        #[command(flatten)]
        yes: Yes,
    },
    /// Merge labels into one: their resources get the target, the sources go
    Merge {
        /// The label that stays
        target: i64,
        /// The labels merged into it
        #[arg(required = true)]
        sources: Vec<i64>,
    },
    /// The labels of a resource
    Of {
        /// Resource id
        resource_id: i64,
    },
    /// Replace the labels of a resource
    Set {
        /// Resource id
        resource_id: i64,
        /// Label ids (none: remove them all)
        label_ids: Vec<i64>,
    },
}

const BASE: &str = "/api/v1/labels";

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::List { category, search, page } => {
            let request = || {
                ctx.api
                    .get(BASE)
                    .query_opt("category", category.as_deref())
                    .query_opt("search", search.as_deref())
            };
            let found = fetch_pages(request, &page).await?;
            show_page(&ctx.out, &found, COLUMNS, "labels");
        }
        Command::Categories => {
            let categories: Value = ctx.api.get(format!("{BASE}/categories")).send().await?;
            show_list(
                ctx,
                &categories,
                "categories",
                &[text("Category", "category"), text("Labels", "label_count")],
                "No labels.",
            );
        }
        Command::Show { id } => {
            let label: Value = ctx.api.get(format!("{BASE}/{id}")).send().await?;
            show_record(ctx, &label, COLUMNS);
        }
        Command::Create {
            category,
            value,
            color,
            description,
        } => {
            let body = object(&[
                ("category", Some(category)),
                ("value", Some(value)),
                ("color", color),
                ("description", description),
            ]);
            let label: Value = ctx.api.post(BASE).json(&body).send().await?;
            show_record(ctx, &label, COLUMNS);
        }
        Command::Update {
            id,
            category,
            value,
            color,
            description,
        } => {
            let body = object(&[
                ("category", category),
                ("value", value),
                ("color", color),
                ("description", description),
            ]);
            let label: Value = ctx.api.put(format!("{BASE}/{id}")).json(&body).send().await?;
            show_record(ctx, &label, COLUMNS);
        }
        Command::Delete { id, yes } => {
            prompt::confirm(&format!("Delete label {id}?"), yes.yes)?;
            let answer: Value = ctx.api.delete(format!("{BASE}/{id}")).send().await?;
            show_done(ctx, &answer, &format!("Label {id} deleted"));
        }
        Command::Merge { target, sources } => {
            let body = json!({ "source_label_ids": sources, "target_label_id": target });
            let label: Value = ctx.api.post(format!("{BASE}/merge")).json(&body).send().await?;
            show_record(ctx, &label, COLUMNS);
        }
        Command::Of { resource_id } => {
            let labels: Value = ctx.api.get(format!("{BASE}/resources/{resource_id}")).send().await?;
            show_list(ctx, &labels, "labels", COLUMNS, "No labels.");
        }
        Command::Set { resource_id, label_ids } => {
            let labels: Value = ctx
                .api
                .put(format!("{BASE}/resources/{resource_id}"))
                .json(&json!({ "label_ids": label_ids }))
                .send()
                .await?;
            show_list(ctx, &labels, "labels", COLUMNS, "No labels.");
        }
    }
    Ok(())
}

/// An object of the fields that are set.
fn object(fields: &[(&str, Option<String>)]) -> Value {
    Value::Object(
        fields
            .iter()
            .filter_map(|(key, value)| value.as_ref().map(|v| ((*key).to_owned(), json!(v))))
            .collect::<Map<String, Value>>(),
    )
}
