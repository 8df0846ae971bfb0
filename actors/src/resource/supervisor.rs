//! The supervisor of the resource actors: starts them lazily, replaces dead ones, lets idle
//! ones stop, and wakes stopped ones when their time-driven work falls due.
//!
//! Actors run on a small fixed set of arbiters (threads), chosen by resource id. A registry
//! maps each resource to its live actor and the snapshot that actor publishes. An actor that
//! stops (idle, deleted, or after a failed load) leaves the registry and hands its next
//! deadline to the supervisor, whose single timer starts it again when that deadline comes. An
//! actor that crashed (a panic kills its task) is noticed on the next send, replaced by a fresh
//! one loaded from the store, and the message is delivered to the replacement.
//!
//! At start-up `restore_timers` reads each resource's earliest deadline once. `follow` is how a
//! process learns of the work another process sharing its database created: it starts (or
//! reloads) the actors of the resources that process changed, so their timers are armed here
//! too, and a hold, offer, check-in window or reminder created on a process that then dies
//! still falls due on time on every survivor. The same timer may fire on several processes; the
//! store's transitions are conditional on the state they leave (`… WHERE status = …`), so
//! exactly one of them takes effect and announces it. `refresh` and
//! `refresh_all` make live actors reload their state (messages sent later are handled after the
//! reload); `refreshed` also waits until they have, so their snapshots are current when it
//! returns. `follow_bookings` is the cheap form of `follow` for changes to bookings only: the
//! actors take in those bookings as their events tell them (re-reading only what the events did
//! not carry), not the whole resource.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use actix::prelude::*;
use arc_swap::ArcSwapOption;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use super::actor::{ResourceActor, ResourceMessage};
use super::error::ScheduleError;
use super::follow::Followed;
use super::messages::{FollowBookings, Ready};
use super::shared::{ActorConfig, Shared, StopListener};
use super::store::{ScheduleStore, StoreError};
use super::types::{ResourceId, ScheduleSnapshot};
use crate::clock::Clock;
use crate::request::Traced;

struct Entry {
    addr: Addr<ResourceActor>,
    snapshot: Arc<ArcSwapOption<ScheduleSnapshot>>,
    generation: u64,
}

/// Counts kept by the supervisor since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SupervisorStats {
    /// Actors running now.
    pub live: usize,
    /// Actors started (first use, wake-ups, replacements).
    pub started: u64,
    /// Messages whose actor was found dead and that went to a fresh one.
    pub replaced: u64,
}

pub struct ResourceSupervisor {
    pub(super) shared: Arc<Shared>,
    arbiters: Mutex<Vec<Arbiter>>,
    handles: Vec<ArbiterHandle>,
    actors: Mutex<HashMap<ResourceId, Entry>>,
    generations: AtomicU64,
    /// Messages that found their actor dead (crashed, or stopping while idle) and went to a new one.
    replaced: AtomicU64,
    /// Stopped actors to start again at a given instant.
    wakeups: Mutex<BTreeSet<(DateTime<Utc>, ResourceId)>>,
    wakeup_changed: Arc<Notify>,
    stopping: std::sync::atomic::AtomicBool,
}

impl ResourceSupervisor {
    /// Starts the arbiters and the wake-up timer. Must be called inside a running actix System.
    pub fn start(store: Arc<dyn ScheduleStore>, clock: Arc<dyn Clock>, config: ActorConfig) -> Arc<ResourceSupervisor> {
        let arbiters: Vec<Arbiter> = (0..config.threads.max(1)).map(|_| Arbiter::new()).collect();
        let handles = arbiters.iter().map(Arbiter::handle).collect();
        let supervisor = Arc::new_cyclic(|weak| ResourceSupervisor {
            shared: Arc::new(Shared {
                store,
                clock,
                config,
                stops: weak.clone() as Weak<dyn StopListener>,
            }),
            arbiters: Mutex::new(arbiters),
            handles,
            actors: Mutex::new(HashMap::new()),
            generations: AtomicU64::new(0),
            replaced: AtomicU64::new(0),
            wakeups: Mutex::new(BTreeSet::new()),
            wakeup_changed: Arc::new(Notify::new()),
            stopping: std::sync::atomic::AtomicBool::new(false),
        });
        actix::spawn(wakeup_loop(Arc::downgrade(&supervisor)));
        supervisor
    }

    /// Re-arms every resource's pending time-driven work from the store (once, at start-up).
    pub async fn restore_timers(&self) -> Result<usize, StoreError> {
        let deadlines = self.shared.store.pending_deadlines().await?;
        let count = deadlines.len();
        for (resource, at) in deadlines {
            self.schedule_wakeup(resource, at);
        }
        Ok(count)
    }

    /// The live actor of `resource`, started if needed.
    fn entry(&self, resource: ResourceId) -> (Addr<ResourceActor>, Arc<ArcSwapOption<ScheduleSnapshot>>, u64) {
        let mut actors = self.actors.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = actors.get(&resource).filter(|e| e.addr.connected()) {
            return (entry.addr.clone(), entry.snapshot.clone(), entry.generation);
        }
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let snapshot = Arc::new(ArcSwapOption::empty());
        let arbiter = &self.handles[resource.unsigned_abs() as usize % self.handles.len()];
        let actor = ResourceActor::new(resource, generation, self.shared.clone(), snapshot.clone());
        let addr = ResourceActor::start_in_arbiter(arbiter, move |_| actor);
        actors.insert(
            resource,
            Entry {
                addr: addr.clone(),
                snapshot: snapshot.clone(),
                generation,
            },
        );
        (addr, snapshot, generation)
    }

    /// Removes the registry entry of `resource` if it still belongs to `generation`.
    fn forget(&self, resource: ResourceId, generation: u64) {
        let mut actors = self.actors.lock().unwrap_or_else(|p| p.into_inner());
        if actors.get(&resource).is_some_and(|e| e.generation == generation) {
            actors.remove(&resource);
        }
    }

    /// Sends `message` to the actor of `resource`, starting or replacing the actor as needed.
    /// A message the store refused because the actor's copy was stale (another process had
    /// changed the resource a moment before, see [`ScheduleError::refused_a_stale_copy`]) is sent
    /// once more: nothing was stored, the actor has reloaded, and the client gets the answer the
    /// stored state gives (its booking, or the refusal a single process would have made)
    /// instead of a 409 that only asks it to try again.
    pub async fn send<M, T>(&self, resource: ResourceId, message: M) -> Result<T, ScheduleError>
    where
        M: ResourceMessage<Result = Result<T, ScheduleError>> + Clone + Send + 'static,
        T: Send + 'static,
        ResourceActor: Handler<Traced<M>>,
    {
        let (mut replaced, mut resent) = (false, false);
        loop {
            let (addr, _, generation) = self.entry(resource);
            match addr.send(Traced::here(message.clone())).await {
                Ok(Err(ScheduleError::ResourceNotFound)) => {
                    self.forget(resource, generation);
                    return Err(ScheduleError::ResourceNotFound);
                }
                Ok(Err(error)) if error.refused_a_stale_copy() && !resent => resent = true,
                Ok(result) => return result,
                // The actor died before handling the message (a crash, or it was stopping).
                Err(MailboxError::Closed) if !replaced => {
                    replaced = true;
                    self.replaced.fetch_add(1, Ordering::Relaxed);
                    self.forget(resource, generation);
                }
                Err(MailboxError::Closed | MailboxError::Timeout) => break,
            }
        }
        Err(ScheduleError::Unavailable(format!(
            "the actor of resource {resource} is not answering"
        )))
    }

    /// The latest published schedule of `resource`, loading the actor if needed.
    pub async fn snapshot(&self, resource: ResourceId) -> Result<Arc<ScheduleSnapshot>, ScheduleError> {
        let (_, snapshot, _) = self.entry(resource);
        if let Some(current) = snapshot.load_full() {
            return Ok(current);
        }
        self.send(resource, Ready).await?;
        let (_, snapshot, _) = self.entry(resource);
        snapshot
            .load_full()
            .ok_or_else(|| ScheduleError::Unavailable(format!("resource {resource} is restarting")))
    }

    /// Makes the live actors of `resources` reload from the store (after a change made outside
    /// them, such as a tag renamed everywhere); resources without a live actor load fresh anyway.
    /// Messages sent afterwards are handled after the reload.
    pub fn refresh(&self, resources: &[ResourceId]) {
        self.send_refresh(Some(resources));
    }

    /// After other processes changed `resources`: live actors reload, and actors are started for
    /// the others (they load, arm their timers, and stop when idle, handing their deadline to the
    /// supervisor), so this process fires their time-driven work if the other process cannot.
    pub fn follow(&self, resources: &[ResourceId]) {
        let live = self.send_refresh(Some(resources));
        for resource in resources {
            if !live.iter().any(|(id, _)| id == resource) {
                self.entry(*resource);
            }
        }
    }

    /// After other processes changed these bookings (with their resources, in event order):
    /// the actors of their resources take in just those bookings ([`FollowBookings`]), started
    /// first where none is live (a started actor loads the whole resource and arms its timers,
    /// as in [`follow`](Self::follow)).
    pub fn follow_bookings(&self, changed: &[(ResourceId, Followed)]) {
        let mut by_resource: BTreeMap<ResourceId, Vec<Followed>> = BTreeMap::new();
        for (resource, followed) in changed {
            by_resource.entry(*resource).or_default().push(followed.clone());
        }
        for (resource, followed) in by_resource {
            let (addr, ..) = self.entry(resource);
            addr.do_send(FollowBookings(followed));
        }
    }

    /// Makes every live actor reload from the store (after a change that concerns all resources,
    /// such as the global opening hours); stopped actors load fresh when next started.
    pub fn refresh_all(&self) {
        self.send_refresh(None);
    }

    /// [`refresh`](Self::refresh) (`None`: [`refresh_all`](Self::refresh_all)), returning once
    /// those actors have reloaded, so their published snapshots are current: a client that made
    /// the change reads it back.
    pub async fn refreshed(&self, resources: Option<&[ResourceId]>) {
        let reloading = self.send_refresh(resources);
        futures::future::join_all(reloading.iter().map(|(_, addr)| addr.send(Ready))).await;
    }

    /// Sends `Refresh` to the live actors among `resources` (`None`: all); those actors.
    fn send_refresh(&self, resources: Option<&[ResourceId]>) -> Vec<(ResourceId, Addr<ResourceActor>)> {
        let actors = self.actors.lock().unwrap_or_else(|p| p.into_inner());
        let entries: Vec<(ResourceId, &Entry)> = match resources {
            Some(resources) => resources
                .iter()
                .filter_map(|r| actors.get(r).map(|entry| (*r, entry)))
                .collect(),
            None => actors.iter().map(|(r, entry)| (*r, entry)).collect(),
        };
        entries
            .into_iter()
            .filter(|(_, entry)| entry.addr.connected())
            .map(|(resource, entry)| {
                entry.addr.do_send(super::messages::Refresh);
                (resource, entry.addr.clone())
            })
            .collect()
    }

    fn schedule_wakeup(&self, resource: ResourceId, at: DateTime<Utc>) {
        self.wakeups
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((at, resource));
        self.wakeup_changed.notify_one();
    }

    /// What the supervisor has done so far, for metrics.
    pub fn stats(&self) -> SupervisorStats {
        SupervisorStats {
            live: self.live_actors(),
            started: self.generations.load(Ordering::Relaxed),
            replaced: self.replaced.load(Ordering::Relaxed),
        }
    }

    /// Number of live actors (for metrics and tests).
    pub fn live_actors(&self) -> usize {
        self.actors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|e| e.addr.connected())
            .count()
    }

    /// Stops every actor and arbiter.
    pub fn shutdown(&self) {
        self.stopping.store(true, Ordering::Release);
        self.wakeup_changed.notify_one();
        self.actors.lock().unwrap_or_else(|p| p.into_inner()).clear();
        for arbiter in self.arbiters.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            arbiter.stop();
            let _ = arbiter.join();
        }
    }
}

impl StopListener for ResourceSupervisor {
    fn actor_stopped(&self, resource: ResourceId, generation: u64, next_deadline: Option<DateTime<Utc>>) {
        self.forget(resource, generation);
        if let Some(at) = next_deadline {
            self.schedule_wakeup(resource, at);
        }
    }
}

/// Starts stopped actors whose deadline has come. One timer for all of them: it sleeps until
/// the earliest wake-up, or until an earlier one is added.
async fn wakeup_loop(supervisor: Weak<ResourceSupervisor>) {
    loop {
        let Some(this) = supervisor.upgrade() else { return };
        if this.stopping.load(Ordering::Acquire) {
            return;
        }
        let now = this.shared.clock.now();
        let (due, next) = {
            let mut wakeups = this.wakeups.lock().unwrap_or_else(|p| p.into_inner());
            let later = wakeups.split_off(&(now, ResourceId::MAX));
            let due: Vec<ResourceId> = std::mem::replace(&mut *wakeups, later)
                .into_iter()
                .map(|(_, r)| r)
                .collect();
            (due, wakeups.first().map(|(at, _)| *at))
        };
        for resource in due {
            // Starting the actor is enough: on load it runs the work that is due.
            this.entry(resource);
        }
        let sleep = next.map(|at| this.shared.clock.sleep_until(at));
        let notify = this.wakeup_changed.clone();
        let changed = notify.notified();
        // A manual clock may jump without notice; look again at least every minute.
        let clock_lapse = tokio::time::sleep(Duration::from_secs(60));
        drop(this);
        match sleep {
            Some(sleep) => {
                tokio::select! {
                    _ = sleep => {}
                    _ = changed => {}
                    _ = clock_lapse => {}
                }
            }
            None => {
                tokio::select! {
                    _ = changed => {}
                    _ = clock_lapse => {}
                }
            }
        }
    }
}
