//! Handlers that change the resource itself, and housekeeping.

use actix::prelude::*;

use super::{Reply, ResourceActor, reply};
use crate::resource::error::ScheduleError;
use crate::resource::follow::Followed;
use crate::resource::messages::*;
use crate::resource::store::{Change, Outcome, ResourcePatch};
use crate::resource::types::{Maintenance, ReservationId, ResourceInfo};

impl ResourceActor {
    fn update(&mut self, patch: ResourcePatch) -> Reply<ResourceInfo> {
        AtomicResponse::new(self.commit(vec![Change::UpdateResource(patch)], |loaded, _| {
            Ok(loaded.resource.clone())
        }))
    }

    /// After following another process's changes: publishes the new state, or reloads when
    /// they did not fit it.
    fn settle_follow(&mut self, fits: bool, ctx: &mut Context<Self>) {
        if fits {
            self.after_change(ctx);
        } else {
            self.reload(ctx);
        }
    }
}

impl Handler<Ready> for ResourceActor {
    type Result = Result<(), ScheduleError>;

    fn handle(&mut self, _: Ready, ctx: &mut Context<Self>) -> Self::Result {
        self.on_message(ctx)
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
        let now = self.now();
        let upcoming = match self.on_message(ctx).and_then(|()| self.loaded()) {
            Ok(loaded) => loaded
                .schedule
                .iter()
                .filter(|(i, _)| i.end() > now)
                .map(|(_, b)| b.clone())
                .collect::<Vec<_>>(),
            Err(error) => return reply(Err(error)),
        };
        if !upcoming.is_empty() && !msg.cancel_upcoming {
            return reply(Err(ScheduleError::HasUpcomingReservations(upcoming.len())));
        }
        let mut changes: Vec<Change> = upcoming
            .iter()
            .map(|booking| Change::Transition {
                reservation: booking.id,
                from: booking.status,
                to: Outcome::Cancelled,
                by: Some(msg.by),
                reason: Some("Resource deleted".into()),
                checkin_deadline: None,
            })
            .collect();
        changes.push(Change::DeleteResource);
        let deletion = self.commit(changes, move |_, _| {
            Ok(Cancelled {
                bookings: upcoming,
                at: now,
            })
        });
        AtomicResponse::new(Box::pin(deletion.map(|result, act, ctx| {
            if result.is_ok() {
                act.state = super::State::Missing;
                act.after_change(ctx);
            }
            result
        })))
    }
}

impl Handler<Refresh> for ResourceActor {
    type Result = Result<(), ScheduleError>;

    fn handle(&mut self, _: Refresh, ctx: &mut Context<Self>) -> Self::Result {
        self.last_message = std::time::Instant::now();
        self.reload(ctx);
        Ok(())
    }
}

impl Handler<FollowBookings> for ResourceActor {
    type Result = Reply<()>;

    /// Takes in what the events carried at once; the bookings they did not carry are read
    /// again inside the atomic section, like a write, so that no message is planned on the
    /// state between the read and its use. Falls back to a whole reload when the resource has a
    /// waiting entry (a booking another process cancelled may free its slot, and a reload is
    /// where such offers are planned), when the state is not loaded, when the read fails, and
    /// when a booking does not fit the state (it missed another change).
    fn handle(&mut self, FollowBookings(followed): FollowBookings, ctx: &mut Context<Self>) -> Self::Result {
        self.last_message = std::time::Instant::now();
        // Missing or failed: nothing to follow (a later start loads afresh).
        let Ok(loaded) = self.loaded() else {
            return reply(Ok(()));
        };
        if loaded.waitlist.iter().any(|entry| entry.offer.is_none()) {
            self.reload(ctx);
            return reply(Ok(()));
        }
        let to_read: Vec<ReservationId> = followed.iter().filter_map(Followed::to_read).collect();
        if to_read.is_empty() {
            let fits = self
                .loaded_mut()
                .is_some_and(|loaded| loaded.follow(followed, Vec::new()));
            self.settle_follow(fits, ctx);
            return reply(Ok(()));
        }
        let read = self.with_timeout(self.shared.store.load_bookings(self.id, to_read));
        AtomicResponse::new(Box::pin(read.into_actor(self).map(move |stored, act, ctx| {
            let fits = match (stored, act.loaded_mut()) {
                (Ok(stored), Some(loaded)) => loaded.follow(followed, stored),
                _ => false,
            };
            act.settle_follow(fits, ctx);
            Ok(())
        })))
    }
}
