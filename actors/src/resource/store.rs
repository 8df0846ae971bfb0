//! What the resource actors need from persistent storage. The server implements it over SQL.
//!
//! Every method applies one change atomically — the change itself, its history and (later) its
//! outbox events in one transaction — or nothing. The actor decides *what* changes; the store
//! only records it, and its database constraints are the last guard (an overlapping booking is
//! refused with [`StoreError::Overlap`] whatever the actor believed).

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use super::types::{Booking, Maintenance, ReservationId, ResourceId, ResourceInfo, UserId, UserRef};
use crate::domain::Interval;

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
    #[error("{0}")]
    Other(String),
}

/// A resource and its blocking bookings, as loaded at actor start.
#[derive(Debug, Clone)]
pub struct LoadedResource {
    pub info: ResourceInfo,
    /// Blocking bookings, including ended ones not yet marked expired.
    pub bookings: Vec<Booking>,
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

/// New bookings of one resource for one user: a single booking, or the occurrences of a series.
#[derive(Debug, Clone)]
pub struct NewBookings {
    pub resource: ResourceId,
    pub user: UserRef,
    pub intervals: Vec<Interval>,
    pub series: Option<SeriesRecord>,
    /// Ties the bookings to the client's `Idempotency-Key`, in the same transaction, so a retry
    /// after a crash finds what was booked.
    pub idempotency_key: Option<String>,
    pub now: DateTime<Utc>,
}

/// A booking as stored: its id and creation time, and its place in a series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBooking {
    pub id: ReservationId,
    pub created_at: DateTime<Utc>,
    pub series: Option<super::types::SeriesLink>,
}

/// Cancellation of bookings of one resource.
#[derive(Debug, Clone)]
pub struct Cancellation {
    pub resource: ResourceId,
    pub reservations: Vec<ReservationId>,
    pub by: UserId,
    pub reason: Option<String>,
    pub now: DateTime<Utc>,
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
}

pub type StoreResult<T> = BoxFuture<'static, Result<T, StoreError>>;

pub trait ScheduleStore: Send + Sync + 'static {
    /// The resource and its blocking bookings (ended ones included until they are expired);
    /// `None` if it does not exist.
    fn load(&self, resource: ResourceId) -> StoreResult<Option<LoadedResource>>;
    /// Stores new bookings (all or none), with their history.
    fn insert_bookings(&self, bookings: NewBookings) -> StoreResult<Vec<StoredBooking>>;
    /// Cancels bookings (all or none), with their history.
    fn cancel_bookings(&self, cancellation: Cancellation) -> StoreResult<()>;
    /// Moves a booking to a new interval, with its history.
    fn reschedule(&self, reservation: ReservationId, by: UserId, to: Interval, now: DateTime<Utc>) -> StoreResult<()>;
    /// Marks bookings that have ended as expired.
    fn expire_bookings(
        &self,
        resource: ResourceId,
        reservations: Vec<ReservationId>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Applies a patch to the resource and returns it as stored.
    fn update_resource(
        &self,
        resource: ResourceId,
        patch: ResourcePatch,
        now: DateTime<Utc>,
    ) -> StoreResult<ResourceInfo>;
    /// Deletes the resource after cancelling the given bookings.
    fn delete_resource(&self, cancellation: Cancellation) -> StoreResult<()>;
    /// For every resource with time-driven work pending (bookings to expire, maintenance to end),
    /// the earliest instant it is due. Read once at start-up to re-arm the timers.
    fn pending_deadlines(&self) -> StoreResult<Vec<(ResourceId, DateTime<Utc>)>>;
}
