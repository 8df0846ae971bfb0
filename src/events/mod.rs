//! Live updates: events written to an outbox with the change they describe, tailed after
//! commit, fanned out by the notifier actor to WebSocket sessions (`/ws`).
//!
//! ```text
//! store transaction ──append──▶ events (outbox) ──tail──▶ Notifier ──queue──▶ session ──▶ socket
//!        └─commit──wake──────────────────────────────┘ (other processes: relay's NOTIFY, poll)
//! ```
//!
//! - [`event`]: the closed vocabulary of events ([`Event`]) and who receives each.
//! - [`outbox`]: the `events` table — append, read, prune.
//! - [`tailer`]: reads committed events in order (gap-safe) and publishes them.
//! - [`session`]: one WebSocket connection: replay, live delivery, subscriptions, pings.
//! - [`hierarchy`]: which groups each resource is under, for sessions that follow a group.
//! - [`protocol`]: what clients may send.
//! - [`metrics`]: socket counts for Prometheus and `/ready`.
//!
//! What else an event gives (in-app notices, e-mail, webhook deliveries) is no concern of this
//! module: a [`Projection`], implemented above it, is handed to the [`EventWriter`] when the
//! server is assembled. The writer runs it in the transaction of every change it records, and
//! the tailer tells it of every batch committed.
//!
//! Invariants: an event is appended in the same transaction as its change, so it exists if and
//! only if the change committed; nothing is sent from inside a request, so a failed send never
//! fails a committed request; every event reaches sockets through the tailer, whichever process
//! made it.

pub mod event;
pub mod hierarchy;
pub mod metrics;
pub mod outbox;
pub mod protocol;
pub mod session;
pub mod tailer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::retention::Pruner;
use actix::prelude::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reserver_actors::Clock;
use reserver_actors::notifier::{Notifier, Shutdown};
use reserver_actors::request::RequestId;
use reserver_actors::resource::Followed;
use tokio::sync::Notify;

pub use event::{Event, NewEvent};
pub use hierarchy::{GroupTree, HierarchyStore, LiveHierarchy};
pub use metrics::SocketMetrics;

use crate::metrics::Metrics;
use crate::storage::{Db, StorageError, Transaction};

/// Most resources one WebSocket session may subscribe to.
pub const MAX_SUBSCRIPTIONS: usize = 1000;

/// Tuning of live updates (see `Settings`).
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Interval between pings to each client; a client silent for two intervals is dropped.
    pub ping_interval: Duration,
    /// Messages queued per client before it is dropped as a slow consumer.
    pub send_queue: usize,
    /// Sockets one user may hold open on this process (`WS_MAX_SOCKETS_PER_USER`).
    pub max_sockets_per_user: usize,
    /// How long events are kept for clients that resume with `?since=`.
    pub retention: chrono::Duration,
    /// How often the outbox is polled for events committed by other processes.
    pub poll_interval: Duration,
    /// Most events a resuming client is replayed; further behind, it is told to resync.
    pub replay_limit: i64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            ping_interval: Duration::from_secs(30),
            send_queue: 256,
            max_sockets_per_user: 20,
            retention: chrono::Duration::hours(24),
            poll_interval: Duration::from_millis(100),
            replay_limit: 10_000,
        }
    }
}

/// What events give besides themselves, written with them (in-app notices, e-mail, webhook
/// deliveries), and whom to wake once they are committed. Implemented above this module.
#[async_trait]
pub trait Projection: Send + Sync {
    /// Writes in `tx` what `events` give; `tx` also holds the change they describe.
    async fn record(
        &self,
        tx: &mut Box<dyn Transaction>,
        events: &[NewEvent],
        now: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Called with every batch of this process's committed events, in order, after the tailer
    /// read them (those of kinds this release does not know are left out).
    fn committed(&self, events: &[&Event]);

    /// Other processes committed events (at most [`tailer::FOREIGN_SWEEP`] ago): whatever they
    /// give that any process may do and theirs has not claimed (their process may have died)
    /// is looked for.
    fn committed_elsewhere(&self);
}

/// An event of one change among several recorded together ([`EventWriter::record_all`]).
pub struct Recorded {
    pub event: NewEvent,
    /// The instant of its change.
    pub at: DateTime<Utc>,
    /// The request the change was made for.
    pub request_id: Option<RequestId>,
}

/// The one way events are written: this server's side of the outbox. It stamps the events its
/// actors write with this process's name (so other processes know to reload those resources,
/// and this one knows it need not), writes what they give (its [`Projection`]) in the same
/// transaction, and wakes the tailer after commit. Cheap to clone.
///
/// It also counts changes ([`generation`](Self::generation)): the count moves after every
/// commit this process announces, every batch of events the tailer reads (other processes'
/// changes too) and every write request ([`changed`](Self::changed)), so a cache of reads
/// (`resources::pages`) that remembers the count it started at knows when it may be stale.
#[derive(Clone)]
pub struct EventWriter {
    /// Wakes this process's tailer.
    notify: Arc<Notify>,
    /// Wakes the relay, which wakes the other processes' tailers ([`relay`]).
    announce: Arc<Notify>,
    origin: Arc<str>,
    projection: Arc<dyn Projection>,
    generation: Arc<AtomicU64>,
}

impl EventWriter {
    pub fn new(projection: Arc<dyn Projection>) -> EventWriter {
        EventWriter {
            notify: Arc::default(),
            announce: Arc::default(),
            origin: Arc::from(uuid::Uuid::new_v4().simple().to_string()),
            projection,
            generation: Arc::default(),
        }
    }

    /// Records `events` of a change made by this process's actors in `tx`.
    pub async fn record(
        &self,
        tx: &mut Box<dyn Transaction>,
        events: Vec<NewEvent>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.append(tx, events, now, Some(&self.origin)).await
    }

    /// Records the events of several changes made by this process's actors in `tx` (a group
    /// commit, see `scheduling::group_commit`): the projections run once over all of them, at
    /// `now` (the latest of the changes' instants), and the outbox rows are written together,
    /// each with its own change's instant and request.
    pub async fn record_all(
        &self,
        tx: &mut Box<dyn Transaction>,
        events: Vec<Recorded>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let (events, stamps): (Vec<NewEvent>, Vec<_>) = events
            .into_iter()
            .map(|recorded| (recorded.event, (recorded.at, recorded.request_id)))
            .unzip();
        self.projection.record(tx, &events, now).await?;
        let rows = events
            .into_iter()
            .zip(stamps)
            .map(|(event, (at, request_id))| (event, at, request_id))
            .collect();
        outbox::append_all(tx.as_mut(), rows, Some(&self.origin)).await
    }

    /// Records `events` of a change made outside the actors (users and resources created) in
    /// `tx`. They have no origin, so every process, this one too, reloads the resources they
    /// concern.
    pub async fn record_unattributed(
        &self,
        tx: &mut Box<dyn Transaction>,
        events: Vec<NewEvent>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        self.append(tx, events, now, None).await
    }

    /// The one place events are written, so everything derived from events sees every one of
    /// them, in the same transaction as the change.
    async fn append(
        &self,
        tx: &mut Box<dyn Transaction>,
        events: Vec<NewEvent>,
        now: DateTime<Utc>,
        origin: Option<&str>,
    ) -> Result<(), StorageError> {
        self.projection.record(tx, &events, now).await?;
        for event in events {
            outbox::append(tx.as_mut(), event, now, origin).await?;
        }
        Ok(())
    }

    /// Tells the tailers, this process's and (through [`relay`]) every other's, that events
    /// were committed. Coalesced: many commits before a tailer looks cost one read.
    pub fn committed(&self) {
        self.changed();
        self.notify.notify_one();
        self.announce.notify_one();
    }

    /// Moves the change count: something may have changed in the database (called after a
    /// commit, before its answer is sent).
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The change count. A read that loads it first and then reads the database saw every
    /// change counted up to that value.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// The resources another server process changed, whose actors here must reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    Resources(Vec<i64>),
    /// Changes to these bookings (with their resources, in event order) only: their actors take
    /// them in as the events tell them, reading again only what the events did not carry.
    Bookings(Vec<(i64, Followed)>),
    /// A change that concerns every resource (the global opening hours).
    Every,
}

/// What to do when another server process changed some resources (their actors here reload).
pub type ForeignChanges = Box<dyn Fn(&Stale) + Send + Sync>;

/// What live updates need from the server above them, handed over when they start.
pub struct Outside {
    /// Called with the resources other server processes changed.
    pub foreign: ForeignChanges,
    /// Reads where resources sit among the groups (for sessions that follow a group).
    pub hierarchy: Arc<dyn HierarchyStore>,
}

/// Records in `tx` that sign-ins of `user` were revoked (all of them, or the one named `login`),
/// so that the sockets opened with them close, in every server process, once it commits. A
/// revocation is no announcement: it bypasses the [`EventWriter`] because nothing derives
/// from it.
pub async fn revoke_sign_in(
    tx: &mut dyn Transaction,
    user: i64,
    login: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    outbox::append(tx, NewEvent::sign_in_revoked(user, login), now, None).await
}

/// Records `events` in `tx`, commits, and wakes the tailer.
pub async fn commit_with(
    mut tx: Box<dyn Transaction>,
    events: Vec<NewEvent>,
    now: DateTime<Utc>,
    writer: &EventWriter,
) -> Result<(), StorageError> {
    writer.record(&mut tx, events, now).await?;
    tx.commit().await?;
    writer.committed();
    Ok(())
}

/// The channel on which processes sharing a database wake each other's tailers.
pub const SIGNAL_CHANNEL: &str = "rr_events";

/// Least time between two raises of one process: under load, commits coalesce into at most one
/// `NOTIFY` per gap (each is a small transaction of its own), for at most this much more delay.
const RAISE_GAP: Duration = Duration::from_millis(2);

/// Carries commits between the processes on one PostgreSQL database: after each local commit
/// (coalesced, at most one raise per [`RAISE_GAP`]) it raises [`SIGNAL_CHANNEL`] with this
/// process's origin, and every raise by another process wakes this process's tailer. Raises are
/// sent after commit, never inside the change's transaction (see [`tailer`] for why). If the
/// listening connection ends it is opened again; meanwhile, and for any raise lost, the tailer's
/// poll is the safety net. Returns at once on SQLite (one process).
async fn relay(db: Db, writer: EventWriter) {
    let origin = writer.origin.clone();
    loop {
        let (own, wake) = (origin.clone(), writer.notify.clone());
        let on_signal = Box::new(move |payload: &str| {
            if payload != &*own {
                wake.notify_one();
            }
        });
        match db.signal(SIGNAL_CHANNEL, on_signal).await {
            Ok(None) => return,
            Ok(Some(signal)) => {
                // Commits of other processes while nothing listened: look now.
                writer.notify.notify_one();
                loop {
                    tokio::select! {
                        () = writer.announce.notified() => {
                            if let Err(error) = signal.raise(&origin).await {
                                tracing::warn!(%error, "cannot wake the other server processes; they will poll");
                                break;
                            }
                            // Commits meanwhile leave one permit: one raise after the gap.
                            tokio::time::sleep(RAISE_GAP).await;
                        }
                        () = signal.ended() => break,
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot listen for other server processes' events; polling only"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The live-update machinery of one server: the notifier on its own thread, the tailer beside
/// it, and what sessions need.
pub struct Events {
    pub notifier: Addr<Notifier>,
    pub writer: EventWriter,
    pub metrics: SocketMetrics,
    pub config: LiveConfig,
    pub db: Db,
    /// The server's clock, which sockets' token expiries follow.
    pub clock: Arc<dyn Clock>,
    /// Where resources sit among the groups, as the tailer last read it.
    pub hierarchy: LiveHierarchy,
    arbiter: Mutex<Option<Arbiter>>,
}

impl Events {
    /// Starts the notifier and the tailer at the current end of the outbox. Must be called
    /// inside a running actix System.
    /// `pruner` runs on the tailer's loop (it prunes events once read, and every other table);
    /// the tailer wakes on `writer`'s commits, tells its projection of every committed batch,
    /// calls `outside.foreign` with the resources other server processes changed, and keeps the
    /// hierarchy read through `outside.hierarchy` current.
    pub async fn start(
        db: Db,
        clock: Arc<dyn Clock>,
        pruner: Pruner,
        config: LiveConfig,
        metrics: &Metrics,
        writer: EventWriter,
        outside: Outside,
    ) -> Result<Arc<Events>, StorageError> {
        let position = tailer::start_position(&db).await?;
        // Read after the position: a change committed in between is read here and its event
        // is tailed too (reading the hierarchy again is harmless).
        let hierarchy = LiveHierarchy::load(outside.hierarchy).await?;
        let arbiter = Arbiter::new();
        let sockets_per_user = config.max_sockets_per_user;
        let notifier = Notifier::start_in_arbiter(&arbiter.handle(), move |_| {
            Notifier::new(position, MAX_SUBSCRIPTIONS, sockets_per_user)
        });
        let tailer = tailer::Tailer::new(
            db.clone(),
            notifier.clone(),
            writer.clone(),
            tailer::Followers {
                foreign: outside.foreign,
                hierarchy: hierarchy.clone(),
            },
            config.clone(),
            position,
            pruner,
        );
        arbiter.spawn(tailer.run());
        arbiter.spawn(relay(db.clone(), writer.clone()));
        Ok(Arc::new(Events {
            notifier,
            writer,
            metrics: SocketMetrics::register(metrics),
            config,
            db,
            clock,
            hierarchy,
            arbiter: Mutex::new(Some(arbiter)),
        }))
    }

    /// Closes every session with a "going away" close frame (the server is stopping).
    pub fn close_sessions(&self) {
        self.notifier.do_send(Shutdown);
    }

    /// Stops the notifier and the tailer.
    pub fn stop(&self) {
        let arbiter = self.arbiter.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(arbiter) = arbiter {
            arbiter.stop();
        }
    }
}
