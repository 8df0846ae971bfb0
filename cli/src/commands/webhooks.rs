//! `webhooks events|create|list|show|update|delete|secret|test|deliveries|delivery|retry`.

use anyhow::Result;
use clap::{ArgGroup, Subcommand};
use serde_json::{Value, json};

use super::{Ctx, Yes, show_done, show_list, show_record};
use crate::output::{Column, flag, list, text, time};
use crate::prompt;

const COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("URL", "url"),
    list("Events", "events"),
    flag("Active", "is_active"),
    text("Description", "description"),
    time("Created", "created_at"),
];

const FIELDS: &[Column] = &[
    text("ID", "id"),
    text("URL", "url"),
    list("Events", "events"),
    flag("Active", "is_active"),
    text("Description", "description"),
    text("Secret", "secret"),
    text("Owner", "owner"),
    time("Created", "created_at"),
    time("Updated", "updated_at"),
];

const DELIVERIES: &[Column] = &[
    text("ID", "id"),
    text("Event", "event_type"),
    text("Status", "status"),
    text("HTTP", "status_code"),
    text("Retries", "retry_count"),
    time("Created", "created_at"),
    time("Delivered", "delivered_at"),
    text("Error", "error_message"),
];

#[derive(Subcommand)]
pub enum Command {
    /// The event types a webhook can subscribe to
    Events,
    /// Create a webhook; its signing secret is shown once
    Create {
        /// Where the events are POSTed (http or https)
        url: String,
        /// Event types, comma-separated (see `webhooks events`)
        #[arg(long, short = 'e', required = true, value_delimiter = ',')]
        events: Vec<String>,
        /// What it is for
        #[arg(long, short = 'd')]
        description: Option<String>,
    },
    /// Your webhooks (--all: everyone's, with the permission)
    List {
        /// Everyone's webhooks
        #[arg(long, short = 'a')]
        all: bool,
    },
    /// Show one webhook
    Show {
        /// Webhook id
        id: i64,
    },
    /// Change a webhook's URL, events, description, or pause/resume it
    #[command(group(ArgGroup::new("change").required(true).multiple(true)
        .args(["url", "events", "description", "enable", "disable"])))]
    Update {
        /// Webhook id
        id: i64,
        /// New URL
        #[arg(long)]
        url: Option<String>,
        /// New event types, comma-separated
        #[arg(long, short = 'e', value_delimiter = ',')]
        events: Option<Vec<String>>,
        /// New description ("" clears it)
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// Deliver again (its pending deliveries are sent)
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        /// Pause deliveries
        #[arg(long)]
        disable: bool,
    },
    /// Delete a webhook
    Delete {
        /// Webhook id
        id: i64,
        #[command(flatten)]
        yes: Yes,
    },
    /// A new signing secret (shown once); the old one stops signing at once
    Secret {
        /// Webhook id
        id: i64,
    },
    /// Send a test event now and show what the receiver answered
    Test {
        /// Webhook id
        id: i64,
    },
    /// The latest deliveries of a webhook
    Deliveries {
        /// Webhook id
        id: i64,
        /// How many (1-100)
        #[arg(long, short = 'l', default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100))]
        limit: u32,
    },
    /// One delivery, with its payload and the receiver's answer
    Delivery {
        /// Webhook id
        webhook_id: i64,
        /// Delivery id
        delivery_id: i64,
    },
    /// Send a delivery again now
    Retry {
        /// Webhook id
        webhook_id: i64,
        /// Delivery id
        delivery_id: i64,
    },
}

const BASE: &str = "/api/v1/webhooks";

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Events => {
            let events: Value = ctx.api.get(format!("{BASE}/events")).public().send().await?;
            ctx.out.emit(&events, |out| out.auto(&events));
        }
        Command::Create {
            url,
            events,
            description,
        } => {
            let body = json!({ "url": url, "events": events, "description": description });
            let webhook: Value = ctx.api.post(BASE).json(&body).send().await?;
            ctx.out.emit(&webhook, |out| {
                out.record(&webhook, FIELDS);
                out.warn("Save the secret now: it will not be shown again (it signs every delivery).");
            });
        }
        Command::List { all } => {
            let webhooks: Value = ctx.api.get(BASE).flag("all", all).send().await?;
            show_list(ctx, &webhooks, "webhooks", COLUMNS, "No webhooks.");
        }
        Command::Show { id } => {
            let webhook: Value = ctx.api.get(format!("{BASE}/{id}")).send().await?;
            show_record(ctx, &webhook, FIELDS);
        }
        Command::Update {
            id,
            url,
            events,
            description,
            enable,
            disable,
        } => {
            let mut body = json!({});
            if let Some(url) = url {
                body["url"] = json!(url);
            }
            if let Some(events) = events {
                body["events"] = json!(events);
            }
            if let Some(description) = description {
                body["description"] = if description.is_empty() {
                    Value::Null
                } else {
                    json!(description)
                };
            }
            if enable || disable {
                body["is_active"] = json!(enable);
            }
            let webhook: Value = ctx.api.patch(format!("{BASE}/{id}")).json(&body).send().await?;
            show_record(ctx, &webhook, FIELDS);
        }
        Command::Delete { id, yes } => {
            prompt::confirm(&format!("Delete webhook {id}?"), yes.yes)?;
            let answer: Value = ctx.api.delete(format!("{BASE}/{id}")).send().await?;
            show_done(ctx, &answer, &format!("Webhook {id} deleted"));
        }
        Command::Secret { id } => {
            let answer: Value = ctx.api.post(format!("{BASE}/{id}/regenerate-secret")).send().await?;
            show_record(ctx, &answer, &[]);
        }
        Command::Test { id } => {
            let answer: Value = ctx.api.post(format!("{BASE}/{id}/test")).send().await?;
            settled(ctx, &answer, "Test delivery")?;
        }
        Command::Deliveries { id, limit } => {
            let deliveries: Value = ctx
                .api
                .get(format!("{BASE}/{id}/deliveries"))
                .query("limit", limit)
                .send()
                .await?;
            show_list(ctx, &deliveries, "deliveries", DELIVERIES, "No deliveries yet.");
        }
        Command::Delivery {
            webhook_id,
            delivery_id,
        } => {
            let delivery: Value = ctx
                .api
                .get(format!("{BASE}/{webhook_id}/deliveries/{delivery_id}"))
                .send()
                .await?;
            ctx.out.emit(&delivery, |out| {
                out.auto(&delivery);
                out.info(format!("Payload: {}", delivery["payload"]));
            });
        }
        Command::Retry {
            webhook_id,
            delivery_id,
        } => {
            let answer: Value = ctx
                .api
                .post(format!("{BASE}/{webhook_id}/deliveries/{delivery_id}/retry"))
                .send()
                .await?;
            settled(ctx, &answer, "Retry")?;
        }
    }
    Ok(())
}

/// The outcome of a send: `[OK]`, or a failure (exit 1) with the server's message.
fn settled(ctx: &Ctx, answer: &Value, what: &str) -> Result<()> {
    let delivered = answer["success"] == true;
    ctx.out.emit(answer, |out| {
        out.auto(answer);
        if delivered {
            out.ok(format!("{what} delivered"));
        }
    });
    if !delivered {
        anyhow::bail!(
            "{what} not delivered: {}",
            answer["message"].as_str().unwrap_or("the receiver did not accept it")
        );
    }
    Ok(())
}
