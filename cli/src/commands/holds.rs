//! `holds place|confirm|release`: keep a slot for a few minutes while deciding, then book it
//! or let it go; and `checkin` to a reservation that is starting.

use anyhow::Result;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::{Ctx, TIME_HELP, TimeRange, message_of};
use crate::output::Output;
use crate::time::wire;

#[derive(Subcommand)]
pub enum Command {
    /// Hold a free slot for a few minutes (nobody else can book it meanwhile)
    #[command(after_help = TIME_HELP)]
    Place {
        /// Resource id
        resource_id: i64,
        #[command(flatten)]
        range: TimeRange,
        /// How long to hold it, in minutes (the server's default if not given)
        #[arg(long, short = 'm', value_parser = clap::value_parser!(u32).range(1..))]
        minutes: Option<u32>,
    },
    /// Turn a hold into a reservation
    Confirm {
        /// Hold id
        id: i64,
    },
    /// Let a hold go
    Release {
        /// Hold id
        id: i64,
    },
}

#[derive(Args)]
pub struct CheckinArgs {
    /// Reservation id
    pub id: i64,
}

pub async fn run(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Place {
            resource_id,
            range,
            minutes,
        } => {
            let slot = range.resolve(ctx)?;
            let mut body = json!({
                "resource_id": resource_id,
                "start_time": wire(slot.start),
                "end_time": wire(slot.end),
            });
            if let Some(minutes) = minutes {
                body["minutes"] = json!(minutes);
            }
            let hold: Value = ctx.api.post("/api/v1/holds").json(&body).send().await?;
            ctx.out.emit(&hold, |out| {
                show(out, &hold);
                out.ok(format!(
                    "Slot held (hold {}); confirm it with `holds confirm {}`",
                    hold["id"], hold["id"]
                ));
            });
        }
        Command::Confirm { id } => {
            let reservation: Value = ctx.api.post(format!("/api/v1/holds/{id}/confirm")).send().await?;
            ctx.out.emit(&reservation, |out| {
                show(out, &reservation);
                out.ok(format!("Hold {id} confirmed"));
            });
        }
        Command::Release { id } => {
            let answer: Value = ctx.api.delete(format!("/api/v1/holds/{id}")).send().await?;
            ctx.out.emit(&answer, |out| {
                out.ok(message_of(&answer, &format!("Hold {id} released")))
            });
        }
    }
    Ok(())
}

pub async fn checkin(args: CheckinArgs, ctx: &Ctx) -> Result<()> {
    let id = args.id;
    let answer: Value = ctx
        .api
        .post(format!("/api/v1/reservations/{id}/check-in"))
        .send()
        .await?;
    ctx.out.emit(&answer, |out| {
        show(out, &answer);
        out.ok(message_of(&answer, &format!("Checked in to reservation {id}")));
    });
    Ok(())
}

/// A reservation-like answer with the reservation view, anything else field by field.
fn show(out: &Output, value: &Value) {
    if value.get("resource").is_some_and(Value::is_object) && value.get("start_time").is_some() {
        out.record(value, super::reservations::FIELDS);
    } else if value.is_object() && value.as_object().is_some_and(|m| m.len() > 1) {
        out.auto(value);
    }
}
