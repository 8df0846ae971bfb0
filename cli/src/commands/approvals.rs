//! `approvals pending|show|approve|reject`: reservations of resources that need approval.

use anyhow::Result;
use clap::Subcommand;
use serde_json::{Value, json};

use super::{Ctx, message_of};
use crate::output::{Column, text, time};

const COLUMNS: &[Column] = &[
    text("ID", "id"),
    text("Reservation", "reservation_id"),
    text("Resource", "resource_name"),
    text("Requested by", "requester_username"),
    time("Start", "start_time"),
    time("End", "end_time"),
    text("Message", "request_message"),
];

const FIELDS: &[Column] = &[
    text("ID", "id"),
    text("Status", "status"),
    text("Reservation", "reservation_id"),
    text("Resource", "resource_name"),
    text("Resource ID", "resource_id"),
    text("Requested by", "requester_username"),
    text("Approver", "approver_username"),
    time("Start", "start_time"),
    time("End", "end_time"),
    text("Message", "request_message"),
    text("Response", "response_message"),
    time("Requested", "created_at"),
    time("Answered", "responded_at"),
];

#[derive(Subcommand)]
pub enum Command {
    /// Requests waiting for your decision
    Pending,
    /// Show one request
    Show {
        /// Approval request id
        id: i64,
    },
    /// Approve a request: the reservation becomes active
    Approve {
        /// Approval request id
        id: i64,
        /// A note for the requester
        #[arg(long, short = 'm')]
        message: Option<String>,
    },
    /// Reject a request
    Reject {
        /// Approval request id
        id: i64,
        /// Why (sent to the requester)
        #[arg(long, short = 'm')]
        message: Option<String>,
    },
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Pending => {
            let answer: Value = ctx.api.get("/api/v1/approvals/pending").send().await?;
            ctx.out.emit(&answer, |out| {
                // Answers are {pending_approvals: [...], count}; a plain list is read too.
                let pending = answer
                    .as_array()
                    .or_else(|| answer["pending_approvals"].as_array())
                    .map_or(&[][..], Vec::as_slice);
                out.rows(pending, COLUMNS, "Nothing waits for your approval.");
            });
        }
        Command::Show { id } => {
            let request: Value = ctx.api.get(format!("/api/v1/approvals/{id}")).send().await?;
            ctx.out.emit(&request, |out| out.record(&request, FIELDS));
        }
        Command::Approve { id, message } => respond(id, "approve", message, ctx).await?,
        Command::Reject { id, message } => respond(id, "reject", message, ctx).await?,
    }
    Ok(())
}

async fn respond(id: i64, action: &str, message: Option<String>, ctx: &Ctx) -> Result<()> {
    let mut body = json!({ "action": action });
    if let Some(message) = message {
        body["response_message"] = json!(message);
    }
    let answer: Value = ctx
        .api
        .post(format!("/api/v1/approvals/{id}/respond"))
        .json(&body)
        .send()
        .await?;
    let done = if action == "approve" { "approved" } else { "rejected" };
    ctx.out.emit(&answer, |out| {
        out.ok(message_of(&answer, &format!("Request {id} {done}")))
    });
    Ok(())
}
