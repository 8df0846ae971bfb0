//! The resource actor: the single writer of one resource's schedule.
//!
//! Every message is handled to completion before the next one is looked at, *including its
//! database write*: handlers that write return an [`AtomicResponse`], which actix runs with
//! `ctx.wait`, so the mailbox (and the actor's timers) pause until the write has committed and
//! the in-memory schedule is updated. A check-then-write race on one resource is therefore
//! impossible inside a process; across processes the database's overlap constraint refuses the
//! loser, which makes the actor reload its state.
//!
//! The in-memory state is a cache of the store, rebuilt on (re)start. After every change the
//! actor publishes an immutable [`ScheduleSnapshot`] that readers use without messaging it.
//! Time-driven work (expiring ended bookings, ending maintenance) runs from one timer armed for
//! the next deadline.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use arc_swap::ArcSwapOption;
use chrono::{DateTime, Utc};

use super::error::ScheduleError;
use super::messages::*;
use super::rules::check_open;
use super::store::{Cancellation, LoadedResource, NewBookings, ResourcePatch, SeriesRecord, StoreError, StoreResult};
use super::supervisor::Shared;
use super::types::{Booking, Maintenance, ReservationId, ResourceId, ResourceInfo, ScheduleSnapshot, UserRef};
use crate::domain::{Interval, RecurrenceRule, Schedule, SeriesEnd, expand};

type Reply<T> = AtomicResponse<ResourceActor, Result<T, ScheduleError>>;

fn reply<T: 'static>(result: Result<T, ScheduleError>) -> Reply<T> {
    AtomicResponse::new(Box::pin(fut::ready(result)))
}

/// The loaded state: the resource and its blocking bookings that have not ended.
struct Loaded {
    resource: ResourceInfo,
    schedule: Schedule<Booking>,
    /// Reservation id → start, to find a booking in the schedule.
    starts: HashMap<ReservationId, DateTime<Utc>>,
}

impl Loaded {
    fn new(loaded: LoadedResource) -> Loaded {
        let mut state = Loaded {
            resource: loaded.info,
            schedule: Schedule::new(),
            starts: HashMap::new(),
        };
        for booking in loaded.bookings {
            state.add(booking);
        }
        state
    }

    fn add(&mut self, booking: Booking) {
        self.starts.insert(booking.id, booking.interval.start());
        if let Err((existing, _)) = self.schedule.insert(booking.interval, booking.clone()) {
            // Impossible with the database constraint in place; keep serving but say so.
            tracing::error!(
                resource = self.resource.id,
                booking = booking.id,
                ?existing,
                "stored bookings overlap"
            );
        }
    }

    fn remove(&mut self, id: ReservationId) -> Option<Booking> {
        let start = self.starts.remove(&id)?;
        self.schedule.remove(start).map(|(_, booking)| booking)
    }

    fn get(&self, id: ReservationId) -> Option<&Booking> {
        self.schedule.get(*self.starts.get(&id)?).map(|(_, booking)| booking)
    }

    fn conflicts(&self, interval: &Interval) -> Vec<Interval> {
        self.schedule.overlapping(interval).map(|(i, _)| i).collect()
    }

    fn snapshot(&self) -> ScheduleSnapshot {
        ScheduleSnapshot {
            resource: self.resource.clone(),
            bookings: self.schedule.iter().map(|(_, b)| b.clone()).collect(),
        }
    }

    /// The next instant at which time-driven work is due.
    fn next_deadline(&self) -> Option<DateTime<Utc>> {
        let next_end = self.schedule.iter().map(|(i, _)| i.end()).min();
        let maintenance_end = self.resource.maintenance.as_ref().and_then(|m| m.until);
        next_end.into_iter().chain(maintenance_end).min()
    }
}

enum State {
    Loading,
    Ready(Loaded),
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

    /// Counts a message as activity and answers it unless the actor has no usable state; a
    /// failed or missing actor stops after answering so the supervisor starts a fresh one.
    fn on_message(&mut self, ctx: &mut Context<Self>) -> Result<(), ScheduleError> {
        self.last_message = Instant::now();
        match self.loaded() {
            Ok(_) => Ok(()),
            Err(error) => {
                // Not `ctx.stop()` right away: a reply still waiting in the context would be
                // dropped with it. Stop once the answer is out.
                ctx.run_later(std::time::Duration::ZERO, |_, ctx| ctx.stop());
                Err(error)
            }
        }
    }

    /// (Re)loads the state from the store; the mailbox waits meanwhile.
    fn reload(&mut self, ctx: &mut Context<Self>) {
        let load = self.with_timeout(self.shared.store.load(self.id));
        ctx.wait(load.into_actor(self).map(|result, act, ctx| {
            act.state = match result {
                Ok(Some(loaded)) => State::Ready(Loaded::new(loaded)),
                Ok(None) => State::Missing,
                Err(error) => {
                    tracing::warn!(resource = act.id, %error, "cannot load resource");
                    State::Failed(error.to_string())
                }
            };
            act.after_change(ctx);
        }));
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

    /// Expires bookings that have ended and ends maintenance whose window is over, inside the
    /// atomic section.
    fn run_due_work(&mut self, ctx: &mut Context<Self>) {
        let work = self.due_work();
        ctx.wait(work.map(|_, _, _| ()));
    }

    /// The time-driven work due now, as a future resolving to the number of bookings expired.
    fn due_work(&mut self) -> ResponseActFuture<Self, Result<usize, ScheduleError>> {
        let now = self.now();
        let Some(loaded) = self.loaded_mut() else {
            return Box::pin(fut::ready(Ok(0)));
        };
        let ended: Vec<ReservationId> = loaded
            .schedule
            .iter()
            .filter(|(i, _)| i.end() <= now)
            .map(|(_, b)| b.id)
            .collect();
        let maintenance_over = loaded
            .resource
            .maintenance
            .as_ref()
            .is_some_and(|m| m.until.is_some_and(|u| u <= now));
        if ended.is_empty() && !maintenance_over {
            return Box::pin(fut::ready(Ok(0)));
        }
        let store = self.shared.store.clone();
        let id = self.id;
        let work = async move {
            if !ended.is_empty() {
                store.expire_bookings(id, ended.clone(), now).await?;
            }
            let resource = if maintenance_over {
                let patch = ResourcePatch {
                    maintenance: Some(None),
                    ..ResourcePatch::default()
                };
                Some(store.update_resource(id, patch, now).await?)
            } else {
                None
            };
            Ok::<_, StoreError>((ended, resource))
        };
        let work = self.with_timeout(Box::pin(work));
        Box::pin(work.into_actor(self).map(|result, act, ctx| match result {
            Ok((ended, resource)) => {
                let count = ended.len();
                if let Some(loaded) = act.loaded_mut() {
                    for id in ended {
                        loaded.remove(id);
                    }
                    if let Some(resource) = resource {
                        loaded.resource = resource;
                    }
                }
                act.after_change(ctx);
                Ok(count)
            }
            Err(error) => {
                // Retried from a fresh load rather than in a tight loop.
                tracing::warn!(resource = act.id, %error, "time-driven work failed; reloading");
                act.schedule_reload_after_failure(ctx);
                Err(ScheduleError::Unavailable(error.to_string()))
            }
        }))
    }

    fn schedule_reload_after_failure(&mut self, ctx: &mut Context<Self>) {
        ctx.run_later(std::time::Duration::from_secs(1), |act, ctx| act.reload(ctx));
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

    /// Runs a store write inside the atomic section and, if it succeeds, `apply`s it to the
    /// in-memory state. A failed write whose outcome is unknown (timeout) or that the database
    /// refused (overlap) reloads the state from the store before the next message.
    fn write<T, R>(
        &mut self,
        future: StoreResult<T>,
        apply: impl FnOnce(&mut Loaded, T) -> R + 'static,
    ) -> ResponseActFuture<Self, Result<R, ScheduleError>>
    where
        T: Send + 'static,
        R: 'static,
    {
        let future = self.with_timeout(future);
        Box::pin(future.into_actor(self).map(move |result, act, ctx| {
            let outcome = match (result, act.loaded_mut()) {
                (Ok(value), Some(loaded)) => Ok(apply(loaded, value)),
                (Ok(_), None) => {
                    // The write committed but the state it applies to is gone: rebuild it.
                    act.reload(ctx);
                    Err(ScheduleError::Unavailable(
                        "the resource was reloaded during the write".into(),
                    ))
                }
                (Err(error), _) => {
                    act.reload(ctx);
                    Err(match error {
                        StoreError::Overlap => ScheduleError::Conflict { existing: Vec::new() },
                        StoreError::DuplicateName => ScheduleError::DuplicateName(
                            act.loaded().map(|l| l.resource.name.clone()).unwrap_or_default(),
                        ),
                        StoreError::Unavailable(why) => ScheduleError::Unavailable(why),
                        StoreError::Other(why) => ScheduleError::Store(why),
                    })
                }
            };
            act.after_change(ctx);
            outcome
        }))
    }

    /// Stores bookings already checked against the rules and the schedule.
    fn store_bookings(
        &mut self,
        user: UserRef,
        intervals: Vec<Interval>,
        series: Option<SeriesRecord>,
        idempotency_key: Option<String>,
    ) -> ResponseActFuture<Self, Result<Booked, ScheduleError>> {
        let new = NewBookings {
            resource: self.id,
            user: user.clone(),
            intervals: intervals.clone(),
            series,
            idempotency_key,
            now: self.now(),
        };
        let future = self.shared.store.insert_bookings(new);
        self.write(future, move |loaded, stored| {
            let bookings: Vec<Booking> = stored
                .into_iter()
                .zip(intervals)
                .map(|(stored, interval)| Booking {
                    id: stored.id,
                    user: user.clone(),
                    interval,
                    created_at: stored.created_at,
                    series: stored.series,
                })
                .collect();
            for booking in &bookings {
                loaded.add(booking.clone());
            }
            Booked {
                bookings,
                resource: loaded.resource.clone(),
            }
        })
    }

    /// Expands a series and checks it: the rules on its slot, and each occurrence against the
    /// schedule and maintenance. Returns the occurrences to book and the conflicting ones.
    fn plan_series(&self, msg: &BookSeries) -> Result<(Vec<Interval>, Vec<Interval>), ScheduleError> {
        let loaded = self.loaded()?;
        let rules = &self.shared.config.rules;
        rules.check_slot(&msg.first, self.now())?;
        check_open(&loaded.resource)?;
        let zone = loaded.resource.timezone;
        let end = match msg.until {
            SeriesUntil::Count(count) => SeriesEnd::AfterCount(count),
            SeriesUntil::Date(date) => SeriesEnd::OnDate(date),
            SeriesUntil::Instant(instant) => SeriesEnd::OnDate(instant.with_timezone(&zone).date_naive()),
            SeriesUntil::Never => SeriesEnd::Never,
        };
        let rule = RecurrenceRule::new(msg.frequency, msg.interval, msg.weekdays.clone(), end)
            .map_err(ScheduleError::Recurrence)?;
        let occurrences =
            expand(&rule, msg.first, zone, rules.max_series_occurrences).map_err(ScheduleError::Recurrence)?;
        let maintenance = loaded.resource.maintenance.as_ref();
        Ok(occurrences.into_iter().partition(|occurrence| {
            loaded.conflicts(occurrence).is_empty() && !maintenance.is_some_and(|m| m.blocks(occurrence))
        }))
    }

    fn cancel(
        &mut self,
        ids: Vec<ReservationId>,
        by: super::types::UserId,
        reason: Option<String>,
    ) -> ResponseActFuture<Self, Result<Cancelled, ScheduleError>> {
        let now = self.now();
        let cancellation = Cancellation {
            resource: self.id,
            reservations: ids.clone(),
            by,
            reason,
            now,
        };
        let future = self.shared.store.cancel_bookings(cancellation);
        self.write(future, move |loaded, ()| {
            let bookings = ids.iter().filter_map(|id| loaded.remove(*id)).collect();
            Cancelled { bookings, at: now }
        })
    }

    fn update(&mut self, patch: ResourcePatch) -> Reply<ResourceInfo> {
        let now = self.now();
        let future = self.shared.store.update_resource(self.id, patch, now);
        AtomicResponse::new(self.write(future, |loaded, resource| {
            loaded.resource = resource.clone();
            resource
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
        if let Some(supervisor) = self.shared.supervisor.upgrade() {
            supervisor.actor_stopped(self.id, self.generation, next);
        }
    }
}

impl Handler<Ready> for ResourceActor {
    type Result = Result<(), ScheduleError>;

    fn handle(&mut self, _: Ready, ctx: &mut Context<Self>) -> Self::Result {
        self.on_message(ctx)
    }
}

impl Handler<Book> for ResourceActor {
    type Result = Reply<Booked>;

    fn handle(&mut self, msg: Book, ctx: &mut Context<Self>) -> Self::Result {
        if let Err(error) = self.on_message(ctx) {
            return reply(Err(error));
        }
        let checked = self.loaded().and_then(|loaded| {
            self.shared
                .config
                .rules
                .check(&loaded.resource, &msg.interval, self.now())?;
            let existing = loaded.conflicts(&msg.interval);
            if existing.is_empty() {
                Ok(())
            } else {
                Err(ScheduleError::Conflict { existing })
            }
        });
        if let Err(error) = checked {
            return reply(Err(error));
        }
        AtomicResponse::new(self.store_bookings(msg.user, vec![msg.interval], None, msg.idempotency_key))
    }
}

impl Handler<BookSeries> for ResourceActor {
    type Result = Reply<SeriesBooked>;

    fn handle(&mut self, msg: BookSeries, ctx: &mut Context<Self>) -> Self::Result {
        if let Err(error) = self.on_message(ctx) {
            return reply(Err(error));
        }
        let (free, conflicting) = match self.plan_series(&msg) {
            Ok(plan) => plan,
            Err(error) => return reply(Err(error)),
        };
        if !conflicting.is_empty() && !msg.skip_conflicts {
            return reply(Err(ScheduleError::SeriesConflict {
                occurrences: conflicting,
            }));
        }
        if free.is_empty() {
            return reply(Err(ScheduleError::NothingToBook));
        }
        let booking = self.store_bookings(msg.user, free, Some(msg.record), msg.idempotency_key);
        AtomicResponse::new(Box::pin(booking.map(move |result, _, _| {
            result.map(|booked| SeriesBooked {
                booked,
                skipped: conflicting,
            })
        })))
    }
}

impl Handler<Cancel> for ResourceActor {
    type Result = Reply<Cancelled>;

    fn handle(&mut self, msg: Cancel, ctx: &mut Context<Self>) -> Self::Result {
        if let Err(error) = self.on_message(ctx) {
            return reply(Err(error));
        }
        let now = self.now();
        let Ok(loaded) = self.loaded() else {
            return reply(Err(ScheduleError::NotActive));
        };
        let Some(target) = loaded.get(msg.reservation) else {
            return reply(Err(ScheduleError::NotActive));
        };
        if target.interval.end() <= now {
            return reply(Err(ScheduleError::AlreadyEnded));
        }
        let ids = match (msg.scope, target.series) {
            (CancelScope::Following, Some(series)) => loaded
                .schedule
                .iter()
                .filter(|(i, b)| {
                    b.series.is_some_and(|s| s.rule_id == series.rule_id) && i.start() >= target.interval.start()
                })
                .map(|(_, b)| b.id)
                .collect(),
            _ => vec![target.id],
        };
        AtomicResponse::new(self.cancel(ids, msg.by, msg.reason))
    }
}

impl Handler<Reschedule> for ResourceActor {
    type Result = Reply<Booked>;

    fn handle(&mut self, msg: Reschedule, ctx: &mut Context<Self>) -> Self::Result {
        if let Err(error) = self.on_message(ctx) {
            return reply(Err(error));
        }
        let now = self.now();
        let Ok(loaded) = self.loaded() else {
            return reply(Err(ScheduleError::NotActive));
        };
        let Some(current) = loaded.get(msg.reservation).cloned() else {
            return reply(Err(ScheduleError::NotActive));
        };
        if current.interval.start() <= now {
            return reply(Err(ScheduleError::AlreadyStarted));
        }
        if let Err(error) = self.shared.config.rules.check(&loaded.resource, &msg.to, now) {
            return reply(Err(error));
        }
        let existing: Vec<Interval> = loaded
            .schedule
            .overlapping(&msg.to)
            .filter(|(_, b)| b.id != current.id)
            .map(|(i, _)| i)
            .collect();
        if !existing.is_empty() {
            return reply(Err(ScheduleError::Conflict { existing }));
        }
        let future = self.shared.store.reschedule(current.id, msg.by, msg.to, now);
        AtomicResponse::new(self.write(future, move |loaded, ()| {
            loaded.remove(current.id);
            let moved = Booking {
                interval: msg.to,
                ..current
            };
            loaded.add(moved.clone());
            Booked {
                bookings: vec![moved],
                resource: loaded.resource.clone(),
            }
        }))
    }
}

impl Handler<ExpireEnded> for ResourceActor {
    type Result = Reply<usize>;

    fn handle(&mut self, _: ExpireEnded, ctx: &mut Context<Self>) -> Self::Result {
        if let Err(error) = self.on_message(ctx) {
            return reply(Err(error));
        }
        AtomicResponse::new(self.due_work())
    }
}

impl Handler<UpdateResource> for ResourceActor {
    type Result = Reply<ResourceInfo>;

    fn handle(&mut self, msg: UpdateResource, ctx: &mut Context<Self>) -> Self::Result {
        if let Err(error) = self.on_message(ctx) {
            return reply(Err(error));
        }
        self.update(msg.0)
    }
}

impl Handler<StartMaintenance> for ResourceActor {
    type Result = Reply<ResourceInfo>;

    fn handle(&mut self, msg: StartMaintenance, ctx: &mut Context<Self>) -> Self::Result {
        if let Err(error) = self.on_message(ctx) {
            return reply(Err(error));
        }
        let maintenance = Maintenance::starting(self.now(), msg.auto_reset_hours);
        self.update(ResourcePatch {
            maintenance: Some(Some(maintenance)),
            ..ResourcePatch::default()
        })
    }
}

impl Handler<EndMaintenance> for ResourceActor {
    type Result = Reply<ResourceInfo>;

    fn handle(&mut self, _: EndMaintenance, ctx: &mut Context<Self>) -> Self::Result {
        if let Err(error) = self.on_message(ctx) {
            return reply(Err(error));
        }
        self.update(ResourcePatch {
            maintenance: Some(None),
            ..ResourcePatch::default()
        })
    }
}

impl Handler<DeleteResource> for ResourceActor {
    type Result = Reply<Cancelled>;

    fn handle(&mut self, msg: DeleteResource, ctx: &mut Context<Self>) -> Self::Result {
        if let Err(error) = self.on_message(ctx) {
            return reply(Err(error));
        }
        let now = self.now();
        let Ok(loaded) = self.loaded() else {
            return reply(Err(ScheduleError::ResourceNotFound));
        };
        let upcoming: Vec<ReservationId> = loaded
            .schedule
            .iter()
            .filter(|(i, _)| i.end() > now)
            .map(|(_, b)| b.id)
            .collect();
        if !upcoming.is_empty() && !msg.cancel_upcoming {
            return reply(Err(ScheduleError::HasUpcomingReservations(upcoming.len())));
        }
        let cancellation = Cancellation {
            resource: self.id,
            reservations: upcoming.clone(),
            by: msg.by,
            reason: Some("Resource deleted".into()),
            now,
        };
        let future = self.shared.store.delete_resource(cancellation);
        let deletion = self.write(future, move |loaded, ()| {
            let bookings = upcoming.iter().filter_map(|id| loaded.remove(*id)).collect();
            Cancelled { bookings, at: now }
        });
        AtomicResponse::new(Box::pin(deletion.map(|result, act, ctx| {
            if result.is_ok() {
                act.state = State::Missing;
                act.after_change(ctx);
            }
            result
        })))
    }
}

impl Handler<Refresh> for ResourceActor {
    type Result = Result<(), ScheduleError>;

    fn handle(&mut self, _: Refresh, ctx: &mut Context<Self>) -> Self::Result {
        self.last_message = Instant::now();
        self.reload(ctx);
        Ok(())
    }
}
