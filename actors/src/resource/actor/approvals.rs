//! The approver's answer to a pending booking. A pending booking holds its slot, so approving
//! never conflicts; rejecting frees the slot (and offers it to the waitlist).

use actix::prelude::*;

use super::{Reply, ResourceActor, reply};
use crate::resource::error::ScheduleError;
use crate::resource::messages::*;
use crate::resource::rules::check_hours;
use crate::resource::store::{Change, Outcome};
use crate::resource::types::BookingStatus;

impl Handler<Answer> for ResourceActor {
    type Result = Reply<Booked>;

    fn handle(&mut self, msg: Answer, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        let plan = self.on_message(ctx).and_then(|()| self.loaded()).and_then(|loaded| {
            let pending = loaded
                .get(msg.reservation)
                .filter(|b| b.status == BookingStatus::PendingApproval)
                .ok_or(ScheduleError::NotPending)?;
            if msg.approve && pending.interval.start() <= now {
                return Err(ScheduleError::StartInPast);
            }
            if msg.approve {
                check_hours(&loaded.resource, &loaded.hours, &pending.interval)?;
            }
            let deadline = loaded.resource.checkin_window.map(|w| pending.interval.start() + w);
            let outcome = if msg.approve {
                Outcome::Active
            } else {
                Outcome::Rejected
            };
            Ok((
                pending.clone(),
                vec![
                    Change::Transition {
                        reservation: pending.id,
                        from: BookingStatus::PendingApproval,
                        to: outcome,
                        by: Some(msg.by),
                        reason: msg.message.clone().filter(|_| !msg.approve),
                        checkin_deadline: deadline.filter(|_| msg.approve),
                    },
                    Change::Answer {
                        reservation: pending.id,
                        approved: msg.approve,
                        by: Some(msg.by),
                        message: msg.message.clone(),
                    },
                ],
            ))
        });
        let (pending, changes) = match plan {
            Ok(plan) => plan,
            Err(error) => return reply(Err(error)),
        };
        AtomicResponse::new(self.commit(changes, move |loaded, _| {
            let booking = loaded.get(pending.id).cloned().unwrap_or(pending);
            Ok(Booked {
                bookings: vec![booking],
                resource: loaded.resource.clone(),
            })
        }))
    }
}
