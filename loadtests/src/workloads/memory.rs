//! Memory: 1,000 resources and 100,000 reservations (by default) created through the API, the
//! bookings in parallel; then the server's resident memory.

use anyhow::Result;

use super::w1_booking::book_spread;
use super::{Context, Stop, row};
use crate::report::Row;

const RESOURCES: usize = 1_000;
const BUDGET_MB: f64 = 150.0;

pub async fn run(ctx: &Context) -> Result<Row> {
    let resources = ctx.resources("mem", RESOURCES).await?;
    let measure = ctx.measure();
    let (samples, elapsed) = book_spread(ctx, resources, Stop::Count(ctx.settings.reservations), None).await;
    let summary = samples.summarize(elapsed);
    let budget = format!(
        "server RSS ≤ {BUDGET_MB} MB with {RESOURCES} resources, {} reservations",
        ctx.settings.reservations
    );
    let mut row = row("memory", summary.clone(), &budget, false);
    row.accepted_per_second = Some(summary.ok_per_second);
    measure.finish(&mut row);
    row.holds = summary.errors == 0 && row.server.as_ref().is_some_and(|usage| usage.rss_mb <= BUDGET_MB);
    row.notes.push(format!(
        "{} bookings accepted in {:.1} s; server peak RSS {} MB",
        summary.requests - summary.errors,
        elapsed.as_secs_f64(),
        row.server.as_ref().map_or_else(
            || "unknown (no --server-pid)".to_owned(),
            |u| format!("{:.0}", u.peak_rss_mb)
        ),
    ));
    Ok(row)
}
