//! What the resource actors need from persistent storage. The server implements it over SQL.
//!
//! An actor decides *what* changes and hands the store a list of [`Change`]s; the store applies
//! the whole list atomically — the changes, their history, their events — or nothing, and answers
//! only once that is durable. (The server's store may share one transaction among the lists of
//! several actors, each list in a savepoint of its own, so that one commit serves many.)
//! So a cancellation and the waitlist offer of the slot it frees, or an offer's expiry and the
//! offer to the next person, are one atomic step. The store's constraints are the last guard: an
//! overlapping booking is refused with [`StoreError::Overlap`] whatever the actor believed.
//!
//! The actor's state is a cache, and another process sharing the database may have changed a
//! row since it was loaded (the actor reloads once it reads that process's event, a few
//! milliseconds later). So every change to an existing row is conditional on the state the actor
//! planned it from — a booking's status (`Transition`, `Move`, `CheckIn`), a waitlist entry's
//! (`Offer`, `CloseWaitlist`), the resource's existence — and one that finds the row changed
//! refuses the whole batch with [`StoreError::Stale`]: nothing is stored, never a change made
//! over another process's.

use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;

use super::status::ReservationStatus;
use super::types::{
    Booking, BookingStatus, Maintenance, ReservationId, ResourceId, ResourceInfo, UserId, UserRef, WaitlistEntry,
    WaitlistId,
};
use crate::domain::{Interval, OpeningHours};
use crate::fault::Fault;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// The database is unreachable or overloaded.
    #[error("{0}")]
    Unavailable(String),
    /// The database refused an overlapping booking.
    #[error("overlapping booking")]
    Overlap,
    /// Another resource already has this name.
    #[error("duplicate resource name")]
    DuplicateName,
    /// The database broke a deadlock between this write and a concurrent one by failing this
    /// one; nothing of it was written, and running it again is safe.
    #[error("deadlock with a concurrent write")]
    Deadlock,
    /// A row the batch was planned on was changed by another process since the actor loaded it.
    #[error("{0:?} changed in the store since it was loaded")]
    Stale(StaleRow),
    /// A fault of the store (a failed query, a row that should be there); logged, never shown.
    #[error(transparent)]
    Other(Fault),
}

/// The row a [`StoreError::Stale`] found changed. Only rows another process may legitimately
/// change are reported so (a booking cancelled, moved, checked in or answered there, a waitlist
/// entry left or offered there, the resource deleted there); a row missing for any other reason,
/// such as one the same batch has just written, is a fault ([`StoreError::Other`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleRow {
    Reservation(ReservationId),
    WaitlistEntry(WaitlistId),
    Resource(ResourceId),
}

/// A resource with its blocking bookings and its active waitlist, as loaded at actor start.
#[derive(Debug, Clone)]
pub struct LoadedResource {
    pub info: ResourceInfo,
    /// Blocking bookings (active, pending approval, held), including ended ones not yet expired.
    pub bookings: Vec<Booking>,
    /// Waiting and offered entries, in queue order.
    pub waitlist: Vec<WaitlistEntry>,
    /// The opening hours and blackout dates that apply (the resource's, else the global ones).
    pub hours: OpeningHours,
}

/// The recurrence of a series as the API received it, stored with the series' bookings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRecord {
    pub frequency: String,
    pub interval: u32,
    pub days_of_week: Vec<u32>,
    pub end_type: String,
    pub end_date: Option<DateTime<Utc>>,
    pub occurrence_count: Option<u32>,
}

/// How a booking becomes active: at once, or once the resource's approver agrees.
///
/// This is the approval rule, decided in one place, `Admission::of` (in [`super::rules`]). Every path that gives a
/// user a booking — a new booking or series, a confirmed hold, an accepted waitlist offer, a
/// booking moved to another slot — asks it, so none can skip approval. Nobody is exempt (an
/// administrator's own booking waits too); the approver's answer is the only way from pending to
/// active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    Active,
    /// Pending approval; the request goes to the resource's approver.
    Pending(ApprovalRequest),
}

/// New bookings of one resource for one user: a single booking, or the occurrences of a series.
#[derive(Debug, Clone)]
pub struct NewBookings {
    pub user: UserRef,
    pub intervals: Vec<Interval>,
    pub series: Option<SeriesRecord>,
    /// Active, or pending approval (then an approval request goes to the approver).
    pub admission: Admission,
    /// On a resource that requires check-in: how long after its start each booking is released
    /// unless checked in.
    pub checkin_window: Option<Duration>,
    /// Ties the bookings to the client's `Idempotency-Key`, in the same transaction, so a retry
    /// after a crash finds what was booked.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    pub approver: UserId,
    pub message: Option<String>,
}

/// Where a blocking booking goes when it stops blocking — or to `Active` when a hold is
/// confirmed or a request approved, or to `PendingApproval` when a hold is confirmed on a
/// resource that requires approval (its [`Change::RequestApproval`] comes with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Active,
    PendingApproval,
    Cancelled,
    /// Ended (active), or lapsed (a hold or an offer nobody took).
    Expired,
    /// Not checked in by the deadline.
    Released,
    /// Refused by the approver, or no decision before the start.
    Rejected,
}

impl Outcome {
    /// The state in which a booking going to this outcome keeps blocking its slot, if it does.
    pub fn blocking(self) -> Option<BookingStatus> {
        match self {
            Outcome::Active => Some(BookingStatus::Active),
            Outcome::PendingApproval => Some(BookingStatus::PendingApproval),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        ReservationStatus::from(self).as_str()
    }
}

/// How a waitlist entry leaves the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitlistClosed {
    Fulfilled,
    Expired,
    Cancelled,
}

impl WaitlistClosed {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitlistClosed::Fulfilled => "fulfilled",
            WaitlistClosed::Expired => "expired",
            WaitlistClosed::Cancelled => "cancelled",
        }
    }
}

/// A reservation referred to by a change: the one made by the change at this index of the same
/// batch (the only reference a change needs today: an offer's hold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationRef {
    New(usize),
}

/// A waitlist entry referred to by a change: an existing one, or the one added by the change at
/// this index of the same batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitlistRef {
    Existing(WaitlistId),
    New(usize),
}

impl WaitlistRef {
    /// The entry's id, given what the batch's earlier changes produced.
    pub fn resolve(self, applied: &[Applied]) -> Option<WaitlistId> {
        match self {
            WaitlistRef::Existing(id) => Some(id),
            WaitlistRef::New(index) => match applied.get(index) {
                Some(Applied::Waitlist(id)) => Some(*id),
                _ => None,
            },
        }
    }
}

impl ReservationRef {
    /// The reservation's id, given what the batch's earlier changes produced.
    pub fn resolve(self, applied: &[Applied]) -> Option<ReservationId> {
        match self {
            ReservationRef::New(index) => match applied.get(index) {
                Some(Applied::Reservation(id)) => Some(*id),
                _ => None,
            },
        }
    }
}

/// One step of an actor's transition. A batch is applied in order, atomically.
#[derive(Debug, Clone)]
pub enum Change {
    /// New active or pending bookings (one, or a series) → [`Applied::Booked`].
    Book(NewBookings),
    /// A `held` reservation: a temporary hold, or the slot offered to a waitlist entry
    /// → [`Applied::Reservation`].
    Hold {
        user: UserRef,
        interval: Interval,
        until: DateTime<Utc>,
        offer_for: Option<WaitlistRef>,
    },
    /// A blocking booking changes state; refused unless it is still in `from`.
    Transition {
        reservation: ReservationId,
        from: BookingStatus,
        to: Outcome,
        by: Option<UserId>,
        reason: Option<String>,
        /// Going to `Active` on a resource that requires check-in: the check-in deadline.
        checkin_deadline: Option<DateTime<Utc>>,
    },
    /// A booking that has not started moves to another slot, in `status` (pending approval on a
    /// resource that requires it, with its [`Change::RequestApproval`]); refused unless it is
    /// still in `from`.
    Move {
        reservation: ReservationId,
        from: BookingStatus,
        by: UserId,
        to: Interval,
        status: BookingStatus,
    },
    /// Asks the approver about an existing booking that became pending (a confirmed hold, an
    /// accepted offer, a moved booking); a request it had before is reopened.
    RequestApproval {
        reservation: ReservationId,
        request: ApprovalRequest,
    },
    /// Refused unless the booking is still active and not checked in.
    CheckIn { reservation: ReservationId },
    /// Records the approver's answer to a pending booking (its `Transition` comes with it).
    Answer {
        reservation: ReservationId,
        approved: bool,
        by: Option<UserId>,
        message: Option<String>,
    },
    JoinWaitlist {
        user: UserRef,
        desired: Interval,
        flexible: bool,
    },
    /// The entry is offered the slot held by `hold` until `until`; refused unless it is still
    /// waiting.
    Offer {
        entry: WaitlistRef,
        hold: ReservationRef,
        until: DateTime<Utc>,
    },
    /// Refused unless the entry is still waiting or offered.
    CloseWaitlist { entry: WaitlistId, status: WaitlistClosed },
    /// Changes the resource itself → [`Applied::Resource`].
    UpdateResource(ResourcePatch),
    /// Deletes the resource (after the batch's cancellations).
    DeleteResource,
}

/// What a change produced, at the change's index in the batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    Booked(Vec<StoredBooking>),
    Reservation(ReservationId),
    Waitlist(WaitlistId),
    Resource(ResourceInfo),
    Done,
}

/// A booking as stored: its id and creation time, and its place in a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBooking {
    pub id: ReservationId,
    pub created_at: DateTime<Utc>,
    pub series: Option<super::types::SeriesLink>,
}

/// A change to the resource itself. `None` fields are left as they are.
#[derive(Debug, Clone, Default)]
pub struct ResourcePatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub timezone: Option<chrono_tz::Tz>,
    pub enabled: Option<bool>,
    pub maintenance: Option<Option<Maintenance>>,
    pub requires_approval: Option<bool>,
    pub approver: Option<Option<UserId>>,
    pub checkin_window: Option<Option<Duration>>,
}

pub type StoreResult<T> = BoxFuture<'static, Result<T, StoreError>>;

pub trait ScheduleStore: Send + Sync + 'static {
    /// The resource, its blocking bookings (ended ones included until they are expired), its
    /// active waitlist and its opening hours; `None` if it does not exist.
    fn load(&self, resource: ResourceId) -> StoreResult<Option<LoadedResource>>;
    /// Those of `reservations` of `resource` that block time (as [`load`](Self::load) counts
    /// them), as stored now; the others (cancelled, expired, of another resource) are absent.
    fn load_bookings(&self, resource: ResourceId, reservations: Vec<ReservationId>) -> StoreResult<Vec<Booking>>;
    /// Applies `changes` to `resource` atomically and durably, at `now`; one [`Applied`] per change.
    fn apply(&self, resource: ResourceId, now: DateTime<Utc>, changes: Vec<Change>) -> StoreResult<Vec<Applied>>;
    /// Applies the changes of several resources atomically, at `now` (a batch over
    /// several resources, see [`super::batch`]): all of them or none. One list of [`Applied`]
    /// per resource, in the order given.
    fn apply_many(&self, now: DateTime<Utc>, parts: Vec<(ResourceId, Vec<Change>)>) -> StoreResult<Vec<Vec<Applied>>>;
    /// For every resource with time-driven work pending, the earliest instant it is due (a past
    /// instant for a resource with someone waiting on its waitlist: its actor loads at once, and
    /// loading offers what is free). Read once at start-up to re-arm the timers.
    fn pending_deadlines(&self) -> StoreResult<Vec<(ResourceId, DateTime<Utc>)>>;
}

// Where a change leaves a booking is one of the stored statuses, spelled through it.
impl From<Outcome> for ReservationStatus {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Active => ReservationStatus::Active,
            Outcome::PendingApproval => ReservationStatus::PendingApproval,
            Outcome::Cancelled => ReservationStatus::Cancelled,
            Outcome::Expired => ReservationStatus::Expired,
            Outcome::Released => ReservationStatus::Released,
            Outcome::Rejected => ReservationStatus::Rejected,
        }
    }
}
