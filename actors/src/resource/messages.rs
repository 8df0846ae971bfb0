//! The messages a resource actor answers. Each is handled alone, database write included.

use actix::Message;
use chrono::{DateTime, NaiveDate, Utc, Weekday};

use super::error::ScheduleError;
use super::follow::Followed;
use super::rules::Refused;
use super::store::{ResourcePatch, SeriesRecord};
use super::types::{Booking, ReservationId, ResourceInfo, UserId, UserRef, WaitlistEntry, WaitlistId};
use super::vote::{PartChecked, Vote};
use crate::domain::{Frequency, Interval};

/// Waits until the actor has loaded its resource.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), ScheduleError>")]
pub struct Ready;

/// Books one slot.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Booked, ScheduleError>")]
pub struct Book {
    pub user: UserRef,
    pub interval: Interval,
    /// For the approver, when the resource requires approval.
    pub message: Option<String>,
    pub idempotency_key: Option<String>,
}

/// When a recurring series ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesUntil {
    /// After this many occurrences.
    Count(u32),
    /// With the last occurrence on or before this local date of the resource.
    Date(NaiveDate),
    /// With the last occurrence starting on or before the local date of this instant, in the
    /// resource's time zone.
    Instant(DateTime<Utc>),
    /// After the most occurrences a series may have.
    Never,
}

/// Books a recurring series: the first slot repeated by the rule, in the resource's time zone.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<SeriesBooked, ScheduleError>")]
pub struct BookSeries {
    pub user: UserRef,
    pub first: Interval,
    pub frequency: Frequency,
    pub interval: u32,
    pub weekdays: Vec<Weekday>,
    pub until: SeriesUntil,
    /// The rule as the client sent it, stored with the series.
    pub record: SeriesRecord,
    /// Book the occurrences that are free and report the others, instead of refusing the whole
    /// series when one conflicts.
    pub skip_conflicts: bool,
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SeriesBooked {
    pub booked: Booked,
    /// Occurrences left out because they conflicted, and why (only with `skip_conflicts`).
    pub skipped: Vec<Refused>,
}

/// The outcome of a booking: what was stored, and the resource it was made on.
#[derive(Debug, Clone)]
pub struct Booked {
    pub bookings: Vec<Booking>,
    pub resource: ResourceInfo,
}

/// Which bookings a cancellation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelScope {
    /// Only the given booking.
    One,
    /// The given booking and every later booking of its series.
    Following,
}

#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Cancelled, ScheduleError>")]
pub struct Cancel {
    pub reservation: ReservationId,
    pub by: UserId,
    pub reason: Option<String>,
    pub scope: CancelScope,
    /// Cancel only if the booking is still in this state (withdrawing a request that may have
    /// just been approved, releasing a hold that may have just been confirmed).
    pub only_if: Option<super::types::BookingStatus>,
}

#[derive(Debug, Clone)]
pub struct Cancelled {
    pub bookings: Vec<Booking>,
    pub at: DateTime<Utc>,
}

/// Moves a booking that has not started to another slot of the same resource.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Booked, ScheduleError>")]
pub struct Reschedule {
    pub reservation: ReservationId,
    pub by: UserId,
    pub to: Interval,
}

/// Marks every booking that has ended as expired now (the admin clean-up; the actor's own timer
/// does the same at each booking's end).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<usize, ScheduleError>")]
pub struct ExpireEnded;

/// Changes the resource (name, description, tags, time zone, enabled flag).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<ResourceInfo, ScheduleError>")]
pub struct UpdateResource(pub ResourcePatch);

/// Puts the resource under maintenance from now, ending by itself after `auto_reset_hours`.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<ResourceInfo, ScheduleError>")]
pub struct StartMaintenance {
    pub auto_reset_hours: Option<i64>,
}

/// Ends maintenance now.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<ResourceInfo, ScheduleError>")]
pub struct EndMaintenance;

/// Deletes the resource. Refused while bookings are upcoming unless `cancel_upcoming`, which
/// cancels them first.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Cancelled, ScheduleError>")]
pub struct DeleteResource {
    pub by: UserId,
    pub cancel_upcoming: bool,
}

/// Reloads the resource from the store (after a change made outside the actor, such as a tag
/// renamed across all resources).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), ScheduleError>")]
pub struct Refresh;

/// Takes in these bookings of the resource that another server process changed, in the order
/// of their events: as the events carried them, or read again from the store where an event
/// only said that a booking changed (one indexed read). The actor falls back to the whole
/// reload of [`Refresh`] when it cannot follow this way.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), ScheduleError>")]
pub struct FollowBookings(pub Vec<Followed>);

/// Joins the waitlist for a slot (exact) or any free part of a window (flexible). If the slot
/// is free already, the answer carries an offer.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Joined, ScheduleError>")]
pub struct JoinWaitlist {
    pub user: UserRef,
    pub desired: Interval,
    pub flexible: bool,
}

#[derive(Debug, Clone)]
pub struct Joined {
    pub entry: WaitlistEntry,
    /// 1 for the first in the resource's queue.
    pub position: usize,
}

/// Leaves the waitlist; an offer held for the entry is released (and offered to the next).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<(), ScheduleError>")]
pub struct LeaveWaitlist {
    pub entry: WaitlistId,
}

/// Accepts the offer made to a waitlist entry: the held slot becomes the user's booking.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Booked, ScheduleError>")]
pub struct AcceptOffer {
    pub entry: WaitlistId,
    pub by: UserId,
}

/// Holds a free slot for a few minutes (while its user fills in a form); it blocks others and
/// lapses by itself unless confirmed.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Booked, ScheduleError>")]
pub struct PlaceHold {
    pub user: UserRef,
    pub interval: Interval,
    pub minutes: i64,
}

/// Turns the caller's hold into a booking.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Booked, ScheduleError>")]
pub struct ConfirmHold {
    pub reservation: ReservationId,
    pub by: UserId,
}

/// Checks in to a booking on a resource that requires it.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<DateTime<Utc>, ScheduleError>")]
pub struct CheckIn {
    pub reservation: ReservationId,
}

/// The approver's answer to a pending booking.
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<Booked, ScheduleError>")]
pub struct Answer {
    pub reservation: ReservationId,
    pub approve: bool,
    pub by: UserId,
    pub message: Option<String>,
}

/// One resource's part of a batch over several resources (see [`crate::resource::batch`]):
/// `items` (their index in the batch, and their slot) are checked with the rules of [`Book`],
/// against the schedule and against each other.
///
/// Without a `vote` it only checks (a dry run, or the first round of a real batch). With one, the
/// actor also plans the bookings, tells the coordinator through the vote whether it is prepared,
/// and if it is, handles nothing else until the coordinator's decision (or the vote's timeout).
#[derive(Debug, Clone, Message)]
#[rtype(result = "Result<PartChecked, ScheduleError>")]
pub struct BookPart {
    pub user: UserRef,
    pub items: Vec<(usize, Interval)>,
    /// The batch's instant: every part is checked and stored at the same one.
    pub now: DateTime<Utc>,
    pub vote: Option<Vote>,
}
