//! The resource actor: the single writer of one resource's schedule and waitlist.
//!
//! Every message is handled to completion before the next one is looked at, *including its
//! database write*: writing handlers return an [`AtomicResponse`], which actix runs with
//! `ctx.wait`, so the mailbox (and the actor's timers) pause until the write has committed and
//! the in-memory state is updated. A check-then-write race on one resource is therefore
//! impossible inside a process; across processes the database's overlap constraint refuses the
//! loser, and a change planned on a row another process has changed meanwhile is refused by the
//! store ([`StoreError::Stale`], a 409 for the client); either makes the actor reload its state.
//!
//! Every change is a batch of [`Change`]s planned on the in-memory state ([`state`]), stored in
//! one transaction by [`commit`](ResourceActor::commit), then applied to the state. A batch that
//! frees a slot carries the waitlist offers for it, so freeing and offering are one step.
//!
//! The in-memory state is a cache of the store, rebuilt on (re)start and whenever another process
//! changed the resource. **After every (re)load the actor offers the slots that are free to the
//! waiting entries** ([`offer_free_slots`](ResourceActor::offer_free_slots)), in the same atomic
//! section, as an ordinary batch: a slot freed by a change this actor did not see (another
//! process's cancellation racing a join made here, a row changed behind the server's back) is
//! offered by whichever actor loads last, so no waiting entry stays waiting for a free slot.
//! Two processes doing it at once are kept apart by the store: the hold cannot overlap (the
//! exclusion constraint), the entry is offered only while it is still waiting; the loser reloads
//! without offering again (the winner's events reload it once more), so refusals never loop.
//! When nothing waits this costs nothing. After every change the actor publishes an immutable
//! [`ScheduleSnapshot`] that readers use without messaging it.
//! A resource's part of a batch over several resources ([`crate::resource::batch`]) is the one
//! message whose atomic section spans more than its own write: once prepared, the actor holds
//! still until the coordinator has stored the whole batch (or given up), bounded by a timeout,
//! and then applies what was stored like any other commit. The invariants above hold through it:
//! nothing else is handled between the check and the write.
//!
//! Time-driven work (bookings that end, holds and offers that lapse, no-shows, unanswered
//! requests, maintenance that ends) runs from one timer armed for the next deadline.

mod approvals;
mod batch;
mod booking;
mod holds;
mod resource_admin;
mod state;
mod traced;
mod waitlist;

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use arc_swap::ArcSwapOption;
use chrono::{DateTime, Utc};
use tracing::Instrument;

use super::error::ScheduleError;
use super::shared::Shared;
pub use super::shared::Timings;
use super::store::{Applied, Change, Outcome, StoreError, StoreResult};
use super::types::{BookingStatus, ResourceId, ScheduleSnapshot};
use crate::request::RequestId;
use state::Loaded;
pub use traced::ResourceMessage;

type Reply<T> = AtomicResponse<ResourceActor, Result<T, ScheduleError>>;

fn reply<T: 'static>(result: Result<T, ScheduleError>) -> Reply<T> {
    AtomicResponse::new(Box::pin(fut::ready(result)))
}

/// What a (re)load does once the state is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnLoad {
    /// Offers the slots that are free to the waiting entries: the invariant of every load.
    OfferFreeSlots,
    /// Only reads: the load after the store refused those offers (or left their outcome unknown).
    /// The refusal was another process's concurrent write, whose events reload this actor again
    /// (offering then), or a failing store, which a later load retries: never in a loop.
    JustRead,
}

enum State {
    Loading,
    Ready(Box<Loaded>),
    /// The resource does not exist (or was deleted).
    Missing,
    /// Loading failed; the actor answers with this error and stops.
    Failed(String),
}

pub struct ResourceActor {
    id: ResourceId,
    generation: u64,
    shared: Arc<Shared>,
    state: State,
    timer: Option<SpawnHandle>,
    last_message: Instant,
    published: Arc<ArcSwapOption<ScheduleSnapshot>>,
    /// The request whose message is being handled, if any (see [`traced`]): its writes record it.
    request_id: Option<RequestId>,
}

impl ResourceActor {
    pub(super) fn new(
        id: ResourceId,
        generation: u64,
        shared: Arc<Shared>,
        published: Arc<ArcSwapOption<ScheduleSnapshot>>,
    ) -> ResourceActor {
        ResourceActor {
            id,
            generation,
            shared,
            state: State::Loading,
            timer: None,
            last_message: Instant::now(),
            published,
            request_id: None,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// The loaded state, or why there is none.
    fn loaded(&self) -> Result<&Loaded, ScheduleError> {
        match &self.state {
            State::Ready(loaded) => Ok(loaded),
            State::Missing => Err(ScheduleError::ResourceNotFound),
            State::Failed(why) => Err(ScheduleError::Unavailable(why.clone())),
            State::Loading => Err(ScheduleError::Unavailable("resource is loading".into())),
        }
    }

    fn loaded_mut(&mut self) -> Option<&mut Loaded> {
        match &mut self.state {
            State::Ready(loaded) => Some(loaded),
            _ => None,
        }
    }

    /// Counts a message as activity and lets it through, unless the actor has no usable state;
    /// a failed or missing actor stops after answering so the supervisor starts a fresh one.
    fn on_message(&mut self, ctx: &mut Context<Self>) -> Result<(), ScheduleError> {
        self.last_message = Instant::now();
        let usable = self.loaded().map(drop);
        if usable.is_err() {
            // Not `ctx.stop()` right away: a reply still waiting in the context would be
            // dropped with it. Stop once the answer is out.
            ctx.run_later(std::time::Duration::ZERO, |_, ctx| ctx.stop());
        }
        usable
    }

    /// (Re)loads the state from the store and offers the slots that are free to the waiting
    /// entries; the mailbox waits meanwhile.
    fn reload(&mut self, ctx: &mut Context<Self>) {
        self.load(ctx, OnLoad::OfferFreeSlots);
    }

    /// (Re)loads the state from the store, then does what `then` says; the mailbox waits
    /// meanwhile.
    fn load(&mut self, ctx: &mut Context<Self>, then: OnLoad) {
        let load = self.with_timeout(self.shared.store.load(self.id));
        ctx.wait(load.into_actor(self).map(move |result, act, ctx| {
            act.state = match result {
                Ok(Some(loaded)) => State::Ready(Box::new(Loaded::new(loaded))),
                Ok(None) => State::Missing,
                Err(error) => {
                    tracing::warn!(resource = act.id, %error, "cannot load resource");
                    State::Failed(error.to_string())
                }
            };
            if then == OnLoad::OfferFreeSlots && act.offer_free_slots(ctx) {
                // The write ends, like every write, with `after_change`.
                return;
            }
            act.after_change(ctx);
        }));
    }

    /// Offers the slots free now to the waiting entries, exactly as a batch freeing them would
    /// have (see [`commit`](Self::commit)), and stores the offers inside the atomic section.
    /// False, with nothing started, when there is nothing to offer (at once when nothing waits).
    /// A refused write reloads without offering (see [`OnLoad::JustRead`]).
    fn offer_free_slots(&mut self, ctx: &mut Context<Self>) -> bool {
        let now = self.now();
        let offers = match self.loaded() {
            Ok(loaded) => self.offers_after(loaded, &[], now),
            Err(_) => return false,
        };
        if offers.is_empty() {
            return false;
        }
        let write = self.write(offers, now, OnLoad::JustRead, |_, _| Ok(()));
        ctx.wait(write.map(|result, act, _| {
            if let Err(error) = result {
                tracing::info!(resource = act.id, %error, "offering free slots was refused; the state was reloaded");
            }
        }));
        true
    }

    /// The waitlist offers of the slots free once `changes` are stored on `loaded`, numbered to
    /// follow them in one batch.
    fn offers_after(&self, loaded: &Loaded, changes: &[Change], now: DateTime<Utc>) -> Vec<Change> {
        let config = &self.shared.config;
        let plan = |state: &Loaded| state.offers(now, &config.rules, &config.timings, changes.len());
        match changes {
            // Nothing to apply first: no copy of the state.
            [] => plan(loaded),
            // Nobody will be waiting (the usual case): nothing to offer, and no copy of the
            // state, which costs a booking as much as the resource has bookings, to find out.
            _ if !loaded.waits_after(changes) => Vec::new(),
            _ => plan(&loaded.after(changes, now)),
        }
    }

    /// Publishes the new state to readers and re-arms the timer for the next deadline; work
    /// that is already due is started at once.
    fn after_change(&mut self, ctx: &mut Context<Self>) {
        self.published
            .store(self.loaded().ok().map(|loaded| Arc::new(loaded.snapshot())));
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        let Some(deadline) = self.loaded().ok().and_then(Loaded::next_deadline) else {
            return;
        };
        if deadline <= self.now() {
            self.run_due_work(ctx);
            return;
        }
        let sleep = self.shared.clock.sleep_until(deadline);
        self.timer = Some(ctx.spawn(sleep.into_actor(self).map(|(), act, ctx| {
            act.timer = None;
            act.run_due_work(ctx);
        })));
    }

    /// Runs the time-driven work that is due, inside the atomic section.
    fn run_due_work(&mut self, ctx: &mut Context<Self>) {
        let work = self.due_work();
        ctx.wait(work.map(|result, act, ctx| {
            if let Err(error) = result {
                // Retried from a fresh load a little later rather than in a tight loop.
                tracing::warn!(resource = act.id, %error, "time-driven work failed; reloading");
                ctx.run_later(std::time::Duration::from_secs(1), |act, ctx| act.reload(ctx));
            }
        }));
    }

    /// The time-driven work due now, resolving to the number of ended bookings it expired.
    fn due_work(&mut self) -> ResponseActFuture<Self, Result<usize, ScheduleError>> {
        let now = self.now();
        let changes = match self.loaded() {
            Ok(loaded) => loaded.due(now),
            Err(_) => Vec::new(),
        };
        if changes.is_empty() {
            return Box::pin(fut::ready(Ok(0)));
        }
        let expired = changes
            .iter()
            .filter(|c| {
                matches!(
                    c,
                    Change::Transition {
                        from: BookingStatus::Active,
                        to: Outcome::Expired,
                        ..
                    }
                )
            })
            .count();
        self.commit(changes, move |_, _| Ok(expired))
    }

    /// Bounds a store call by the configured write timeout.
    fn with_timeout<T: Send + 'static>(&self, future: StoreResult<T>) -> StoreResult<T> {
        let timeout = self.shared.config.write_timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, future).await {
                Ok(result) => result,
                Err(_) => Err(StoreError::Unavailable(format!(
                    "storage did not answer within {timeout:?}"
                ))),
            }
        })
    }

    /// Stores a batch of changes — with the waitlist offers for the slots it frees — inside the
    /// atomic section, applies it to the in-memory state and answers with `answer`. A batch the
    /// database refused (an overlap from another process, a row another process changed) or
    /// whose outcome is unknown (a timeout) reloads the state from the store before the next
    /// message.
    fn commit<R: 'static>(
        &mut self,
        mut changes: Vec<Change>,
        answer: impl FnOnce(&Loaded, &[Applied]) -> Result<R, ScheduleError> + 'static,
    ) -> ResponseActFuture<Self, Result<R, ScheduleError>> {
        let now = self.now();
        if let Ok(loaded) = self.loaded()
            && !changes.iter().any(|c| matches!(c, Change::DeleteResource))
        {
            let offers = self.offers_after(loaded, &changes, now);
            changes.extend(offers);
        }
        self.write(changes, now, OnLoad::OfferFreeSlots, answer)
    }

    /// Stores `changes` as they are (planned at `now`) inside the atomic section, applies them
    /// to the in-memory state and answers with `answer`; a refused write, or one of unknown
    /// outcome, reloads the state (then doing what `after_refusal` says) before the next message.
    fn write<R: 'static>(
        &mut self,
        changes: Vec<Change>,
        now: DateTime<Utc>,
        after_refusal: OnLoad,
        answer: impl FnOnce(&Loaded, &[Applied]) -> Result<R, ScheduleError> + 'static,
    ) -> ResponseActFuture<Self, Result<R, ScheduleError>> {
        // The store call runs in the handler's span and for its request, so the commit is logged
        // under it and the events it appends record the request id.
        let future = RequestId::scope(
            self.request_id.clone(),
            self.shared.store.apply(self.id, now, changes.clone()),
        )
        .instrument(tracing::Span::current());
        let future = self.with_timeout(Box::pin(future));
        Box::pin(future.into_actor(self).map(move |result, act, ctx| {
            let outcome = match (result, act.loaded_mut()) {
                (Ok(applied), Some(loaded)) => {
                    loaded.apply(&changes, &applied, now);
                    answer(loaded, &applied)
                }
                (Ok(_), None) => {
                    // The batch committed but the state it applies to is gone: rebuild it.
                    act.reload(ctx);
                    Err(ScheduleError::Unavailable(
                        "the resource was reloaded during the write".into(),
                    ))
                }
                (Err(error), _) => {
                    act.load(ctx, after_refusal);
                    Err(match error {
                        StoreError::Overlap => ScheduleError::ConflictFoundByStore,
                        StoreError::DuplicateName => ScheduleError::DuplicateName(
                            act.loaded().map(|l| l.resource.name.clone()).unwrap_or_default(),
                        ),
                        StoreError::Stale(row) => {
                            tracing::info!(
                                resource = act.id,
                                ?row,
                                "changed by another process meanwhile; reloading"
                            );
                            ScheduleError::Stale(row)
                        }
                        StoreError::Unavailable(why) => ScheduleError::Unavailable(why),
                        StoreError::Deadlock => ScheduleError::Unavailable(StoreError::Deadlock.to_string()),
                        StoreError::Other(why) => ScheduleError::Store(why),
                    })
                }
            };
            act.after_change(ctx);
            outcome
        }))
    }
}

impl Actor for ResourceActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.shared.config.mailbox_capacity);
        self.reload(ctx);
        let idle_timeout = self.shared.config.idle_timeout;
        ctx.run_interval(idle_timeout / 2, move |act, ctx| {
            if act.last_message.elapsed() >= idle_timeout {
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        self.published.store(None);
        let next = self.loaded().ok().and_then(Loaded::next_deadline);
        if let Some(supervisor) = self.shared.stops.upgrade() {
            supervisor.actor_stopped(self.id, self.generation, next);
        }
    }
}
