//! W3, reads: one resource's availability (answered from its actor's memory), then a page of
//! the resource list (a database read), each by every client for the run's duration.

use anyhow::{Result, ensure};

use super::{Context, Stop, closed_loop, future_base, row, slot};
use crate::api::Booked;
use crate::report::Row;

/// Bookings on the resource read, so the answer has a realistic size.
const BOOKINGS: u64 = 20;
const PAGE: u32 = 20;

pub async fn run(ctx: &Context) -> Result<Vec<Row>> {
    let resource = ctx.resources("w3", 1).await?[0];
    let base = future_base();
    for i in 0..BOOKINGS {
        let (start, end) = slot(base, i * 2, 60);
        let answer = ctx.api.book(&ctx.users[0], resource, start, end).await;
        ensure!(
            matches!(answer.outcome, Booked::Accepted(_)),
            "booking for W3: {:?}",
            answer.outcome
        );
    }
    Ok(vec![
        read(
            ctx,
            "W3 availability",
            format!("/api/v1/resources/{resource}/availability?days_ahead=7"),
            "≥ 30,000 reads/s, p99 ≤ 20 ms",
            30_000.0,
        )
        .await,
        read(
            ctx,
            "W3 resource list",
            format!("/api/v1/resources?limit={PAGE}"),
            "≥ 10,000 pages/s, p99 ≤ 20 ms",
            10_000.0,
        )
        .await,
    ])
}

async fn read(ctx: &Context, name: &str, path: String, budget: &str, per_second: f64) -> Row {
    let api = ctx.api.clone();
    let measure = ctx.measure();
    let (samples, elapsed) = closed_loop(ctx.settings.clients, Stop::After(ctx.settings.duration), move |_, _| {
        let (api, path) = (api.clone(), path.clone());
        async move { api.get(&path).await }
    })
    .await;
    let summary = samples.summarize(elapsed);
    let holds = summary.ok_per_second >= per_second && summary.p99_ms <= 20.0 && summary.errors == 0;
    let mut row = row(name, summary, budget, holds);
    row.notes.push(format!("{} clients", ctx.settings.clients));
    measure.finish(&mut row);
    row
}
