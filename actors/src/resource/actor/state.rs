//! The actor's in-memory state and the pure decisions taken on it: what is due now, which
//! waitlist entries get offers, how a batch of changes transforms the state. No I/O here: the
//! actor stores the changes first, then applies them to this state with what the store answered.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::super::follow::Followed;
use super::super::rules::{BookingRules, check_when};
use super::super::shared::Timings;
use super::super::store::{
    Applied, Change, LoadedResource, Outcome, ReservationRef, ResourcePatch, StoredBooking, WaitlistClosed, WaitlistRef,
};
use super::super::types::{
    Booking, BookingStatus, Offer, ReservationId, ResourceInfo, ScheduleSnapshot, WaitlistEntry, WaitlistId,
};
use crate::domain::{Interval, OpeningHours, Schedule};

/// The loaded state: the resource, its blocking bookings, its active waitlist, its opening hours.
#[derive(Debug, Clone)]
pub(super) struct Loaded {
    pub resource: ResourceInfo,
    /// Changed only by a reload: hours are written outside the actor, which is then refreshed.
    pub hours: OpeningHours,
    pub schedule: Schedule<Booking>,
    /// Reservation id → start, to find a booking in the schedule.
    starts: HashMap<ReservationId, DateTime<Utc>>,
    /// Waiting and offered entries, in queue order.
    pub waitlist: Vec<WaitlistEntry>,
}

impl Loaded {
    pub fn new(loaded: LoadedResource) -> Loaded {
        let mut state = Loaded {
            resource: loaded.info,
            hours: loaded.hours,
            schedule: Schedule::new(),
            starts: HashMap::new(),
            waitlist: loaded.waitlist,
        };
        for booking in loaded.bookings {
            state.add(booking);
        }
        state
    }

    pub fn add(&mut self, booking: Booking) {
        let id = booking.id;
        if let Err(existing) = self.insert(booking) {
            // Impossible with the database constraint in place; keep serving but say so.
            tracing::error!(
                resource = self.resource.id,
                booking = id,
                ?existing,
                "stored bookings overlap"
            );
        }
    }

    /// Adds `booking` unless it overlaps one the state holds (whose interval is the error).
    fn insert(&mut self, booking: Booking) -> Result<(), Interval> {
        let (id, start) = (booking.id, booking.interval.start());
        self.schedule
            .insert(booking.interval, booking)
            .map_err(|(existing, _)| existing)?;
        self.starts.insert(id, start);
        Ok(())
    }

    /// Puts what another process changed in place of what the state held: the bookings the
    /// events carried or ended, in event order, then `stored`, what the store holds now of the
    /// bookings read again (those of them that still block time; being read after the events
    /// were, it is at least as new). `false` when a booking overlaps one the state still holds:
    /// the state missed another change and must be reloaded.
    pub fn follow(&mut self, followed: Vec<Followed>, stored: Vec<Booking>) -> bool {
        let mut fits = true;
        let mut read = Vec::new();
        for change in followed {
            match change {
                Followed::Now(booking) => {
                    self.remove(booking.id);
                    fits &= self.insert(booking).is_ok();
                }
                Followed::Ended(id) => {
                    self.remove(id);
                }
                Followed::Changed(id) => read.push(id),
            }
        }
        for id in read {
            self.remove(id);
        }
        fits && stored.into_iter().all(|booking| self.insert(booking).is_ok())
    }

    pub fn remove(&mut self, id: ReservationId) -> Option<Booking> {
        let start = self.starts.remove(&id)?;
        self.schedule.remove(start).map(|(_, booking)| booking)
    }

    pub fn get(&self, id: ReservationId) -> Option<&Booking> {
        self.schedule.get(*self.starts.get(&id)?).map(|(_, booking)| booking)
    }

    fn get_mut(&mut self, id: ReservationId) -> Option<&mut Booking> {
        self.schedule.get_mut(*self.starts.get(&id)?)
    }

    pub fn entry(&self, id: WaitlistId) -> Option<&WaitlistEntry> {
        self.waitlist.iter().find(|e| e.id == id)
    }

    /// The place of an entry in its resource's queue (1 for the first).
    pub fn position(&self, id: WaitlistId) -> Option<usize> {
        self.waitlist.iter().position(|e| e.id == id).map(|p| p + 1)
    }

    /// The blocking bookings overlapping `interval`.
    pub fn conflicts(&self, interval: &Interval) -> Vec<Interval> {
        self.schedule.overlapping(interval).map(|(i, _)| i).collect()
    }

    /// True when `interval` is free of bookings and maintenance, and inside the opening hours.
    fn is_free(&self, interval: &Interval) -> bool {
        self.schedule.first_conflict(interval).is_none() && check_when(&self.resource, &self.hours, interval).is_ok()
    }

    pub fn snapshot(&self) -> ScheduleSnapshot {
        ScheduleSnapshot {
            resource: self.resource.clone(),
            bookings: self.schedule.iter().map(|(_, b)| b.clone()).collect(),
            waitlist: self.waitlist.clone(),
            hours: self.hours.clone(),
        }
    }

    /// The next instant at which time-driven work is due.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        let bookings = self.schedule.iter().map(|(_, b)| b.next_deadline());
        let maintenance_end = self.resource.maintenance.as_ref().and_then(|m| m.until);
        bookings.chain(maintenance_end).min()
    }

    /// The changes that are due at `now`: ended bookings expire, holds and offers lapse, no-shows
    /// are released, requests without an answer by their start are rejected, maintenance ends.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<Change> {
        let mut changes = Vec::new();
        for (_, booking) in self.schedule.iter().filter(|(_, b)| b.next_deadline() <= now) {
            let (to, reason) = match booking.status {
                BookingStatus::Held => (Outcome::Expired, Some("The hold lapsed".to_owned())),
                BookingStatus::PendingApproval => (Outcome::Rejected, Some("No decision before the start".to_owned())),
                BookingStatus::Active if booking.interval.end() <= now => (Outcome::Expired, None),
                BookingStatus::Active => (Outcome::Released, Some("Not checked in on time".to_owned())),
            };
            changes.push(Change::Transition {
                reservation: booking.id,
                from: booking.status,
                to,
                by: None,
                reason,
                checkin_deadline: None,
            });
            if booking.status == BookingStatus::PendingApproval {
                changes.push(Change::Answer {
                    reservation: booking.id,
                    approved: false,
                    by: None,
                    message: Some("No decision before the start".into()),
                });
            }
            if let Some(entry) = booking.offer_for {
                changes.push(Change::CloseWaitlist {
                    entry,
                    status: WaitlistClosed::Expired,
                });
            }
        }
        if self
            .resource
            .maintenance
            .as_ref()
            .is_some_and(|m| m.until.is_some_and(|until| until <= now))
        {
            changes.push(Change::UpdateResource(ResourcePatch {
                maintenance: Some(None),
                ..ResourcePatch::default()
            }));
        }
        changes
    }

    /// Offers for waiting entries, in queue order, of slots free now: an exact entry is offered
    /// its whole slot if it is free; a flexible one the first free part of its slot long enough
    /// to book. Each offer holds its slot until `now + offer_period` (or the slot's start).
    pub fn offers(
        &self,
        now: DateTime<Utc>,
        rules: &BookingRules,
        timings: &Timings,
        first_index: usize,
    ) -> Vec<Change> {
        if !self.resource.enabled || !self.waitlist.iter().any(|e| e.offer.is_none()) {
            return Vec::new();
        }
        let mut scratch = self.clone();
        let mut changes = Vec::new();
        for entry in self.waitlist.iter().filter(|e| e.offer.is_none()) {
            let Some(slot) = scratch.free_slot_for(entry, now, rules) else {
                continue;
            };
            let until = (now + timings.offer_period).min(slot.start());
            if until <= now {
                continue;
            }
            let hold_index = first_index + changes.len();
            let reference = waitlist_ref(entry.id);
            changes.push(Change::Hold {
                user: entry.user.clone(),
                interval: slot,
                until,
                offer_for: Some(reference),
            });
            changes.push(Change::Offer {
                entry: reference,
                hold: ReservationRef::New(hold_index),
                until,
            });
            let placeholder = Booking {
                status: BookingStatus::Held,
                hold_expires_at: Some(until),
                offer_for: Some(entry.id),
                ..Booking::active(-(hold_index as i64) - 1, entry.user.clone(), slot, now)
            };
            scratch.add(placeholder);
        }
        changes
    }

    /// The slot an entry can be offered now, if any.
    fn free_slot_for(&self, entry: &WaitlistEntry, now: DateTime<Utc>, rules: &BookingRules) -> Option<Interval> {
        let fits = |slot: &Interval| rules.check_slot(slot, now).is_ok();
        if !entry.flexible {
            return Some(entry.desired).filter(|slot| fits(slot) && self.is_free(slot));
        }
        // The first free stretch inside the desired window, from now on, in open time.
        let window = Interval::new(
            entry.desired.start().max(now + Duration::seconds(1)),
            entry.desired.end(),
        )
        .ok()?;
        let mut blocked: Vec<Interval> = self.schedule.overlapping(&window).map(|(i, _)| i).collect();
        if let Some(maintenance) = &self.resource.maintenance
            && let Ok(span) = Interval::new(maintenance.since, maintenance.until.unwrap_or(window.end()))
            && span.overlaps(&window)
        {
            blocked.push(span);
        }
        blocked.sort();
        self.hours
            .open_parts(self.resource.timezone, &window)
            .find_map(|open| gaps(open, &blocked, rules.max_duration).find(&fits))
    }

    /// Whether a waitlist entry may be waiting once `changes` are applied: one waits now, or a
    /// change adds one (joining is the only change that makes an entry wait; offers and closes
    /// end waiting).
    pub fn waits_after(&self, changes: &[Change]) -> bool {
        self.waitlist.iter().any(|entry| entry.offer.is_none())
            || changes
                .iter()
                .any(|change| matches!(change, Change::JoinWaitlist { .. }))
    }

    /// The state after `changes`, as if stored now (with made-up ids, see [`made_up_id`]): used
    /// to plan the offers of the slots a batch frees, inside the same batch.
    pub fn after(&self, changes: &[Change], now: DateTime<Utc>) -> Loaded {
        let applied: Vec<Applied> = changes
            .iter()
            .enumerate()
            .map(|(index, change)| match change {
                Change::Book(new) => Applied::Booked(
                    (0..new.intervals.len())
                        .map(|sub| StoredBooking {
                            id: made_up_id(index, sub),
                            created_at: now,
                            series: None,
                        })
                        .collect(),
                ),
                Change::Hold { .. } => Applied::Reservation(made_up_id(index, 0)),
                Change::JoinWaitlist { .. } => Applied::Waitlist(made_up_id(index, 0)),
                Change::UpdateResource(patch) => Applied::Resource(patched(&self.resource, patch)),
                _ => Applied::Done,
            })
            .collect();
        let mut next = self.clone();
        next.apply(changes, &applied, now);
        next
    }

    /// Applies a stored batch to the state; `applied` is what the store answered (or, when the
    /// actor plans ahead, what it would answer).
    pub fn apply(&mut self, changes: &[Change], applied: &[Applied], now: DateTime<Utc>) {
        for (change, result) in changes.iter().zip(applied) {
            match (change, result) {
                (Change::Book(new), Applied::Booked(stored)) => {
                    for (stored, interval) in stored.iter().zip(&new.intervals) {
                        self.add(Booking {
                            series: stored.series,
                            status: new.admission.status(),
                            checkin_deadline: new.checkin_window.map(|w| interval.start() + w),
                            ..Booking::active(stored.id, new.user.clone(), *interval, stored.created_at)
                        });
                    }
                }
                (
                    Change::Hold {
                        user,
                        interval,
                        until,
                        offer_for,
                    },
                    Applied::Reservation(id),
                ) => self.add(Booking {
                    status: BookingStatus::Held,
                    hold_expires_at: Some(*until),
                    offer_for: offer_for.and_then(|entry| entry.resolve(applied)),
                    ..Booking::active(*id, user.clone(), *interval, now)
                }),
                (
                    Change::Transition {
                        reservation,
                        to,
                        checkin_deadline,
                        ..
                    },
                    _,
                ) => match to.blocking() {
                    Some(status) => {
                        if let Some(booking) = self.get_mut(*reservation) {
                            booking.status = status;
                            booking.hold_expires_at = None;
                            booking.offer_for = None;
                            booking.checkin_deadline = *checkin_deadline;
                        }
                    }
                    None => {
                        self.remove(*reservation);
                    }
                },
                (
                    Change::Move {
                        reservation,
                        to,
                        status,
                        ..
                    },
                    _,
                ) => {
                    if let Some(booking) = self.remove(*reservation) {
                        let deadline = self
                            .resource
                            .checkin_window
                            .filter(|_| *status == BookingStatus::Active)
                            .map(|w| to.start() + w);
                        self.add(Booking {
                            interval: *to,
                            status: *status,
                            checkin_deadline: deadline,
                            ..booking
                        });
                    }
                }
                (Change::CheckIn { reservation }, _) => {
                    if let Some(booking) = self.get_mut(*reservation) {
                        booking.checked_in_at = Some(now);
                    }
                }
                (
                    Change::JoinWaitlist {
                        user,
                        desired,
                        flexible,
                    },
                    Applied::Waitlist(id),
                ) => {
                    self.waitlist.push(WaitlistEntry {
                        id: *id,
                        user: user.clone(),
                        desired: *desired,
                        flexible: *flexible,
                        created_at: now,
                        offer: None,
                    });
                }
                (Change::Offer { entry, hold, until }, _) => {
                    let held = hold
                        .resolve(applied)
                        .and_then(|id| self.get(id).map(|b| (id, b.interval)));
                    let entry = entry.resolve(applied);
                    if let (Some((reservation, interval)), Some(entry)) =
                        (held, self.waitlist.iter_mut().find(|e| Some(e.id) == entry))
                    {
                        entry.offer = Some(Offer {
                            reservation,
                            interval,
                            offered_at: now,
                            expires_at: *until,
                        });
                    }
                }
                (Change::CloseWaitlist { entry, .. }, _) => self.waitlist.retain(|e| e.id != *entry),
                (Change::UpdateResource(_), Applied::Resource(resource)) => self.resource = resource.clone(),
                _ => {}
            }
        }
    }
}

/// The stretches of `within` that no interval of `blocked` (sorted by start) covers, in order,
/// each cut to at most `longest` from its start.
fn gaps(within: Interval, blocked: &[Interval], longest: Duration) -> impl Iterator<Item = Interval> + '_ {
    let mut cursor = within.start();
    let end = (within.end(), within.end());
    blocked
        .iter()
        .filter(move |b| b.overlaps(&within))
        .map(|b| (b.start(), b.end()))
        .chain(std::iter::once(end))
        .filter_map(move |(start, end)| {
            let gap = (start > cursor)
                .then(|| Interval::new(cursor, start.min(cursor + longest)).ok())
                .flatten();
            cursor = cursor.max(end);
            gap
        })
}

/// `resource` with `patch` applied, as the store would store it.
pub(super) fn patched(resource: &ResourceInfo, patch: &ResourcePatch) -> ResourceInfo {
    let mut next = resource.clone();
    if let Some(name) = &patch.name {
        next.name = name.clone();
    }
    if let Some(description) = &patch.description {
        next.description = description.clone();
    }
    if let Some(tags) = &patch.tags {
        next.tags = tags.clone();
    }
    if let Some(timezone) = patch.timezone {
        next.timezone = timezone;
    }
    if let Some(enabled) = patch.enabled {
        next.enabled = enabled;
    }
    if let Some(maintenance) = &patch.maintenance {
        next.maintenance = maintenance.clone();
    }
    if let Some(requires_approval) = patch.requires_approval {
        next.requires_approval = requires_approval;
    }
    if let Some(approver) = patch.approver {
        next.approver = approver;
    }
    if let Some(window) = patch.checkin_window {
        next.checkin_window = window;
    }
    next
}

/// The id given to the `sub`-th row made by the change at `index` when a batch is planned ahead:
/// negative, so it can never be a stored id, and decodable back into a reference to that change.
fn made_up_id(index: usize, sub: usize) -> i64 {
    -((index as i64 + 1) * 1_000_000 + sub as i64)
}

/// A reference to a waitlist entry: an existing one, or the one a planned batch adds.
fn waitlist_ref(id: WaitlistId) -> WaitlistRef {
    if id < 0 {
        WaitlistRef::New((-id / 1_000_000 - 1) as usize)
    } else {
        WaitlistRef::Existing(id)
    }
}
