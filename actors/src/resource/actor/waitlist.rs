//! Waitlist handlers: join, leave, accept an offer. The offers themselves are planned by every
//! batch that frees a slot (see `ResourceActor::commit`) and after every load (see
//! `ResourceActor::offer_free_slots`), and expire by the actor's timer.

use actix::prelude::*;

use super::{Reply, ResourceActor, reply};
use crate::resource::error::ScheduleError;
use crate::resource::messages::*;
use crate::resource::rules::{Admission, check_hours};
use crate::resource::store::{Applied, Change, Outcome, WaitlistClosed};
use crate::resource::types::BookingStatus;

impl Handler<JoinWaitlist> for ResourceActor {
    type Result = Reply<Joined>;

    fn handle(&mut self, msg: JoinWaitlist, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        let checked = self.on_message(ctx).and_then(|()| self.loaded()).and_then(|loaded| {
            if msg.desired.start() <= now {
                return Err(ScheduleError::StartInPast);
            }
            let rules = &self.shared.config.rules;
            if msg.desired.duration() < rules.min_duration {
                return Err(ScheduleError::TooShort {
                    min: rules.min_duration,
                });
            }
            if !msg.flexible && msg.desired.duration() > rules.max_duration {
                return Err(ScheduleError::TooLong {
                    max: rules.max_duration,
                });
            }
            // A slot that can never be offered is refused now: an exact slot must lie in open
            // time; a flexible window must hold some open time long enough to book.
            let zone = loaded.resource.timezone;
            if !msg.flexible {
                check_hours(&loaded.resource, &loaded.hours, &msg.desired)?;
            } else if !loaded
                .hours
                .open_parts(zone, &msg.desired)
                .any(|part| part.duration() >= rules.min_duration)
            {
                // Whatever part of the window is closed first tells why.
                check_hours(&loaded.resource, &loaded.hours, &msg.desired)?;
            }
            let duplicate = loaded
                .waitlist
                .iter()
                .any(|e| e.user.id == msg.user.id && e.desired == msg.desired);
            if duplicate {
                Err(ScheduleError::AlreadyOnWaitlist)
            } else {
                Ok(())
            }
        });
        if let Err(error) = checked {
            return reply(Err(error));
        }
        let change = Change::JoinWaitlist {
            user: msg.user,
            desired: msg.desired,
            flexible: msg.flexible,
        };
        AtomicResponse::new(self.commit(vec![change], |loaded, applied| {
            let Some(Applied::Waitlist(id)) = applied.first() else {
                return Err(ScheduleError::Store(
                    "the store did not report the waitlist entry".into(),
                ));
            };
            let entry = loaded.entry(*id).cloned().ok_or(ScheduleError::WaitlistEntryNotFound)?;
            let position = loaded.position(*id).unwrap_or(0);
            Ok(Joined { entry, position })
        }))
    }
}

impl Handler<LeaveWaitlist> for ResourceActor {
    type Result = Reply<()>;

    fn handle(&mut self, msg: LeaveWaitlist, ctx: &mut Context<Self>) -> Self::Result {
        let plan = self.on_message(ctx).and_then(|()| self.loaded()).and_then(|loaded| {
            let entry = loaded.entry(msg.entry).ok_or(ScheduleError::WaitlistEntryNotFound)?;
            let mut changes = Vec::new();
            if let Some(offer) = entry.offer {
                changes.push(Change::Transition {
                    reservation: offer.reservation,
                    from: BookingStatus::Held,
                    to: Outcome::Cancelled,
                    by: Some(entry.user.id),
                    reason: Some("Left the waitlist".into()),
                    checkin_deadline: None,
                });
            }
            changes.push(Change::CloseWaitlist {
                entry: entry.id,
                status: WaitlistClosed::Cancelled,
            });
            Ok(changes)
        });
        match plan {
            Ok(changes) => AtomicResponse::new(self.commit(changes, |_, _| Ok(()))),
            Err(error) => reply(Err(error)),
        }
    }
}

impl Handler<AcceptOffer> for ResourceActor {
    type Result = Reply<Booked>;

    fn handle(&mut self, msg: AcceptOffer, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        let plan = self.on_message(ctx).and_then(|()| self.loaded()).and_then(|loaded| {
            let entry = loaded
                .entry(msg.entry)
                .filter(|e| e.user.id == msg.by)
                .ok_or(ScheduleError::WaitlistEntryNotFound)?;
            let offer = entry.offer.ok_or(ScheduleError::NoOffer)?;
            if offer.expires_at <= now {
                return Err(ScheduleError::OfferExpired);
            }
            check_hours(&loaded.resource, &loaded.hours, &offer.interval)?;
            let admission = Admission::of(&loaded.resource, None)?;
            let mut changes = vec![
                Change::Transition {
                    reservation: offer.reservation,
                    from: BookingStatus::Held,
                    to: admission.outcome(),
                    by: Some(msg.by),
                    reason: None,
                    checkin_deadline: admission.checkin_deadline(&loaded.resource, &offer.interval),
                },
                Change::CloseWaitlist {
                    entry: entry.id,
                    status: WaitlistClosed::Fulfilled,
                },
            ];
            changes.extend(admission.request_for(offer.reservation));
            Ok((offer.reservation, changes))
        });
        let (reservation, changes) = match plan {
            Ok(plan) => plan,
            Err(ScheduleError::OfferExpired) => {
                // Its timer is about to fire: let it, so the offer moves on to the next person.
                self.run_due_work(ctx);
                return reply(Err(ScheduleError::OfferExpired));
            }
            Err(error) => return reply(Err(error)),
        };
        AtomicResponse::new(self.commit(changes, move |loaded, _| {
            let booking = loaded.get(reservation).cloned().ok_or(ScheduleError::NotActive)?;
            Ok(Booked {
                bookings: vec![booking],
                resource: loaded.resource.clone(),
            })
        }))
    }
}
