//! Live updates: events written to an outbox with the change they describe, tailed after
//! commit, fanned out by the notifier actor to WebSocket sessions (`/ws`).
//!
//! ```text
//! store transaction ──append──▶ events (outbox) ──tail──▶ Notifier ──queue──▶ session ──▶ socket
//!        └─commit──wake──────────────────────────────┘ (other processes: poll)
//! ```
//!
//! - [`event`]: the message types and who receives each.
//! - [`derived`]: what else an event writes in its transaction (in-app notifications, e-mail,
//!   webhook deliveries).
//! - [`outbox`]: the `events` table — append, read, prune.
//! - [`tailer`]: reads committed events in order (gap-safe) and publishes them.
//! - [`session`]: one WebSocket connection: replay, live delivery, subscriptions, pings.
//! - [`protocol`]: what clients may send.
//! - [`metrics`]: socket counts for Prometheus and `/ready`.
//!
//! Invariants: an event is appended in the same transaction as its change, so it exists if and
//! only if the change committed; nothing is sent from inside a request, so a failed send never
//! fails a committed request; every event reaches sockets through the tailer, whichever process
//! made it.

pub mod derived;
pub mod event;
pub mod metrics;
pub mod outbox;
pub mod protocol;
pub mod session;
pub mod tailer;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::retention::Pruner;
use actix::prelude::*;
use reserver_actors::Clock;
use reserver_actors::notifier::{Notifier, Shutdown};
use tokio::sync::Notify;

pub use event::NewEvent;
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

/// This server's side of the outbox: the name stamped on the events its actors write (so other
/// processes know to reload those resources, and this one knows it need not), whether their
/// changes write e-mail (`EMAIL_ENABLED`), and the tailer's wake-up. Cheap to clone.
#[derive(Clone)]
pub struct Wake {
    notify: Arc<Notify>,
    origin: Arc<str>,
    mail: bool,
}

impl Wake {
    pub fn new(mail: bool) -> Wake {
        Wake {
            notify: Arc::default(),
            origin: Arc::from(uuid::Uuid::new_v4().simple().to_string()),
            mail,
        }
    }

    /// Changes committed through this wake-up write the e-mails their events give.
    pub fn mail(&self) -> bool {
        self.mail
    }

    /// Tells the tailer that events were committed. Coalesced: many commits before the tailer
    /// looks cost one read.
    pub fn committed(&self) {
        self.notify.notify_one();
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// The resources another server process changed, whose actors here must reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    Resources(Vec<i64>),
    /// A change that concerns every resource (the global opening hours).
    Every,
}

/// What to do when another server process changed some resources (their actors here reload).
pub type ForeignChanges = Arc<std::sync::OnceLock<Box<dyn Fn(&Stale) + Send + Sync>>>;

/// What to do with each batch of committed events, whichever process made them (the webhook
/// dispatcher is woken for the events it announces).
pub type CommittedHook = Arc<std::sync::OnceLock<Box<dyn Fn(&[outbox::StoredEvent]) + Send + Sync>>>;

/// What the tailer does with what it reads, besides publishing it; set once at start-up.
#[derive(Clone, Default)]
pub struct Reactions {
    pub foreign: ForeignChanges,
    pub committed: CommittedHook,
}

/// Records `events` in `tx`: appends them to the outbox and writes what is derived from them
/// (see [`derived`]). The one place events are written, so everything derived from events sees
/// every one of them, in the same transaction as the change. Without `wake` (changes made
/// outside the actors: users and resources created) the events have no origin and give no
/// e-mail (none of those events is mailed).
pub async fn record(
    tx: &mut Box<dyn Transaction>,
    events: Vec<NewEvent>,
    now: chrono::DateTime<chrono::Utc>,
    wake: Option<&Wake>,
) -> Result<(), StorageError> {
    derived::record(tx, &events, now, wake.is_some_and(Wake::mail)).await?;
    for event in events {
        outbox::append(tx.as_mut(), event, now, wake.map(Wake::origin)).await?;
    }
    Ok(())
}

/// Records in `tx` that sign-ins of `user` were revoked (all of them, or the one named `login`),
/// so that the sockets opened with them close, in every server process, once it commits. A
/// revocation is no announcement: it bypasses [`record`] because nothing derives from it.
pub async fn revoke_sign_in(
    tx: &mut dyn Transaction,
    user: i64,
    login: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StorageError> {
    outbox::append(tx, NewEvent::sign_in_revoked(user, login), now, None).await
}

/// Records `events` in `tx`, commits, and wakes the tailer.
pub async fn commit_with(
    mut tx: Box<dyn Transaction>,
    events: Vec<NewEvent>,
    now: chrono::DateTime<chrono::Utc>,
    wake: &Wake,
) -> Result<(), StorageError> {
    record(&mut tx, events, now, Some(wake)).await?;
    tx.commit().await?;
    wake.committed();
    Ok(())
}

/// The live-update machinery of one server: the notifier on its own thread, the tailer beside
/// it, and what sessions need.
pub struct Events {
    pub notifier: Addr<Notifier>,
    pub wake: Wake,
    pub metrics: SocketMetrics,
    pub config: LiveConfig,
    pub db: Db,
    /// The server's clock, which sockets' token expiries follow.
    pub clock: Arc<dyn Clock>,
    reactions: Reactions,
    arbiter: Mutex<Option<Arbiter>>,
}

impl Events {
    /// Starts the notifier and the tailer at the current end of the outbox. Must be called
    /// inside a running actix System.
    /// `pruner` runs on the tailer's loop (it prunes events once read, and every other table).
    pub async fn start(
        db: Db,
        clock: Arc<dyn Clock>,
        pruner: Pruner,
        config: LiveConfig,
        metrics: &Metrics,
        mail: bool,
    ) -> Result<Arc<Events>, StorageError> {
        let position = outbox::latest(&db).await?;
        let arbiter = Arbiter::new();
        let sockets_per_user = config.max_sockets_per_user;
        let notifier = Notifier::start_in_arbiter(&arbiter.handle(), move |_| {
            Notifier::new(position, MAX_SUBSCRIPTIONS, sockets_per_user)
        });
        let wake = Wake::new(mail);
        let reactions = Reactions::default();
        let tailer = tailer::Tailer::new(
            db.clone(),
            notifier.clone(),
            wake.clone(),
            reactions.clone(),
            config.clone(),
            position,
            pruner,
        );
        arbiter.spawn(tailer.run());
        Ok(Arc::new(Events {
            notifier,
            wake,
            metrics: SocketMetrics::register(metrics),
            config,
            db,
            clock,
            reactions,
            arbiter: Mutex::new(Some(arbiter)),
        }))
    }

    /// Registers what to do with the resources that another server process changed: the tailer
    /// calls it for every such batch of events (once; later calls are ignored).
    pub fn on_foreign_change(&self, react: impl Fn(&Stale) + Send + Sync + 'static) {
        let _ = self.reactions.foreign.set(Box::new(react));
    }

    /// Registers what to do with every batch of committed events, read in order by the tailer
    /// after commit (once; later calls are ignored).
    pub fn on_committed(&self, react: impl Fn(&[outbox::StoredEvent]) + Send + Sync + 'static) {
        let _ = self.reactions.committed.set(Box::new(react));
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
