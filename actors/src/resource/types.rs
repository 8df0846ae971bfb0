//! The data the resource actor works with: what it knows about its resource and its bookings.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::status::{NotBlocking, ReservationStatus};
use crate::domain::{Interval, OpeningHours};

pub type ResourceId = i64;
pub type UserId = i64;
pub type ReservationId = i64;
pub type WaitlistId = i64;

/// A maintenance window: the resource takes no bookings in `[since, until)` (for ever when
/// `until` is `None`, until an operator ends it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
}

impl Maintenance {
    /// Starts now and ends by itself after `auto_reset_hours` (never when `None`).
    pub fn starting(now: DateTime<Utc>, auto_reset_hours: Option<i64>) -> Maintenance {
        Maintenance {
            since: now,
            until: auto_reset_hours.map(|hours| now + Duration::hours(hours)),
        }
    }

    pub fn active_at(&self, instant: DateTime<Utc>) -> bool {
        self.since <= instant && self.until.is_none_or(|until| instant < until)
    }

    /// True when a booking of `interval` would fall (partly) inside the window.
    pub fn blocks(&self, interval: &Interval) -> bool {
        interval.end() > self.since && self.until.is_none_or(|until| interval.start() < until)
    }

    pub fn auto_reset_hours(&self) -> Option<i64> {
        self.until.map(|until| (until - self.since).num_hours())
    }
}

/// The resource as its actor caches it. The store holds the truth; this is rebuilt from it on
/// every (re)start.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    pub id: ResourceId,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// The base availability flag: a disabled resource takes no new bookings.
    pub enabled: bool,
    pub maintenance: Option<Maintenance>,
    /// IANA zone in which recurring series keep their local wall-clock time.
    pub timezone: Tz,
    pub created_at: DateTime<Utc>,
    /// Bookings wait for this user's approval (pending approval) before they are active.
    pub approver: Option<UserId>,
    pub requires_approval: bool,
    /// Bookings must be checked in within this long after their start, or are released.
    pub checkin_window: Option<Duration>,
}

impl ResourceInfo {
    /// Maintenance that is in force at `now` (a window whose end has passed no longer counts,
    /// even before the actor's timer has recorded its end).
    pub fn maintenance_at(&self, now: DateTime<Utc>) -> Option<&Maintenance> {
        self.maintenance.as_ref().filter(|m| m.active_at(now))
    }
}

/// The user a booking is made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef {
    pub id: UserId,
    pub name: Arc<str>,
}

/// The states in which a booking blocks its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingStatus {
    Active,
    /// Waiting for its resource's approver; expires (rejected) at its start.
    PendingApproval,
    /// A temporary hold, or a waitlist offer; lapses at `hold_expires_at`.
    Held,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        super::status::ReservationStatus::from(self).as_str()
    }
}

/// A booking that blocks its slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: ReservationId,
    pub user: UserRef,
    pub interval: Interval,
    pub created_at: DateTime<Utc>,
    pub series: Option<SeriesLink>,
    pub status: BookingStatus,
    /// Held: when the hold lapses.
    pub hold_expires_at: Option<DateTime<Utc>>,
    /// Held for a waitlist offer: the entry it is offered to.
    pub offer_for: Option<WaitlistId>,
    /// Active, on a resource that requires check-in and not yet checked in: the deadline.
    pub checkin_deadline: Option<DateTime<Utc>>,
    pub checked_in_at: Option<DateTime<Utc>>,
}

impl Booking {
    /// A new active booking (the fields of other states empty).
    pub fn active(id: ReservationId, user: UserRef, interval: Interval, created_at: DateTime<Utc>) -> Booking {
        Booking {
            id,
            user,
            interval,
            created_at,
            series: None,
            status: BookingStatus::Active,
            hold_expires_at: None,
            offer_for: None,
            checkin_deadline: None,
            checked_in_at: None,
        }
    }

    /// When this booking's state changes by itself, if it does before it ends.
    pub fn next_deadline(&self) -> DateTime<Utc> {
        match self.status {
            BookingStatus::Held => self
                .hold_expires_at
                .unwrap_or(self.interval.start())
                .min(self.interval.end()),
            BookingStatus::PendingApproval => self.interval.start(),
            BookingStatus::Active => match (self.checkin_deadline, self.checked_in_at) {
                (Some(deadline), None) => deadline.min(self.interval.end()),
                _ => self.interval.end(),
            },
        }
    }
}

/// A place in a resource's waitlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitlistEntry {
    pub id: WaitlistId,
    pub user: UserRef,
    /// The slot wanted; a flexible entry takes any free part of it long enough to book.
    pub desired: Interval,
    pub flexible: bool,
    pub created_at: DateTime<Utc>,
    /// The slot currently offered (held for the entry), if any.
    pub offer: Option<Offer>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// The `held` reservation that keeps the slot.
    pub reservation: ReservationId,
    pub interval: Interval,
    pub offered_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Membership of a booking in a recurring series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesLink {
    pub rule_id: i64,
    /// The series' first booking; `None` for the first booking itself.
    pub parent: Option<ReservationId>,
}

/// What the actor holds in memory, published to readers after every change.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSnapshot {
    pub resource: ResourceInfo,
    /// Blocking bookings that have not ended, in order of start.
    pub bookings: Vec<Booking>,
    /// Active waitlist entries (waiting or offered), in queue order.
    pub waitlist: Vec<WaitlistEntry>,
    /// The opening hours and blackout dates the actor enforces.
    pub hours: OpeningHours,
}

impl ScheduleSnapshot {
    /// The active booking in progress at `now`, if any.
    pub fn current(&self, now: DateTime<Utc>) -> Option<&Booking> {
        self.bookings
            .iter()
            .find(|b| b.status == BookingStatus::Active && b.interval.contains(now))
    }

    /// Bookings overlapping `window`, in order.
    pub fn overlapping(&self, window: &Interval) -> impl Iterator<Item = &Booking> {
        self.bookings.iter().filter(move |b| b.interval.overlaps(window))
    }
}

// A blocking state is one of the stored statuses, spelled through it.
impl From<BookingStatus> for ReservationStatus {
    fn from(status: BookingStatus) -> Self {
        match status {
            BookingStatus::Active => ReservationStatus::Active,
            BookingStatus::PendingApproval => ReservationStatus::PendingApproval,
            BookingStatus::Held => ReservationStatus::Held,
        }
    }
}

impl TryFrom<ReservationStatus> for BookingStatus {
    type Error = NotBlocking;

    fn try_from(status: ReservationStatus) -> Result<Self, Self::Error> {
        match status {
            ReservationStatus::Active => Ok(BookingStatus::Active),
            ReservationStatus::PendingApproval => Ok(BookingStatus::PendingApproval),
            ReservationStatus::Held => Ok(BookingStatus::Held),
            other => Err(NotBlocking(other)),
        }
    }
}

#[cfg(test)]
mod status_tests {
    use super::*;

    #[test]
    fn only_blocking_states_become_bookings() {
        assert_eq!(
            BookingStatus::try_from(ReservationStatus::Held),
            Ok(BookingStatus::Held)
        );
        assert_eq!(
            BookingStatus::try_from(ReservationStatus::Cancelled),
            Err(NotBlocking(ReservationStatus::Cancelled))
        );
    }
}
