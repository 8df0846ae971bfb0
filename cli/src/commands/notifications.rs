//! `notifications list|read|read-all`: the in-app notifications of the signed-in user.

use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;

use super::{Ctx, PageArgs, fetch_pages, show_done, show_page, show_record};
use crate::output::{Column, flag, text, time};

const COLUMNS: &[Column] = &[
    text("ID", "id"),
    time("When", "created_at"),
    text("Type", "type"),
    text("Title", "title"),
    text("Message", "message"),
    flag("Read", "read"),
];

#[derive(Subcommand)]
pub enum Command {
    /// Your notifications, newest first
    List {
        /// Only the unread ones
        #[arg(long, short = 'u')]
        unread: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Mark one notification read
    Read {
        /// Notification id
        id: i64,
    },
    /// Mark every notification read
    ReadAll,
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::List { unread, page } => {
            let request = || ctx.api.get("/api/v1/notifications").flag("unread_only", unread);
            let found = fetch_pages(request, &page).await?;
            show_page(&ctx.out, &found, COLUMNS, "notifications");
        }
        Command::Read { id } => {
            let notification: Value = ctx.api.post(format!("/api/v1/notifications/{id}/read")).send().await?;
            show_record(ctx, &notification, COLUMNS);
        }
        Command::ReadAll => {
            let answer: Value = ctx.api.post("/api/v1/notifications/mark-all-read").send().await?;
            show_done(ctx, &answer, "Notifications marked as read");
        }
    }
    Ok(())
}
