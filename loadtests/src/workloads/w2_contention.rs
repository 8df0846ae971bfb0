//! W2, contention: every client asks for the same slot at the same moment, round after round;
//! then the schedule is read back. Exactly one booking per round may exist, and none may overlap.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use tokio::sync::Barrier;

use super::{Context, future_base, overlaps, row, slot};
use crate::api::Booked;
use crate::report::Row;
use crate::stats::Samples;

const ROUNDS: u64 = 20;
const BUDGET: &str = "exactly one winner in every round, no overlap";

pub async fn run(ctx: &Context) -> Result<Row> {
    let resource = ctx.resources("w2", 1).await?[0];
    let base = future_base();
    let clients = ctx.settings.clients;
    let measure = ctx.measure();
    let started = Instant::now();
    let mut samples = Samples::default();
    let mut answered_winners = Vec::new();
    for round in 0..ROUNDS {
        let (start, end) = slot(base, round, 60);
        let barrier = Arc::new(Barrier::new(clients));
        let racers: Vec<_> = ctx
            .users
            .iter()
            .take(clients)
            .map(|user| {
                let (api, user, barrier) = (ctx.api.clone(), user.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    api.book(&user, resource, start, end).await
                })
            })
            .collect();
        let mut winners = 0;
        for racer in racers {
            let answer = racer.await?;
            winners += u64::from(matches!(answer.outcome, Booked::Accepted(_)));
            samples.add(!matches!(answer.outcome, Booked::Failed(_)), answer.latency);
        }
        answered_winners.push(winners);
    }
    let summary = samples.summarize(started.elapsed());
    let stored = ctx.api.schedule(resource, 3).await?;
    let stored_winners: Vec<u64> = (0..ROUNDS)
        .map(|round| {
            let (start, end) = slot(base, round, 60);
            stored.iter().filter(|&&(_, s, e)| s == start && e == end).count() as u64
        })
        .collect();
    let overlapping = overlaps(&stored);
    let one_winner = |winners: &[u64]| winners.iter().filter(|&&w| w == 1).count();
    let holds = one_winner(&answered_winners) == ROUNDS as usize
        && one_winner(&stored_winners) == ROUNDS as usize
        && stored.len() as u64 == ROUNDS
        && overlapping == 0
        && summary.errors == 0;
    let mut row = row("W2 contention", summary, BUDGET, holds);
    row.overlaps = Some(overlapping);
    row.notes.push(format!(
        "{clients} clients × {ROUNDS} rounds; rounds with exactly one 201: {}/{ROUNDS}; \
         rounds with exactly one stored booking: {}/{ROUNDS}; 201s per round {answered_winners:?}; \
         stored per round {stored_winners:?}",
        one_winner(&answered_winners),
        one_winner(&stored_winners),
    ));
    measure.finish(&mut row);
    Ok(row)
}
