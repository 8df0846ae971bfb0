//! The workloads, and what they share: the accounts, names and nodes of a run ([`Context`]),
//! slots that never collide, a closed-loop driver, and CPU/memory marks around each measurement.
//!
//! A run may drive several nodes of one server (processes on one database, `--peer-url`): the
//! clients of the booking and contention workloads are spread round-robin over them
//! ([`Context::node`]), W4 holds its sockets on the nodes other than the one it books through,
//! and `handover` kills one. With one node every workload is what it always was.

pub mod analytics;
pub mod fanout;
pub mod handover;
pub mod memory;
pub mod search;
pub mod w1_booking;
pub mod w2_contention;
pub mod w3_reads;
pub mod w4_websocket;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::api::{Account, Api, Timed};
use crate::process::{Group, Processes};
use crate::report::Row;
use crate::stats::{Samples, Summary};

/// Names accepted by `--workloads`, in the default order. `memory` comes first so the memory
/// figure is taken on a server holding exactly its 1,000 resources and 100,000 reservations.
pub const ALL: [&str; 6] = ["memory", "w1", "w2", "w3", "w4", "fanout"];

/// Every workload `--workloads` accepts: [`ALL`] and those run only when named (`search`, whose
/// set-up of 10,000 resources and 1,000,000 reservations takes minutes, `analytics`, which
/// needs a database seeded by `loadtests/analytics-seed`, and `handover`, which kills a node).
pub const KNOWN: [&str; 9] = [
    "memory",
    "w1",
    "w2",
    "w3",
    "w4",
    "fanout",
    "search",
    "analytics",
    "handover",
];

/// Settings of a run, from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    pub clients: usize,
    pub duration: Duration,
    /// W1's bookings per second in total, paced ([`Pace`]); `None`: as fast as answered.
    pub booking_rate: Option<f64>,
    pub subscribers: usize,
    pub reservations: u64,
    /// Resources and reservations of the search workload.
    pub search_resources: usize,
    pub search_reservations: u64,
    /// The search workload searches the data of `loadtests/search-seed` (no API set-up).
    pub search_seeded: bool,
    /// The server's processes on this machine, one per node in the order of the nodes' URLs
    /// (empty: not measured).
    pub server_pids: Vec<u32>,
    /// The server's PostgreSQL database, when PostgreSQL runs on this machine: its processes'
    /// CPU is measured too.
    pub database: Option<String>,
}

/// What every workload of a run shares: the API clients, the admin, one account per client,
/// and a stamp that makes this run's names unique on a server that has seen other runs.
pub struct Context {
    /// The first node: set-up, reads and W4's bookings go through it.
    pub api: Api,
    /// Every node, the first one first (one element on a single-node server).
    pub nodes: Arc<Vec<Api>>,
    pub admin: Account,
    pub users: Arc<Vec<Account>>,
    pub settings: Settings,
    stamp: String,
}

impl Context {
    /// Signs in (registering on a fresh server: the first account becomes the admin) `admin`
    /// and registers one user per client, through the first of `urls` (the server's nodes).
    pub async fn setup(urls: &[String], admin: &str, settings: Settings) -> Result<Context> {
        let nodes = urls
            .iter()
            .map(|url| Api::new(url, settings.clients.max(64)))
            .collect::<Result<Vec<_>>>()?;
        let api = nodes.first().context("no server URL")?.clone();
        let admin = api.account(admin).await?;
        let stamp = format!("{:x}", Utc::now().timestamp_millis());
        let users = stream::iter(0..settings.clients)
            .map(|i| {
                let api = api.clone();
                let name = format!("lt{stamp}-u{i}");
                async move { api.account(&name).await }
            })
            .buffered(4)
            .try_collect()
            .await?;
        Ok(Context {
            api,
            nodes: Arc::new(nodes),
            admin,
            users: Arc::new(users),
            settings,
            stamp,
        })
    }

    /// `count` new resources named after `label`, created `parallel` at a time.
    pub async fn resources(&self, label: &str, count: usize) -> Result<Arc<Vec<i64>>> {
        let ids: Vec<i64> = stream::iter(0..count)
            .map(|i| {
                let name = format!("{label}-{}-{i}", self.stamp);
                async move { self.api.create_resource(&self.admin, &name).await }
            })
            .buffered(8)
            .try_collect()
            .await
            .with_context(|| format!("creating resources for {label} (is --admin an admin?)"))?;
        Ok(Arc::new(ids))
    }

    /// The node the `client`th client talks to ([`node_for`]).
    pub fn node(&self, client: usize) -> &Api {
        node_for(&self.nodes, client)
    }

    /// A new account named after `label`, unique to this run.
    pub async fn account(&self, label: &str) -> Result<Account> {
        self.api.account(&format!("lt{}-{label}", self.stamp)).await
    }

    /// CPU marks of the server (every node), of PostgreSQL's processes of the run's database and
    /// of this process, taken now; [`Measure::finish`] fills a row.
    pub fn measure(&self) -> Measure {
        let pids = &self.settings.server_pids;
        Measure {
            server: (!pids.is_empty()).then(|| Group::now(Processes::Pids(pids.clone()))),
            database: self
                .settings
                .database
                .clone()
                .map(|database| Group::now(Processes::Postgres { database })),
            generator: Group::now(Processes::this()),
        }
    }
}

/// The node of `nodes` the `client`th client talks to: clients are spread round-robin.
pub fn node_for(nodes: &[Api], client: usize) -> &Api {
    &nodes[client % nodes.len()]
}

pub struct Measure {
    server: Option<Group>,
    database: Option<Group>,
    generator: Group,
}

impl Measure {
    pub fn finish(&self, row: &mut Row) {
        row.server = self.server.as_ref().and_then(Group::usage);
        row.database = self.database.as_ref().and_then(Group::usage);
        row.generator = self.generator.usage();
        row.load_average = crate::process::load_average();
    }
}

/// A row with the common fields set; workloads add their own.
pub fn row(workload: &str, summary: Summary, budget: &str, holds: bool) -> Row {
    Row {
        workload: workload.to_owned(),
        summary,
        accepted_per_second: None,
        overlaps: None,
        events_lost: None,
        budget: budget.to_owned(),
        holds,
        notes: Vec::new(),
        server: None,
        database: None,
        generator: None,
        load_average: None,
        figures: Vec::new(),
    }
}

/// The start of the next hour, one day ahead: every slot is in the future for the whole run.
pub fn future_base() -> DateTime<Utc> {
    let now = Utc::now() + TimeDelta::days(1);
    now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now) + TimeDelta::hours(1)
}

/// The `index`th of back-to-back slots of `minutes` after `base`.
pub fn slot(base: DateTime<Utc>, index: u64, minutes: i64) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = base + TimeDelta::minutes(minutes * index as i64);
    (start, start + TimeDelta::minutes(minutes))
}

/// When a closed loop stops.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    After(Duration),
    Count(u64),
}

/// `clients` tasks, each sending its next request as soon as the previous one is answered, until
/// `stop`. `op(client, n)` sends the request numbered `n` (unique across clients, from 0) and
/// says whether it succeeded. Returns the samples and the elapsed time.
pub async fn closed_loop<F, Fut>(clients: usize, stop: Stop, op: F) -> (Samples, Duration)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Timed<bool>> + Send,
{
    let op = Arc::new(op);
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|client| {
            let (op, counter) = (op.clone(), counter.clone());
            tokio::spawn(async move {
                let mut samples = Samples::default();
                loop {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let more = match stop {
                        Stop::After(duration) => started.elapsed() < duration,
                        Stop::Count(count) => n < count,
                    };
                    if !more {
                        return samples;
                    }
                    let answer = op(client, n).await;
                    samples.add(answer.outcome, answer.latency);
                }
            })
        })
        .collect();
    let mut all = Samples::default();
    for worker in workers {
        all.merge(worker.await.unwrap_or_default());
    }
    (all, started.elapsed())
}

/// An even pace of requests: request `n` (numbered from 0 across clients) is not sent before
/// `n / per_second` seconds after the start.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    started: Instant,
    per_second: f64,
}

impl Pace {
    pub fn starting_now(per_second: f64) -> Pace {
        Pace {
            started: Instant::now(),
            per_second,
        }
    }

    /// Waits until request `n`'s turn.
    pub async fn turn(&self, n: u64) {
        let due = self.started + Duration::from_secs_f64(n as f64 / self.per_second);
        tokio::time::sleep_until(due.into()).await;
    }
}

/// Pairs of overlapping intervals in `bookings` (half-open, as the server defines them).
pub fn overlaps(bookings: &[(i64, DateTime<Utc>, DateTime<Utc>)]) -> u64 {
    let mut sorted: Vec<_> = bookings.iter().map(|&(_, start, end)| (start, end)).collect();
    sorted.sort();
    let mut found = 0;
    for (i, &(_, end)) in sorted.iter().enumerate() {
        found += sorted[i + 1..].iter().take_while(|(start, _)| *start < end).count() as u64;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlaps_are_counted_pairwise_and_touching_slots_do_not_overlap() {
        let base = future_base();
        let s = |i| slot(base, i, 60);
        let (a, b, c) = (s(0), s(1), s(2));
        assert_eq!(overlaps(&[(1, a.0, a.1), (2, b.0, b.1), (3, c.0, c.1)]), 0);
        let long = (a.0, c.1);
        assert_eq!(overlaps(&[(1, a.0, a.1), (2, b.0, b.1), (3, long.0, long.1)]), 2);
        assert_eq!(overlaps(&[(1, b.0, b.1), (2, b.0, b.1)]), 1);
    }
}
