//! `groups list|tree|show|create|update|delete|resources|assign|unassign|buildings|ungrouped`:
//! resource groups (buildings, floors, rooms) and which resources are in them.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Map, Value, json};

use super::{Ctx, Yes, show_done, show_list, show_record};
use crate::output::{Column, flag, list, text};
use crate::prompt;

const COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("Name", "name"),
    text("Parent", "parent_id"),
    text("Building", "building"),
    text("Floor", "floor"),
    text("Room", "room"),
    text("Description", "description"),
];

const FIELDS: &[Column] = &[
    text("ID", "id"),
    text("Name", "name"),
    text("Parent", "parent_id"),
    text("Building", "building"),
    text("Floor", "floor"),
    text("Room", "room"),
    text("Description", "description"),
    text("Resources", "resource_count"),
];

const RESOURCES: &[Column] = &[
    text("ID", "id"),
    text("Name", "name"),
    flag("Available", "available"),
    text("Status", "status"),
    list("Tags", "tags"),
];

/// The fields of a group that `create` and `update` set.
#[derive(Debug, clap::Args)]
pub struct GroupFields {
    /// Parent group id
    #[arg(long, short = 'p')]
    parent: Option<i64>,
    /// Description
    #[arg(long, short = 'd')]
    description: Option<String>,
    /// Building
    #[arg(long)]
    building: Option<String>,
    /// Floor
    #[arg(long)]
    floor: Option<String>,
    /// Room
    #[arg(long)]
    room: Option<String>,
}

impl GroupFields {
    fn into_body(self, name: Option<String>) -> Value {
        let mut body = Map::new();
        let mut set = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                body.insert(key.into(), value);
            }
        };
        set("name", name.map(Value::from));
        set("parent_id", self.parent.map(Value::from));
        set("description", self.description.map(Value::from));
        set("building", self.building.map(Value::from));
        set("floor", self.floor.map(Value::from));
        set("room", self.room.map(Value::from));
        Value::Object(body)
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Top-level groups (or a group's children, or every group)
    List {
        /// The children of this group
        #[arg(long, short = 'p')]
        parent: Option<i64>,
        /// Only groups in this building
        #[arg(long)]
        building: Option<String>,
        /// Every group, at any depth
        #[arg(long, short = 'a')]
        all: bool,
    },
    /// The whole hierarchy, indented
    Tree,
    /// One group, with its subgroups
    Show {
        /// Group id
        id: i64,
    },
    /// Create a group
    Create {
        /// Name
        name: String,
        #[command(flatten)]
        fields: GroupFields,
    },
    /// Change a group
    Update {
        /// Group id
        id: i64,
        /// New name
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: GroupFields,
    },
    /// Delete a group (its resources become ungrouped)
    Delete {
        /// Group id
        id: i64,
        /// Also delete its subgroups
        #[arg(long)]
        cascade: bool,
        #[command(flatten)]
        yes: Yes,
    },
    /// The resources in a group
    Resources {
        /// Group id
        id: i64,
        /// Include those of its subgroups
        #[arg(long, short = 'r')]
        recursive: bool,
    },
    /// Put a resource in a group (out of any other)
    Assign {
        /// Group id
        group_id: i64,
        /// Resource id
        resource_id: i64,
    },
    /// Take a resource out of a group
    Unassign {
        /// Group id
        group_id: i64,
        /// Resource id
        resource_id: i64,
    },
    /// Every building named by a group
    Buildings,
    /// Resources in no group
    Ungrouped,
}

const BASE: &str = "/api/v1/resource-groups";

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::List { parent, building, all } => {
            let groups: Value = ctx
                .api
                .get(BASE)
                .query_opt("parent_id", parent)
                .query_opt("building", building.as_deref())
                .flag("include_children", all)
                .send()
                .await?;
            show_list(ctx, &groups, "groups", COLUMNS, "No groups.");
        }
        Command::Tree => {
            let tree: Value = ctx.api.get(format!("{BASE}/tree")).send().await?;
            let mut rows = Vec::new();
            flatten(super::items(&tree, "groups"), 0, &mut rows);
            ctx.out.emit(&tree, |out| {
                out.rows(
                    &rows,
                    &[
                        text("ID", "id"),
                        text("Group", "indented"),
                        text("Resources", "resource_count"),
                    ],
                    "No groups.",
                );
                out.info(format!(
                    "{} groups, {} grouped resources.",
                    crate::output::plain(&tree["total_groups"]),
                    crate::output::plain(&tree["total_resources"])
                ));
            });
        }
        Command::Show { id } => {
            let group: Value = ctx.api.get(format!("{BASE}/{id}")).send().await?;
            ctx.out.emit(&group, |out| {
                out.record(&group, FIELDS);
                let children = super::items(&group, "children");
                if !children.is_empty() {
                    out.info("Subgroups:");
                    out.rows(children, COLUMNS, "");
                }
            });
        }
        Command::Create { name, fields } => {
            let group: Value = ctx.api.post(BASE).json(&fields.into_body(Some(name))).send().await?;
            show_record(ctx, &group, FIELDS);
        }
        Command::Update { id, name, fields } => {
            let body = fields.into_body(name);
            if body.as_object().is_some_and(Map::is_empty) {
                return Err(crate::error::CliError::usage(
                    "nothing to change: give at least one option",
                ));
            }
            let group: Value = ctx.api.patch(format!("{BASE}/{id}")).json(&body).send().await?;
            show_record(ctx, &group, FIELDS);
        }
        Command::Delete { id, cascade, yes } => {
            prompt::confirm(&format!("Delete group {id}?"), yes.yes)?;
            let answer: Value = ctx
                .api
                .delete(format!("{BASE}/{id}"))
                .flag("cascade", cascade)
                .send()
                .await?;
            show_done(ctx, &answer, &format!("Group {id} deleted"));
        }
        Command::Resources { id, recursive } => {
            let resources: Value = ctx
                .api
                .get(format!("{BASE}/{id}/resources"))
                .flag("include_children", recursive)
                .send()
                .await?;
            show_list(ctx, &resources, "resources", RESOURCES, "No resources in this group.");
        }
        Command::Assign { group_id, resource_id } => {
            let answer: Value = ctx
                .api
                .post(format!("{BASE}/{group_id}/resources"))
                .json(&json!({ "resource_id": resource_id }))
                .send()
                .await?;
            show_done(ctx, &answer, "Resource assigned");
        }
        Command::Unassign { group_id, resource_id } => {
            let answer: Value = ctx
                .api
                .delete(format!("{BASE}/{group_id}/resources/{resource_id}"))
                .send()
                .await?;
            show_done(ctx, &answer, "Resource removed from group");
        }
        Command::Buildings => {
            let answer: Value = ctx.api.get(format!("{BASE}/buildings")).send().await?;
            let rows: Vec<Value> = super::items(&answer, "buildings")
                .iter()
                .map(|b| json!({ "building": b }))
                .collect();
            ctx.out.emit(&answer, |out| {
                out.rows(&rows, &[text("Building", "building")], "No buildings.")
            });
        }
        Command::Ungrouped => {
            let resources: Value = ctx.api.get(format!("{BASE}/ungrouped")).send().await?;
            show_list(ctx, &resources, "resources", RESOURCES, "Every resource is in a group.");
        }
    }
    Ok(())
}

/// The tree as rows, each name indented by its depth.
fn flatten(groups: &[Value], depth: usize, rows: &mut Vec<Value>) {
    for group in groups {
        let mut row = group.clone();
        row["indented"] = json!(format!(
            "{}{}",
            "  ".repeat(depth),
            crate::output::plain(&group["name"])
        ));
        rows.push(row);
        flatten(super::items(group, "children"), depth + 1, rows);
    }
}
