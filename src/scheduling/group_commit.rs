//! Group commit: the resource actors' writes, several to one transaction.
//!
//! Every actor's write ([`ScheduleStore::apply`](reserver_actors::resource::ScheduleStore::apply))
//! and every batch over several resources (`apply_many`) is a [`Job`] handed to the
//! [`GroupCommit`] of the process. A *runner* takes every job queued (up to
//! [`Tuning::max_group`]) and stores them in one transaction:
//!
//! ```text
//! BEGIN
//!   SAVEPOINT g;                     job 1's changes
//!   RELEASE SAVEPOINT g; SAVEPOINT g; job 2's changes   ── refused → ROLLBACK TO SAVEPOINT g
//!   …
//!   what the jobs that stood imply, written once for all of them: their history rows (one
//!   statement), the projections of their events (notices, deliveries, rollups), the outbox rows
//!   (one statement)
//! COMMIT                             ── then each job is answered
//! ```
//!
//! The disk makes about a thousand fsyncs a second; a commit is one of them whatever it holds, so
//! the jobs that wait while a group commits share the next one.
//!
//! Invariants:
//! - **A job is answered only after its group's `COMMIT` returned** (PostgreSQL with
//!   `synchronous_commit` on, SQLite with `synchronous = FULL` on the writer: the commit is on
//!   disk), so a 201 built from the answer is durable. A group whose commit failed, or whose
//!   outcome is unknown, answers every job with the error; the actors then reload their state.
//! - **A refused job does not abort the others**: each job runs in its own savepoint, and a job
//!   whose changes fail (an overlap the database caught, a duplicate name, …) is rolled back to
//!   it and answered with its error, while the group goes on. A batch over several resources is
//!   one job, so it is still all or nothing. A job the database failed to break a deadlock (two
//!   processes inserting overlapping slots at the same instant) is rolled back and run again.
//! - The history rows and events of a job are written in the same transaction as its changes,
//!   and only for the jobs that stood, so the outbox invariant (an event exists iff its change
//!   committed) holds; a fault while writing them (not a refusal: those come from the changes)
//!   fails the whole group.
//! - Jobs of one resource never share a group: an actor has at most one write in flight (it waits
//!   for the answer inside its atomic section), and the actors of a batch over several resources
//!   are paused while it is stored. So the order of a resource's writes is the order of its
//!   commits, and concurrent groups (PostgreSQL) touch disjoint resources; rows they may share
//!   (per-user rollups) are written once per group, in key order, so they cannot deadlock.
//! - A job whose caller gave up (the actor's write timeout) still runs; its actor reloads, so
//!   whatever the outcome its memory matches the database again.
//!
//! PostgreSQL runs up to [`Tuning::runners`] groups at once, on separate connections (one group's
//! round trips overlap another's commit); SQLite has a single writer, so one group at a time
//! gathers the most jobs. A PostgreSQL group holds at most 32 jobs: each savepoint that writes
//! takes a subtransaction id, and past 64 of them in one transaction every other session's
//! snapshots get slower (the subxid cache overflows).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use prometheus::{IntCounter, IntGauge};
use reserver_actors::request::RequestId;
use reserver_actors::resource::store::{Applied, Change};
use reserver_actors::resource::{ResourceId, StoreError};
use tokio::sync::oneshot;
use tracing::Instrument;

use super::apply::{self, Effects};
use crate::events::{EventWriter, Recorded};
use crate::metrics::Metrics;
use crate::storage::{BackendKind, Db, StorageError, Transaction};

/// How many groups may be in flight and how large one may be.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// Groups stored at once (each on its own connection).
    pub runners: usize,
    /// Most jobs in one group.
    pub max_group: usize,
}

impl Tuning {
    /// For a database of `kind` whose pool holds `pool_size` connections: on PostgreSQL, a
    /// runner per four connections (at most three), so the groups leave most of the pool to reads.
    pub fn for_backend(kind: BackendKind, pool_size: u32) -> Tuning {
        match kind {
            BackendKind::Sqlite => Tuning {
                runners: 1,
                max_group: 128,
            },
            BackendKind::Postgres => Tuning {
                runners: (pool_size as usize / 4).clamp(1, 3),
                max_group: 32,
            },
        }
    }
}

/// What `/metrics` shows of the group commit: the mean group is `jobs / groups`.
#[derive(Clone)]
pub struct CommitMetrics {
    /// Jobs queued for the next group.
    waiting: IntGauge,
    groups: IntCounter,
    jobs: IntCounter,
    /// Jobs the database refused as overlapping a blocking booking (the exclusion constraint on
    /// PostgreSQL, the trigger on SQLite): conflicts their actor did not know of when it wrote,
    /// i.e. with a booking another process (node) committed. Those an actor knew of were refused
    /// from its memory, without a write, and are not counted.
    overlaps: IntCounter,
}

impl CommitMetrics {
    pub fn register(metrics: &Metrics) -> CommitMetrics {
        let commit = CommitMetrics {
            waiting: IntGauge::new("group_commit_waiting", "Actor writes queued for the next group commit")
                .expect("valid metric"),
            groups: IntCounter::new("group_commit_groups_total", "Group commits run (one transaction each)")
                .expect("valid metric"),
            jobs: IntCounter::new("group_commit_jobs_total", "Actor writes stored by group commits")
                .expect("valid metric"),
            overlaps: IntCounter::new(
                "db_overlap_refusals_total",
                "Actor writes the database refused as overlapping a booking the actor did not know of \
                 (written by another process); conflicts refused from the actor's memory are not counted",
            )
            .expect("valid metric"),
        };
        metrics.register(Box::new(commit.waiting.clone()));
        metrics.register(Box::new(commit.groups.clone()));
        metrics.register(Box::new(commit.jobs.clone()));
        metrics.register(Box::new(commit.overlaps.clone()));
        commit
    }
}

/// What a job answers: one list of [`Applied`] per resource, in the order given.
type Answer = Result<Vec<Vec<Applied>>, StoreError>;

/// The changes of a job, resource by resource.
type Parts = Vec<(ResourceId, Vec<Change>)>;

/// The changes of one or more resources that stand or fall together, with whom to answer.
struct Job {
    now: DateTime<Utc>,
    parts: Parts,
    /// The request the changes are made for: its events record it.
    request_id: Option<RequestId>,
    reply: oneshot::Sender<Answer>,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Runners at work (each stores groups until the queue is empty).
    running: usize,
}

/// The process's commit coordinator, shared by every resource actor. Cheap to clone.
#[derive(Clone)]
pub struct GroupCommit {
    db: Db,
    writer: EventWriter,
    tuning: Tuning,
    metrics: CommitMetrics,
    queue: Arc<Mutex<Queue>>,
}

impl GroupCommit {
    pub fn new(db: Db, writer: EventWriter, tuning: Tuning, metrics: CommitMetrics) -> GroupCommit {
        GroupCommit {
            db,
            writer,
            tuning,
            metrics,
            queue: Arc::default(),
        }
    }

    /// Stores `parts` (all of them or none) with the next group and answers once it committed.
    pub async fn submit(&self, now: DateTime<Utc>, parts: Parts) -> Answer {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            now,
            parts,
            request_id: RequestId::current(),
            reply,
        };
        let start_runner = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.jobs.push_back(job);
            self.metrics.waiting.inc();
            let start = queue.running < self.tuning.runners;
            if start {
                queue.running += 1;
            }
            start
        };
        if start_runner {
            // A task of its own: a caller that stops waiting does not stop the group.
            tokio::spawn(self.clone().run());
        }
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the group commit was abandoned".into()))?
    }

    /// Stores groups until nothing is queued.
    async fn run(self) {
        loop {
            let group: Vec<Job> = {
                let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                if queue.jobs.is_empty() {
                    queue.running -= 1;
                    return;
                }
                let take = queue.jobs.len().min(self.tuning.max_group);
                self.metrics.waiting.sub(take as i64);
                queue.jobs.drain(..take).collect()
            };
            self.store(group).await;
        }
    }

    /// Stores one group and answers its jobs.
    async fn store(&self, group: Vec<Job>) {
        self.metrics.groups.inc();
        self.metrics.jobs.inc_by(group.len() as u64);
        let span = tracing::debug_span!("group_commit", jobs = group.len());
        let mut work = Vec::with_capacity(group.len());
        let mut replies = Vec::with_capacity(group.len());
        for job in group {
            replies.push((job.reply, job.request_id.clone()));
            work.push((job.now, job.parts, job.request_id));
        }
        let writer = self.writer.clone();
        let outcome = self
            .db
            .transaction(move |tx| Box::pin(store_group(tx, work, writer)))
            .instrument(span.clone())
            .await;
        let overlaps = match &outcome {
            Ok(answers) => answers.iter().filter(|a| matches!(a, Err(StoreError::Overlap))).count(),
            Err(StoreError::Overlap) => replies.len(),
            Err(_) => 0,
        };
        self.metrics.overlaps.inc_by(overlaps as u64);
        match outcome {
            Ok(answers) => {
                self.writer.committed();
                let _in_group = span.enter();
                for ((reply, request_id), answer) in replies.into_iter().zip(answers) {
                    // The group's commit, once for each request it held, so that one request can
                    // be followed to its commit through the logs.
                    tracing::debug!(
                        request_id = request_id.as_ref().map(RequestId::as_str),
                        stood = answer.is_ok(),
                        "transaction committed"
                    );
                    let _ = reply.send(answer);
                }
            }
            Err(error) => {
                tracing::warn!(%error, jobs = replies.len(), "a group commit failed");
                for (reply, _) in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

const FIRST_SAVEPOINT: &[&str] = &["SAVEPOINT g"];
/// The previous job's savepoint is kept (released), the next one opened.
const NEXT_SAVEPOINT: &[&str] = &["RELEASE SAVEPOINT g", "SAVEPOINT g"];
const UNDO_JOB: &[&str] = &["ROLLBACK TO SAVEPOINT g"];

/// Runs savepoint `statements`, which every job of a group runs: on PostgreSQL as one batch,
/// one round trip; on SQLite one by one, each from the connection's statement cache (a batch is
/// parsed anew every time, which was 6 % of a booking's instructions).
async fn savepoint(tx: &mut Box<dyn Transaction>, statements: &[&str]) -> Result<(), StorageError> {
    match tx.kind() {
        BackendKind::Postgres => tx.execute_batch(&statements.join("; ")).await,
        BackendKind::Sqlite => {
            for statement in statements {
                tx.execute(statement, Vec::new()).await?;
            }
            Ok(())
        }
    }
}

/// The group's transaction: each job in its savepoint, then the events of those that stood,
/// then the commit. Fails only for what fails the whole group.
async fn store_group(
    mut tx: Box<dyn Transaction>,
    work: Vec<(DateTime<Utc>, Parts, Option<RequestId>)>,
    writer: EventWriter,
) -> Result<Vec<Answer>, StoreError> {
    let mut answers = Vec::with_capacity(work.len());
    // The history rows and events of the jobs that stood, written once for the group.
    let mut effects = Effects::default();
    let mut recorded = Vec::new();
    let mut latest = None;
    for (index, (now, parts, request_id)) in work.into_iter().enumerate() {
        savepoint(&mut tx, if index == 0 { FIRST_SAVEPOINT } else { NEXT_SAVEPOINT }).await?;
        let (result, mut own) = run_job(&mut tx, now, &parts).await?;
        match result {
            Ok(applied) => {
                recorded.extend(std::mem::take(&mut own.events).into_iter().map(|event| Recorded {
                    event,
                    at: now,
                    request_id: request_id.clone(),
                }));
                effects.append(own);
                latest = latest.max(Some(now));
                answers.push(Ok(applied));
            }
            // Rolled back to its savepoint already.
            Err(refused) => answers.push(Err(refused)),
        }
    }
    if let Some(now) = latest {
        effects.write_history(&mut tx).await?;
        writer.record_all(&mut tx, recorded, now).await?;
    }
    tx.commit().await?;
    Ok(answers)
}

/// Most runs of a job that the database keeps failing to break deadlocks.
const DEADLOCK_RUNS: u32 = 5;

/// One job in its savepoint (open): its answer and what it implies. A job the database failed
/// to break a deadlock is rolled back to the savepoint and run again: processes inserting
/// overlapping slots at the same instant each wait for the others' uncommitted rows, and
/// PostgreSQL fails one of them after `deadlock_timeout`. Run again, it waits for the other
/// writers and then stands or is refused as an overlap, as if they had not met at once. It is
/// run again after a short random pause ([`rerun_pause`]): a row inserted again at once can
/// meet a writer that is just checking its own row again, and the deadlock forms anew. A
/// refused job is rolled back to the savepoint too. Fails for what fails the whole group.
async fn run_job(
    tx: &mut Box<dyn Transaction>,
    now: DateTime<Utc>,
    parts: &[(ResourceId, Vec<Change>)],
) -> Result<(Answer, Effects), StoreError> {
    let mut runs = 1;
    loop {
        let mut own = Effects::default();
        let result = apply_parts(tx, now, parts, &mut own).await;
        if result.is_err() {
            // If the database ended the whole transaction (it does so for some faults), the
            // savepoint is gone and this fails: the group fails with it.
            savepoint(tx, UNDO_JOB).await?;
        }
        match result {
            Err(StoreError::Deadlock) if runs < DEADLOCK_RUNS => {
                tracing::info!(runs, "the database broke a deadlock by failing a job; running it again");
                tokio::time::sleep(rerun_pause(runs)).await;
                runs += 1;
            }
            result => return Ok((result, own)),
        }
    }
}

/// A random pause of up to 20 ms times `runs` before a job runs again after a deadlock, so that
/// the writers that met do not insert again in step.
fn rerun_pause(runs: u32) -> std::time::Duration {
    let random = getrandom::u32().unwrap_or(runs);
    std::time::Duration::from_micros(u64::from(random % 20_000) * u64::from(runs))
}

/// One job's changes, resource by resource, with what they imply added to `out`.
async fn apply_parts(
    tx: &mut Box<dyn Transaction>,
    now: DateTime<Utc>,
    parts: &[(ResourceId, Vec<Change>)],
    out: &mut Effects,
) -> Result<Vec<Vec<Applied>>, StoreError> {
    let mut answers = Vec::with_capacity(parts.len());
    for (resource, changes) in parts {
        let mut applied = Vec::with_capacity(changes.len());
        for change in changes {
            let result = apply::one(tx, *resource, now, change, &applied, out).await?;
            applied.push(result);
        }
        answers.push(applied);
    }
    Ok(answers)
}
