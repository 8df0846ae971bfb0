//! The data the resource actor works with: what it knows about its resource and its bookings.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::domain::Interval;

pub type ResourceId = i64;
pub type UserId = i64;
pub type ReservationId = i64;

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

/// A booking that blocks its slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub id: ReservationId,
    pub user: UserRef,
    pub interval: Interval,
    pub created_at: DateTime<Utc>,
    pub series: Option<SeriesLink>,
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
}

impl ScheduleSnapshot {
    /// The booking in progress at `now`, if any.
    pub fn current(&self, now: DateTime<Utc>) -> Option<&Booking> {
        self.bookings.iter().find(|b| b.interval.contains(now))
    }

    /// Bookings overlapping `window`, in order.
    pub fn overlapping(&self, window: &Interval) -> impl Iterator<Item = &Booking> {
        self.bookings.iter().filter(move |b| b.interval.overlaps(window))
    }
}
