//! Analytics: the seven `/api/v1/analytics` reads, the dashboard's heatmap and cancellations (and
//! peak times and utilisation over a year), each by a few clients for the run's duration,
//! as the admin (so user patterns and the export cover everyone), and the streamed reservations
//! export once more timed to its first bytes. Meant for a database seeded
//! with `loadtests/analytics-seed` (1,000,000 reservations over the past year by default); the
//! budget is p99 ≤ 200 ms per answer, which for the streamed export is its start (its whole
//! download is reported beside it, see [`WHOLE_DOWNLOAD`]).

use anyhow::Result;

use super::{Context, Stop, closed_loop, row};
use crate::report::Row;

/// Concurrent readers: analytics is a manager's page, not a hot path.
const CLIENTS: usize = 4;

const PATHS: [(&str, &str); 11] = [
    ("analytics dashboard", "/api/v1/analytics/dashboard?days=30"),
    ("analytics utilization", "/api/v1/analytics/utilization?days=30"),
    ("analytics popular", "/api/v1/analytics/popular-resources?days=30"),
    ("analytics peak times", "/api/v1/analytics/peak-times?days=30"),
    ("analytics user patterns", "/api/v1/analytics/user-patterns?days=30"),
    (
        "analytics utilization.csv",
        "/api/v1/analytics/export/utilization.csv?days=30",
    ),
    ("analytics reservations.csv whole download", WHOLE_DOWNLOAD),
    ("analytics heatmap", "/api/v1/analytics/heatmap?days=30"),
    ("analytics cancellations", "/api/v1/analytics/cancellations?days=30"),
    ("analytics peak times 365 d", "/api/v1/analytics/peak-times?days=365"),
    ("analytics utilization 365 d", "/api/v1/analytics/utilization?days=365"),
];

/// The streamed export read to its last byte: a download whose length grows with the period
/// asked for (30 days of the seed are 10 MB; 365 days would be 120 MB), so no latency budget
/// can bound it. Its row reports the transfer time and fails only on errors; the export's
/// *answer* is held to the analytics budget by its first bytes ([`FIRST_BYTES`]).
const WHOLE_DOWNLOAD: &str = "/api/v1/analytics/export/reservations.csv?days=30";
const DOWNLOAD_BUDGET: &str = "reported, no latency budget (length grows with the period); answered: see first bytes";

/// The streamed export timed to its first bytes (the time before a download starts), besides
/// its full transfer above.
const FIRST_BYTES: (&str, &str) = ("analytics reservations.csv first bytes", WHOLE_DOWNLOAD);

pub async fn run(ctx: &Context) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let reads = PATHS.iter().map(|read| (*read, false)).chain([(FIRST_BYTES, true)]);
    for ((name, path), first_bytes) in reads {
        let (api, admin) = (ctx.api.clone(), ctx.admin.clone());
        let measure = ctx.measure();
        let (samples, elapsed) = closed_loop(CLIENTS, Stop::After(ctx.settings.duration), move |_, _| {
            let (api, admin) = (api.clone(), admin.clone());
            async move {
                if first_bytes {
                    api.first_bytes_as(&admin, path).await
                } else {
                    api.get_as(&admin, path).await
                }
            }
        })
        .await;
        let summary = samples.summarize(elapsed);
        let mut row = if path == WHOLE_DOWNLOAD && !first_bytes {
            let holds = summary.errors == 0;
            row(name, summary, DOWNLOAD_BUDGET, holds)
        } else {
            let holds = summary.p99_ms <= 200.0 && summary.errors == 0;
            row(name, summary, "p99 ≤ 200 ms over 1,000,000 reservations", holds)
        };
        row.notes.push(format!("{CLIENTS} clients, {path}"));
        measure.finish(&mut row);
        rows.push(row);
    }
    Ok(rows)
}
