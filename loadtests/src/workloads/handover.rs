//! Hand-over: the last node is SIGKILLed while the clients book, as in a crash (no graceful
//! anything). Nothing is leased to a node (see `docs/src/scaling.md`), so nothing has to move
//! but the clients: each talks to its node ([`Context::node`]) and, on a connection error,
//! retries the same booking on the next node and stays there, as a load balancer would route it.
//! Measured: how long after the kill every client has had a booking accepted again, what the
//! kill cost (connection errors, answers lost with the node), the rate before and after; and
//! the timers: a hold placed through the killed node before the kill must lapse on a survivor,
//! once and on time, which a client of a survivor is told on its socket.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};
use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::{Context, future_base, node_for, row, slot};
use crate::api::Booked;
use crate::report::Row;
use crate::stats::Samples;
use crate::ws::{Socket, connect_many};

const RESOURCES: usize = 100;
/// The shortest hold the API allows: the workload waits for it to lapse.
const HOLD_MINUTES: i64 = 1;
/// How late the hold may lapse, and how soon every client must book again.
const GRACE: Duration = Duration::from_secs(5);
const BUDGET: &str = "every client books again within 5 s of the kill, no booking fails; \
                      the killed node's hold lapses on a survivor once, ≤ 5 s late";

/// How one client's booking ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Accepted,
    /// A 409 to a retry: the attempt on the killed node had committed, its answer was lost.
    StoredBeforeTheKill,
    Failed,
}

/// One client's bookings: when each was answered, how it ended and how long it took.
#[derive(Default)]
struct Log {
    answers: Vec<(Instant, Outcome, Duration)>,
    connection_errors: u64,
}

pub async fn run(ctx: &Context) -> Result<Row> {
    let nodes = ctx.nodes.len();
    ensure!(
        nodes >= 2 && ctx.settings.server_pids.len() == nodes,
        "handover needs several nodes (--peer-url) and a --server-pid for each, in the same order"
    );
    let victim = nodes - 1;
    let victim_pid = i32::try_from(ctx.settings.server_pids[victim])?;
    let resources = ctx.resources("handover", RESOURCES).await?;

    // The hold, placed through the node about to die and watched from the first one.
    let room = ctx.resources("handover-hold", 1).await?[0];
    let holder = ctx.account("holder").await?;
    let socket = connect_many(&ctx.nodes[..1], std::slice::from_ref(&holder), 1, "", 1)
        .await?
        .remove(0);
    let start = future_base();
    let (hold, expires_at) = ctx.nodes[victim]
        .hold(&holder, room, start, start + TimeDelta::hours(1), HOLD_MINUTES)
        .await?;
    let (frames, mut heard) = mpsc::unbounded_channel();
    let watcher = tokio::spawn(watch(socket, hold, frames));
    // The survivors know of the hold before its node dies.
    let created = tokio::time::timeout(Duration::from_secs(10), heard.recv()).await;
    if !matches!(&created, Ok(Some((kind, _))) if kind == "hold_created") {
        bail!("no hold_created on a survivor's socket: {created:?}");
    }

    let measure = ctx.measure();
    let duration = ctx.settings.duration;
    let (base, counter) = (start + TimeDelta::days(1), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let clients: Vec<_> = (0..ctx.settings.clients)
        .map(|client| {
            let (all, user, resources) = (ctx.nodes.clone(), ctx.users[client].clone(), resources.clone());
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut log = Log::default();
                let mut node = client;
                while started.elapsed() < duration {
                    // As in W1: request n takes a slot no other request asks for.
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let count = resources.len() as u64;
                    let resource = resources[(n % count) as usize];
                    let (from, until) = slot(base, n / count, 30);
                    let sent = Instant::now();
                    let mut outcome = Outcome::Failed;
                    for attempt in 0..all.len() {
                        match node_for(&all, node).book(&user, resource, from, until).await.outcome {
                            Booked::Accepted(_) => outcome = Outcome::Accepted,
                            Booked::Conflict if attempt > 0 => outcome = Outcome::StoredBeforeTheKill,
                            Booked::Failed(0) => {
                                log.connection_errors += 1;
                                node += 1;
                                continue;
                            }
                            Booked::Conflict | Booked::Failed(_) => {}
                        }
                        break;
                    }
                    log.answers.push((Instant::now(), outcome, sent.elapsed()));
                }
                log
            })
        })
        .collect();
    tokio::time::sleep(duration / 3).await;
    let killed_at = Instant::now();
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is the node's, given by the caller.
    if unsafe { libc::kill(victim_pid, libc::SIGKILL) } != 0 {
        bail!("SIGKILL to node pid {victim_pid}: {}", std::io::Error::last_os_error());
    }
    let mut logs = Vec::with_capacity(clients.len());
    for client in clients {
        logs.push(client.await?);
    }
    let ended = Instant::now();

    let mut samples = Samples::default();
    let (mut before, mut after, mut stored_before_the_kill, mut connection_errors) = (0u64, 0u64, 0u64, 0u64);
    let mut back = Vec::with_capacity(logs.len());
    for log in &logs {
        connection_errors += log.connection_errors;
        for &(at, outcome, latency) in &log.answers {
            samples.add(outcome != Outcome::Failed, latency);
            stored_before_the_kill += u64::from(outcome == Outcome::StoredBeforeTheKill);
            if outcome == Outcome::Accepted {
                if at < killed_at { before += 1 } else { after += 1 }
            }
        }
        // When this client was booking again: its first acceptance answered after the kill.
        back.push(
            log.answers
                .iter()
                .find(|&&(at, outcome, _)| at >= killed_at && outcome == Outcome::Accepted)
                .map(|&(at, ..)| at - killed_at),
        );
    }
    let every_client_back = back
        .iter()
        .copied()
        .collect::<Option<Vec<_>>>()
        .map(|all| all.into_iter().max().unwrap_or_default());
    let summary = samples.summarize(ended - started);
    let mut row = row("hand-over (SIGKILL)", summary.clone(), BUDGET, false);
    row.accepted_per_second = Some(summary.ok_per_second);
    measure.finish(&mut row);

    // The hold lapses on a survivor (its timer was armed there when it learned of the hold).
    let patience = (expires_at - Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(30);
    let expired = tokio::time::timeout(patience, heard.recv()).await;
    let late = match &expired {
        Ok(Some((kind, at))) if kind == "hold_expired" => Some(*at - expires_at),
        _ => None,
    };
    // A second announcement would come within moments of the first.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut announced = u64::from(late.is_some());
    while let Ok((kind, _)) = heard.try_recv() {
        announced += u64::from(kind == "hold_expired");
    }
    watcher.abort();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let killed_for = ms(killed_at - started) / 1000.0;
    // A figure that could not be taken is left out (the table shows "–"; the budget fails).
    if let Some(back) = every_client_back {
        row.figure("every client booking again after the kill, ms", ms(back));
    }
    row.figure(
        "clients that met the dead node (retried on the next)",
        logs.iter().filter(|log| log.connection_errors > 0).count() as f64,
    );
    row.figure(
        "connection errors (each retried on the next node)",
        connection_errors as f64,
    );
    row.figure(
        "retries answered 409: the lost answer's booking was stored",
        stored_before_the_kill as f64,
    );
    row.figure(
        "accepted bookings/s before the kill",
        before as f64 / killed_for.max(f64::EPSILON),
    );
    row.figure(
        "accepted bookings/s after the kill",
        after as f64 / (ended - killed_at).as_secs_f64().max(f64::EPSILON),
    );
    if let Some(late) = late {
        let late_ms = late.num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0;
        row.figure("hold of the killed node: lapsed late by, ms", late_ms);
    }
    row.figure("hold_expired announcements", announced as f64);
    row.holds = summary.errors == 0
        && every_client_back.is_some_and(|back| back <= GRACE)
        && announced == 1
        && late.is_some_and(|late| late >= TimeDelta::zero() && late.to_std().is_ok_and(|late| late <= GRACE));
    row.notes.push(format!(
        "{} clients over {nodes} nodes; node {} (pid {victim_pid}) SIGKILLed {killed_for:.1} s into {:.1} s of load; \
         hold {hold} placed through it, due {expires_at}, {}",
        ctx.settings.clients,
        victim + 1,
        duration.as_secs_f64(),
        match (&expired, late) {
            (_, Some(late)) => format!("announced on a survivor {} ms after", late.num_milliseconds()),
            (Ok(Some((kind, _))), None) => format!("next frame about it: {kind}"),
            (Ok(None), None) => "the survivor's socket closed".to_owned(),
            (Err(_), None) => "never announced as expired".to_owned(),
        }
    ));
    Ok(row)
}

/// Reads `socket` and passes on the type and arrival time of every event about `reservation`.
async fn watch(mut socket: Socket, reservation: i64, frames: mpsc::UnboundedSender<(String, DateTime<Utc>)>) {
    while let Some(Ok(message)) = socket.next().await {
        let Message::Text(text) = message else { continue };
        let Ok(frame) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if frame["reservation_id"].as_i64() == Some(reservation)
            && let Some(kind) = frame["type"].as_str()
            && frames.send((kind.to_owned(), Utc::now())).is_err()
        {
            return;
        }
    }
}
