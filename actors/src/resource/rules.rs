//! The booking rules every path enforces (single bookings, series, reschedules, holds, waitlist
//! offers, and the activation of holds, offers and requests), and the approval rule
//! ([`Admission`]).

use chrono::{DateTime, Duration, Utc};

use super::error::ScheduleError;
// The data lives with the store's changes and with the errors; the rules that decide them live
// here.
pub use super::error::{Refusal, Refused};
pub use super::store::Admission;
use super::store::{ApprovalRequest, Change, Outcome};
use super::types::{BookingStatus, ReservationId, ResourceInfo};
use crate::domain::{Interval, NotOpen, OpeningHours};

/// Limits configured by the operator.
#[derive(Debug, Clone)]
pub struct BookingRules {
    pub min_duration: Duration,
    pub max_duration: Duration,
    /// Most occurrences a recurring series may have.
    pub max_series_occurrences: usize,
}

impl Default for BookingRules {
    /// The default limits: 15 minutes to 24 hours, 100 occurrences.
    fn default() -> Self {
        BookingRules {
            min_duration: Duration::minutes(15),
            max_duration: Duration::hours(24),
            max_series_occurrences: 100,
        }
    }
}

impl BookingRules {
    /// Checks the rules that do not depend on other bookings.
    pub fn check(
        &self,
        resource: &ResourceInfo,
        hours: &OpeningHours,
        interval: &Interval,
        now: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        self.check_slot(interval, now)?;
        check_open(resource)?;
        check_when(resource, hours, interval)
    }

    /// The rules on the slot itself: in the future, neither too short nor too long.
    pub fn check_slot(&self, interval: &Interval, now: DateTime<Utc>) -> Result<(), ScheduleError> {
        if interval.start() <= now {
            return Err(ScheduleError::StartInPast);
        }
        if interval.duration() < self.min_duration {
            return Err(ScheduleError::TooShort { min: self.min_duration });
        }
        if interval.duration() > self.max_duration {
            return Err(ScheduleError::TooLong { max: self.max_duration });
        }
        Ok(())
    }
}

/// A disabled resource takes no new bookings.
pub fn check_open(resource: &ResourceInfo) -> Result<(), ScheduleError> {
    if resource.enabled {
        Ok(())
    } else {
        Err(ScheduleError::ResourceDisabled)
    }
}

/// The rules on when the resource takes bookings: not under maintenance, and inside its opening
/// hours (on its wall clock), on no blackout date.
pub fn check_when(resource: &ResourceInfo, hours: &OpeningHours, interval: &Interval) -> Result<(), ScheduleError> {
    if resource.maintenance.as_ref().is_some_and(|m| m.blocks(interval)) {
        return Err(ScheduleError::UnderMaintenance);
    }
    check_hours(resource, hours, interval)
}

/// Inside the opening hours, on no blackout date. Also checked when a hold, an offer or a
/// request becomes an active booking: the hours may have changed since the slot was claimed.
pub fn check_hours(resource: &ResourceInfo, hours: &OpeningHours, interval: &Interval) -> Result<(), ScheduleError> {
    hours.check(resource.timezone, interval).map_err(ScheduleError::NotOpen)
}

impl Admission {
    /// How a booking of `resource` is admitted now; `message` is the requester's note to the
    /// approver. A resource that requires approval but names no approver takes no bookings.
    pub fn of(resource: &ResourceInfo, message: Option<String>) -> Result<Admission, ScheduleError> {
        if !resource.requires_approval {
            return Ok(Admission::Active);
        }
        let approver = resource.approver.ok_or(ScheduleError::NoApprover)?;
        Ok(Admission::Pending(ApprovalRequest { approver, message }))
    }

    pub fn status(&self) -> BookingStatus {
        match self {
            Admission::Active => BookingStatus::Active,
            Admission::Pending(_) => BookingStatus::PendingApproval,
        }
    }

    /// Where a held slot goes when its holder takes it (a hold confirmed, an offer accepted).
    pub fn outcome(&self) -> Outcome {
        match self {
            Admission::Active => Outcome::Active,
            Admission::Pending(_) => Outcome::PendingApproval,
        }
    }

    /// The check-in deadline of a booking of `interval` on `resource`: only an active booking
    /// has one (an approved request gets it when approved).
    pub fn checkin_deadline(&self, resource: &ResourceInfo, interval: &Interval) -> Option<DateTime<Utc>> {
        match self {
            Admission::Active => resource.checkin_window.map(|window| interval.start() + window),
            Admission::Pending(_) => None,
        }
    }

    /// The change that asks the approver about an existing `reservation` that becomes pending
    /// (new bookings carry their request in [`Change::Book`]).
    pub fn request_for(&self, reservation: ReservationId) -> Option<Change> {
        match self {
            Admission::Active => None,
            Admission::Pending(request) => Some(Change::RequestApproval {
                reservation,
                request: request.clone(),
            }),
        }
    }
}

impl Refusal {
    /// Why `interval` cannot be booked by the rules of when (`check_when`) or by `booked` (the
    /// bookings it overlaps), if it can't.
    pub fn of(resource: &ResourceInfo, hours: &OpeningHours, interval: &Interval, booked: bool) -> Option<Refusal> {
        match check_when(resource, hours, interval) {
            Err(ScheduleError::UnderMaintenance) => Some(Refusal::Maintenance),
            Err(ScheduleError::NotOpen(NotOpen::Blackout { .. })) => Some(Refusal::Blackout),
            Err(_) => Some(Refusal::Closed),
            Ok(()) => booked.then_some(Refusal::Booked),
        }
    }
}
