//! Temporary holds and check-in.

use actix::prelude::*;
use chrono::Duration;

use super::{Reply, ResourceActor, reply};
use crate::resource::error::ScheduleError;
use crate::resource::messages::*;
use crate::resource::rules::{Admission, check_hours};
use crate::resource::store::{Applied, Change};
use crate::resource::types::BookingStatus;

/// How early before its start a booking can be checked in.
const CHECKIN_OPENS_BEFORE: Duration = Duration::minutes(15);

impl Handler<PlaceHold> for ResourceActor {
    type Result = Reply<Booked>;

    fn handle(&mut self, msg: PlaceHold, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        let checked = self.on_message(ctx).and_then(|()| self.loaded()).and_then(|loaded| {
            self.shared
                .config
                .rules
                .check(&loaded.resource, &loaded.hours, &msg.interval, now)?;
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
        let until = (now + Duration::minutes(msg.minutes)).min(msg.interval.start());
        let change = Change::Hold {
            user: msg.user,
            interval: msg.interval,
            until,
            offer_for: None,
        };
        AtomicResponse::new(self.commit(vec![change], |loaded, applied| {
            let Some(Applied::Reservation(id)) = applied.first() else {
                return Err(ScheduleError::Store("the store did not report the hold".into()));
            };
            let hold = loaded.get(*id).cloned().ok_or(ScheduleError::HoldNotFound)?;
            Ok(Booked {
                bookings: vec![hold],
                resource: loaded.resource.clone(),
            })
        }))
    }
}

impl Handler<ConfirmHold> for ResourceActor {
    type Result = Reply<Booked>;

    fn handle(&mut self, msg: ConfirmHold, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        let plan = self.on_message(ctx).and_then(|()| self.loaded()).and_then(|loaded| {
            let hold = loaded
                .get(msg.reservation)
                .filter(|b| b.status == BookingStatus::Held && b.offer_for.is_none() && b.user.id == msg.by)
                .ok_or(ScheduleError::HoldNotFound)?;
            if hold.hold_expires_at.is_some_and(|until| until <= now) {
                return Err(ScheduleError::HoldExpired);
            }
            check_hours(&loaded.resource, &loaded.hours, &hold.interval)?;
            let admission = Admission::of(&loaded.resource, None)?;
            let mut changes = vec![Change::Transition {
                reservation: hold.id,
                from: BookingStatus::Held,
                to: admission.outcome(),
                by: Some(msg.by),
                reason: None,
                checkin_deadline: admission.checkin_deadline(&loaded.resource, &hold.interval),
            }];
            changes.extend(admission.request_for(hold.id));
            Ok(changes)
        });
        let changes = match plan {
            Ok(changes) => changes,
            Err(error) => return reply(Err(error)),
        };
        let id = msg.reservation;
        AtomicResponse::new(self.commit(changes, move |loaded, _| {
            let booking = loaded.get(id).cloned().ok_or(ScheduleError::NotActive)?;
            Ok(Booked {
                bookings: vec![booking],
                resource: loaded.resource.clone(),
            })
        }))
    }
}

impl Handler<CheckIn> for ResourceActor {
    type Result = Reply<chrono::DateTime<chrono::Utc>>;

    fn handle(&mut self, msg: CheckIn, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        let checked = self.on_message(ctx).and_then(|()| self.loaded()).and_then(|loaded| {
            let booking = loaded
                .get(msg.reservation)
                .filter(|b| b.status == BookingStatus::Active)
                .ok_or(ScheduleError::NotActive)?;
            if booking.checked_in_at.is_some() {
                return Err(ScheduleError::AlreadyCheckedIn);
            }
            let deadline = booking.checkin_deadline.ok_or(ScheduleError::CheckInNotRequired)?;
            if now < booking.interval.start() - CHECKIN_OPENS_BEFORE {
                return Err(ScheduleError::CheckInNotOpen(CHECKIN_OPENS_BEFORE));
            }
            if now >= deadline {
                return Err(ScheduleError::CheckInClosed);
            }
            Ok(())
        });
        if let Err(error) = checked {
            return reply(Err(error));
        }
        AtomicResponse::new(self.commit(
            vec![Change::CheckIn {
                reservation: msg.reservation,
            }],
            move |_, _| Ok(now),
        ))
    }
}
