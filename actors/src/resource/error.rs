//! Why a request to a resource actor failed. Messages are user-facing (they become `detail`).

use chrono::Duration;

use super::store::StaleRow;
use crate::domain::{Interval, NotOpen, RecurrenceError};
use crate::fault::Fault;

/// Renders a duration the way people say it: "15 minutes", "24 hours", "1 hour 30 minutes".
pub fn human_duration(duration: Duration) -> String {
    let minutes = duration.num_minutes();
    let (hours, minutes) = (minutes / 60, minutes % 60);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match (hours, minutes) {
        (0, m) => plural(m, "minute"),
        (h, 0) => plural(h, "hour"),
        (h, m) => format!("{} {}", plural(h, "hour"), plural(m, "minute")),
    }
}

/// ": 10:00 to 11:00, 14:00 to 15:00" (UTC, as the wire format has them), or nothing when unknown.
fn slots(intervals: &[Interval]) -> String {
    if intervals.is_empty() {
        return String::new();
    }
    let slots: Vec<String> = intervals
        .iter()
        .map(|i| format!("{} to {}", i.start().format("%H:%M"), i.end().format("%H:%M")))
        .collect();
    format!(": {}", slots.join(", "))
}

/// What a client is told when its change was planned on a row another request had changed.
fn changed_meanwhile(row: &StaleRow) -> &'static str {
    match row {
        StaleRow::Reservation(_) => "The reservation was changed by another request; reload and try again",
        StaleRow::WaitlistEntry(_) => "The waitlist was changed by another request; reload and try again",
        StaleRow::Resource(_) => "The resource was changed by another request; reload and try again",
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    #[error("Start time must be in the future")]
    StartInPast,
    #[error("Reservation must be at least {}", human_duration(*min))]
    TooShort { min: Duration },
    #[error("Reservations cannot exceed {}", human_duration(*max))]
    TooLong { max: Duration },
    #[error("Resource is not available for reservations")]
    ResourceDisabled,
    #[error("Resource is unavailable for maintenance during the requested time")]
    UnderMaintenance,
    /// Outside the opening hours, or on a blackout date.
    #[error("{0}")]
    NotOpen(NotOpen),
    /// The slot overlaps these bookings.
    #[error("Time slot conflicts with existing reservations{}", slots(existing))]
    Conflict { existing: Vec<Interval> },
    /// The database refused the slot as overlapping a booking the actor's copy did not show:
    /// another process booked that time a moment before. Nothing was stored, and the actor
    /// reloads before its next message.
    #[error("Time slot conflicts with existing reservations")]
    ConflictFoundByStore,
    /// The slot overlaps an earlier item of the same batch on the same resource.
    #[error("Time slot conflicts with another reservation in this batch")]
    BatchConflict,
    /// These occurrences of a series overlap bookings, maintenance or closed time; nothing was
    /// booked.
    #[error("{} occurrence(s) of the series conflict with existing reservations, maintenance or opening hours", occurrences.len())]
    SeriesConflict { occurrences: Vec<Refused> },
    /// Every occurrence of a series conflicted, so there was nothing left to book.
    #[error("Every occurrence of the series conflicts with existing reservations, maintenance or opening hours")]
    NothingToBook,
    /// The recurrence of a series is not acceptable.
    #[error("{0}")]
    Recurrence(RecurrenceError),
    #[error("Resource not found")]
    ResourceNotFound,
    #[error("Reservation not found")]
    ReservationNotFound,
    #[error("Reservation is already cancelled")]
    AlreadyCancelled,
    #[error("Reservation is not active")]
    NotActive,
    #[error("Cannot change a reservation that has already ended")]
    AlreadyEnded,
    #[error("Cannot reschedule a reservation that has already started")]
    AlreadyStarted,
    #[error("Waitlist entry not found")]
    WaitlistEntryNotFound,
    #[error("Already on waitlist for this time slot")]
    AlreadyOnWaitlist,
    #[error("No active offer for this waitlist entry")]
    NoOffer,
    #[error("Offer has expired")]
    OfferExpired,
    #[error("Hold not found")]
    HoldNotFound,
    #[error("Hold has expired")]
    HoldExpired,
    #[error("This resource does not require check-in")]
    CheckInNotRequired,
    #[error("Check-in opens {} before the start", human_duration(*.0))]
    CheckInNotOpen(Duration),
    #[error("The check-in deadline has passed")]
    CheckInClosed,
    #[error("Already checked in")]
    AlreadyCheckedIn,
    #[error("Resource requires approval but no approver is configured")]
    NoApprover,
    #[error("Request is not pending")]
    NotPending,
    #[error("A resource with the name '{0}' already exists")]
    DuplicateName(String),
    /// Upcoming reservations prevent deleting the resource.
    #[error("Resource has {0} upcoming reservation(s); cancel them first or delete with cancel_reservations=true")]
    HasUpcomingReservations(usize),
    /// The change was planned on a row another process had changed meanwhile (see
    /// [`StaleRow`]); nothing was stored, the actor has reloaded, and a retry is answered from
    /// the stored state.
    #[error("{}", changed_meanwhile(.0))]
    Stale(StaleRow),
    /// The store did not answer in time or is unreachable; the request may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A fault in the store.
    #[error("storage failure")]
    Store(#[source] Fault),
}

impl ScheduleError {
    /// Whether the store refused the change because the actor's copy of the resource was stale:
    /// another process had changed a row the change was planned on ([`ScheduleError::Stale`]),
    /// or had booked time the copy showed free ([`ScheduleError::ConflictFoundByStore`]).
    /// Nothing was stored, and the actor reloaded before its next message, so the same message
    /// sent again is planned on the stored state.
    pub fn refused_a_stale_copy(&self) -> bool {
        matches!(self, ScheduleError::Stale(_) | ScheduleError::ConflictFoundByStore)
    }
}

/// Why a slot cannot be booked, as the API names it (`reason` of each refused occurrence of a
/// series). The rules are checked in the order single bookings check them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Under maintenance during the slot.
    Maintenance,
    /// Outside the opening hours.
    Closed,
    /// On a blackout date.
    Blackout,
    /// Overlaps a blocking booking (active, held or pending approval).
    Booked,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Maintenance => "maintenance",
            Refusal::Closed => "closed",
            Refusal::Blackout => "blackout",
            Refusal::Booked => "booked",
        }
    }
}

/// An occurrence of a series that was not booked, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub interval: Interval,
    pub reason: Refusal,
}
