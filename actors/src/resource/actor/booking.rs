//! Booking handlers: a slot, a recurring series, cancelling, moving.

use actix::prelude::*;

use super::state::Loaded;
use super::{Reply, ResourceActor, reply};
use crate::domain::{Interval, RecurrenceRule, SeriesEnd, expand};
use crate::resource::error::ScheduleError;
use crate::resource::messages::*;
use crate::resource::rules::{Admission, Refusal, Refused, check_open};
use crate::resource::store::{Applied, Change, NewBookings, Outcome, SeriesRecord};
use crate::resource::types::{BookingStatus, UserRef};

impl ResourceActor {
    /// New bookings for `user`, already checked: active, or pending when the resource requires
    /// approval (then the resource's approver gets the request; see [`Admission`]).
    fn book_checked(
        &mut self,
        user: UserRef,
        intervals: Vec<Interval>,
        series: Option<SeriesRecord>,
        message: Option<String>,
        idempotency_key: Option<String>,
    ) -> ResponseActFuture<Self, Result<Booked, ScheduleError>> {
        let resource = match self.loaded() {
            Ok(loaded) => loaded.resource.clone(),
            Err(error) => return Box::pin(fut::ready(Err(error))),
        };
        let admission = match Admission::of(&resource, message) {
            Ok(admission) => admission,
            Err(error) => return Box::pin(fut::ready(Err(error))),
        };
        let new = NewBookings {
            user,
            intervals,
            series,
            checkin_window: resource.checkin_window.filter(|_| admission == Admission::Active),
            admission,
            idempotency_key,
        };
        self.commit(vec![Change::Book(new)], |loaded, applied| match applied.first() {
            Some(Applied::Booked(stored)) => Ok(Booked {
                bookings: stored.iter().filter_map(|s| loaded.get(s.id).cloned()).collect(),
                resource: loaded.resource.clone(),
            }),
            _ => Err(ScheduleError::Store("the store did not report the booking".into())),
        })
    }

    /// Expands a series and checks it: the rules on its slot, and each occurrence against the
    /// schedule, maintenance and the opening hours. Returns the occurrences to book and the
    /// refused ones with the reason.
    fn plan_series(&self, loaded: &Loaded, msg: &BookSeries) -> Result<(Vec<Interval>, Vec<Refused>), ScheduleError> {
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
        let (mut free, mut refused) = (Vec::new(), Vec::new());
        for interval in occurrences {
            let booked = !loaded.conflicts(&interval).is_empty();
            match Refusal::of(&loaded.resource, &loaded.hours, &interval, booked) {
                None => free.push(interval),
                Some(reason) => refused.push(Refused { interval, reason }),
            }
        }
        Ok((free, refused))
    }
}

impl Handler<Book> for ResourceActor {
    type Result = Reply<Booked>;

    fn handle(&mut self, msg: Book, ctx: &mut Context<Self>) -> Self::Result {
        let checked = self.on_message(ctx).and_then(|()| self.loaded()).and_then(|loaded| {
            self.shared
                .config
                .rules
                .check(&loaded.resource, &loaded.hours, &msg.interval, self.now())?;
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
        AtomicResponse::new(self.book_checked(msg.user, vec![msg.interval], None, msg.message, msg.idempotency_key))
    }
}

impl Handler<BookSeries> for ResourceActor {
    type Result = Reply<SeriesBooked>;

    fn handle(&mut self, msg: BookSeries, ctx: &mut Context<Self>) -> Self::Result {
        let plan = self
            .on_message(ctx)
            .and_then(|()| self.loaded())
            .and_then(|loaded| self.plan_series(loaded, &msg));
        let (free, conflicting) = match plan {
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
        let booking = self.book_checked(msg.user, free, Some(msg.record), None, msg.idempotency_key);
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
        let now = self.now();
        let plan = self.on_message(ctx).and_then(|()| self.loaded()).and_then(|loaded| {
            let target = loaded.get(msg.reservation).ok_or(ScheduleError::NotActive)?;
            if msg.only_if.is_some_and(|status| status != target.status) {
                return Err(ScheduleError::NotPending);
            }
            if target.interval.end() <= now {
                return Err(ScheduleError::AlreadyEnded);
            }
            let targets: Vec<_> = match (msg.scope, target.series) {
                (CancelScope::Following, Some(series)) => loaded
                    .schedule
                    .iter()
                    .filter(|(i, b)| {
                        b.series.is_some_and(|s| s.rule_id == series.rule_id) && i.start() >= target.interval.start()
                    })
                    .map(|(_, b)| b.clone())
                    .collect(),
                _ => vec![target.clone()],
            };
            let mut changes = Vec::new();
            for booking in &targets {
                changes.push(Change::Transition {
                    reservation: booking.id,
                    from: booking.status,
                    to: Outcome::Cancelled,
                    by: Some(msg.by),
                    reason: msg.reason.clone(),
                    checkin_deadline: None,
                });
                if booking.status == BookingStatus::PendingApproval {
                    let message = Some("Cancelled by requester".to_owned());
                    changes.push(Change::Answer {
                        reservation: booking.id,
                        approved: false,
                        by: Some(msg.by),
                        message,
                    });
                }
                if let Some(entry) = booking.offer_for {
                    changes.push(Change::CloseWaitlist {
                        entry,
                        status: crate::resource::store::WaitlistClosed::Cancelled,
                    });
                }
            }
            Ok((changes, targets))
        });
        let (changes, targets) = match plan {
            Ok(plan) => plan,
            Err(error) => return reply(Err(error)),
        };
        AtomicResponse::new(self.commit(changes, move |_, _| {
            Ok(Cancelled {
                bookings: targets,
                at: now,
            })
        }))
    }
}

impl Handler<Reschedule> for ResourceActor {
    type Result = Reply<Booked>;

    fn handle(&mut self, msg: Reschedule, ctx: &mut Context<Self>) -> Self::Result {
        let now = self.now();
        let plan = self.on_message(ctx).and_then(|()| self.loaded()).and_then(|loaded| {
            let current = loaded
                .get(msg.reservation)
                .filter(|b| b.status != BookingStatus::Held)
                .ok_or(ScheduleError::NotActive)?;
            if current.interval.start() <= now {
                return Err(ScheduleError::AlreadyStarted);
            }
            self.shared
                .config
                .rules
                .check(&loaded.resource, &loaded.hours, &msg.to, now)?;
            let existing: Vec<Interval> = loaded
                .schedule
                .overlapping(&msg.to)
                .filter(|(_, b)| b.id != current.id)
                .map(|(i, _)| i)
                .collect();
            if !existing.is_empty() {
                return Err(ScheduleError::Conflict { existing });
            }
            // A moved booking is a new claim on the resource: it is admitted again (an approved
            // booking moved on a resource that requires approval waits for the approver again).
            let admission = Admission::of(&loaded.resource, None)?;
            let mut changes = vec![Change::Move {
                reservation: current.id,
                from: current.status,
                by: msg.by,
                to: msg.to,
                status: admission.status(),
            }];
            changes.extend(admission.request_for(current.id));
            Ok((current.id, changes))
        });
        let (id, changes) = match plan {
            Ok(plan) => plan,
            Err(error) => return reply(Err(error)),
        };
        AtomicResponse::new(self.commit(changes, move |loaded, _| {
            let moved = loaded.get(id).cloned().ok_or(ScheduleError::NotActive)?;
            Ok(Booked {
                bookings: vec![moved],
                resource: loaded.resource.clone(),
            })
        }))
    }
}
