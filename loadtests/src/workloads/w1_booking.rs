//! W1, booking throughput: every client books slots nobody else books, spread over 100
//! resources, for the run's duration. Measures accepted bookings per second.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;

use super::{Context, Pace, Stop, closed_loop, future_base, node_for, row, slot};
use crate::api::Booked;
use crate::report::Row;
use crate::stats::Samples;

const RESOURCES: usize = 100;
const BUDGET: &str = "≥ 5,000 accepted/s, p99 ≤ 20 ms, no errors";

pub async fn run(ctx: &Context) -> Result<Row> {
    let resources = ctx.resources("w1", RESOURCES).await?;
    let measure = ctx.measure();
    let pace = ctx.settings.booking_rate.map(Pace::starting_now);
    let (samples, elapsed) = book_spread(ctx, resources, Stop::After(ctx.settings.duration), pace).await;
    let summary = samples.summarize(elapsed);
    let holds = summary.ok_per_second >= 5_000.0 && summary.p99_ms <= 20.0 && summary.errors == 0;
    let mut row = row("W1 booking", summary.clone(), BUDGET, holds);
    row.accepted_per_second = Some(summary.ok_per_second);
    row.notes.push(format!(
        "{} clients over {} node(s), {RESOURCES} resources, {} bookings accepted{}",
        ctx.settings.clients,
        ctx.nodes.len(),
        summary.requests - summary.errors,
        ctx.settings
            .booking_rate
            .map(|rate| format!(", paced at {rate}/s"))
            .unwrap_or_default()
    ));
    measure.finish(&mut row);
    Ok(row)
}

/// Every client books, back to back (or at `pace`), slots no other request asks for: request `n`
/// takes the 30-minute slot `n / resources.len()` of resource `n % resources.len()`, through the
/// client's node ([`Context::node`]). Anything but a 201 is an error. The latency is the
/// request's own, from when it is sent.
pub async fn book_spread(
    ctx: &Context,
    resources: Arc<Vec<i64>>,
    stop: Stop,
    pace: Option<Pace>,
) -> (Samples, Duration) {
    let (nodes, users, base) = (ctx.nodes.clone(), ctx.users.clone(), future_base());
    closed_loop(ctx.settings.clients, stop, move |client, n| {
        let (api, users) = (node_for(&nodes, client).clone(), users.clone());
        let count = resources.len() as u64;
        let resource = resources[(n % count) as usize];
        let (start, end) = slot(base, n / count, 30);
        async move {
            if let Some(pace) = pace {
                pace.turn(n).await;
            }
            let answer = api.book(&users[client], resource, start, end).await;
            answer.map(|booked| matches!(booked, Booked::Accepted(_)))
        }
    })
    .await
}
