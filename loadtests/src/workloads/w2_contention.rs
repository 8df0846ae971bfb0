//! W2, contention: every client asks for the same slot at the same moment, round after round;
//! then the schedule is read back. Exactly one booking per round may exist, and none may overlap.
//!
//! With several nodes the clients are spread over them, so the nodes race each other: a node's
//! actor refuses from memory what it knows is taken, and the database's exclusion constraint
//! refuses what it could not know yet (another node's winner, committed milliseconds earlier).
//! Both are a 409; the row reports the 409s' latency and, from the server's
//! `db_overlap_refusals_total` (summed over the nodes), how many of them the database made.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, Utc};
use futures::future::join_all;
use tokio::sync::Barrier;

use super::{Context, future_base, overlaps, row, slot};
use crate::api::Booked;
use crate::report::Row;
use crate::stats::Samples;

const ROUNDS: u64 = 20;
const BUDGET: &str = "exactly one winner in every round, no overlap";
/// The server's count of writes its database refused as overlapping.
const DATABASE_REFUSALS: &str = "db_overlap_refusals_total";
/// Longest wait for the nodes to agree on the schedule (each learns the others' bookings from
/// the outbox within milliseconds; never reached when they do).
const AGREEMENT: Duration = Duration::from_secs(10);

pub async fn run(ctx: &Context) -> Result<Row> {
    let resource = ctx.resources("w2", 1).await?[0];
    let base = future_base();
    let clients = ctx.settings.clients;
    let refusals_before = database_refusals(ctx).await;
    let measure = ctx.measure();
    let started = Instant::now();
    let mut samples = Samples::default();
    let mut conflicts = Samples::default();
    let mut answered_winners = Vec::new();
    for round in 0..ROUNDS {
        let (start, end) = slot(base, round, 60);
        let barrier = Arc::new(Barrier::new(clients));
        let racers: Vec<_> = ctx
            .users
            .iter()
            .take(clients)
            .enumerate()
            .map(|(i, user)| {
                let (api, user, barrier) = (ctx.node(i).clone(), user.clone(), barrier.clone());
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
            if answer.outcome == Booked::Conflict {
                conflicts.record(answer.latency);
            }
            samples.add(!matches!(answer.outcome, Booked::Failed(_)), answer.latency);
        }
        answered_winners.push(winners);
    }
    let summary = samples.summarize(started.elapsed());
    let (stored, agreed) = agreed_schedule(ctx, resource).await?;
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
        && agreed
        && summary.errors == 0;
    let conflicts = conflicts.summarize(started.elapsed());
    let mut row = row("W2 contention", summary, BUDGET, holds);
    row.overlaps = Some(overlapping);
    let clean_rounds = answered_winners
        .iter()
        .zip(&stored_winners)
        .filter(|&(&answered, &stored)| answered == 1 && stored == 1)
        .count();
    row.figure(
        &format!("rounds (of {ROUNDS}) with one 201 and one stored"),
        clean_rounds as f64,
    );
    row.figure("409s", conflicts.requests as f64);
    row.figure("409 latency p50 ms", conflicts.p50_ms);
    row.figure("409 latency p99 ms", conflicts.p99_ms);
    if let (Some(before), Some(after)) = (refusals_before, database_refusals(ctx).await) {
        row.figure("409s refused by the database (not from memory)", after - before);
    }
    row.notes.push(format!(
        "{clients} clients over {} node(s) × {ROUNDS} rounds; rounds with exactly one 201: {}/{ROUNDS}; \
         rounds with exactly one stored booking: {}/{ROUNDS}; 201s per round {answered_winners:?}; \
         stored per round {stored_winners:?}{}",
        ctx.nodes.len(),
        one_winner(&answered_winners),
        one_winner(&stored_winners),
        if agreed {
            ""
        } else {
            "; the nodes did NOT agree on the schedule"
        },
    ));
    measure.finish(&mut row);
    Ok(row)
}

/// `db_overlap_refusals_total` summed over the nodes; `None` when a node does not expose it.
async fn database_refusals(ctx: &Context) -> Option<f64> {
    join_all(ctx.nodes.iter().map(|node| node.metric(DATABASE_REFUSALS)))
        .await
        .into_iter()
        .sum()
}

/// The bookings of `resource` once every node reports the same ones (each node answers from its
/// actor's memory, which learns of the other nodes' bookings from the outbox), and whether they
/// did agree before [`AGREEMENT`] ran out (if not: the first node's).
async fn agreed_schedule(ctx: &Context, resource: i64) -> Result<(Vec<(i64, DateTime<Utc>, DateTime<Utc>)>, bool)> {
    let deadline = Instant::now() + AGREEMENT;
    loop {
        let mut schedules = Vec::with_capacity(ctx.nodes.len());
        for node in ctx.nodes.iter() {
            let mut schedule = node.schedule(resource, 3).await?;
            schedule.sort();
            schedules.push(schedule);
        }
        let agreed = schedules.windows(2).all(|pair| pair[0] == pair[1]);
        if agreed || Instant::now() >= deadline {
            return Ok((schedules.swap_remove(0), agreed));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
