//! What a resource's actor learns of a booking that another server process changed, from the
//! event of that change ([`super::FollowBookings`]).
//!
//! Every process on one database follows every other's changes (their events reach its sockets
//! anyway), so following must cost next to nothing beyond reading the events. A change that
//! makes a booking (a new booking, a hold) stores the booking beside its event
//! ([`BookingCopy`], in the outbox row), and a change that ends one says so by its kind; the
//! follower takes either in without reading anything. Only the changes in between (a move, a
//! check-in, an approval) are read again from the store.
//!
//! Applying these in event order gives the state of the last event: a booking is made once,
//! before any other change of it, and an ended booking never blocks again.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::status::ReservationStatus;
use super::types::{Booking, BookingStatus, ReservationId, SeriesLink, UserId, UserRef, WaitlistId};
use crate::domain::Interval;

/// A booking another process changed, as the event of its change tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Followed {
    /// The booking as it stands after the change (the event carried it).
    Now(Booking),
    /// The booking no longer blocks its slot (cancelled, expired, released, rejected).
    Ended(ReservationId),
    /// Only that the booking changed: the actor reads it again.
    Changed(ReservationId),
}

impl Followed {
    /// The booking to read again from the store, if the event did not say enough.
    pub fn to_read(&self) -> Option<ReservationId> {
        match self {
            Followed::Changed(id) => Some(*id),
            Followed::Now(_) | Followed::Ended(_) => None,
        }
    }
}

/// A booking as one process tells the others, stored with the event of the change that made
/// it. Its own shape (not [`Booking`]'s) so that the stored form is fixed here, and read back
/// through [`Booking::try_from`], which checks it like a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingCopy {
    pub id: ReservationId,
    pub user_id: UserId,
    pub username: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub status: String,
    #[serde(default)]
    pub rule_id: Option<i64>,
    #[serde(default)]
    pub parent: Option<ReservationId>,
    #[serde(default)]
    pub hold_expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub offer_for: Option<WaitlistId>,
    #[serde(default)]
    pub checkin_deadline: Option<DateTime<Utc>>,
    #[serde(default)]
    pub checked_in_at: Option<DateTime<Utc>>,
}

impl From<&Booking> for BookingCopy {
    fn from(booking: &Booking) -> BookingCopy {
        BookingCopy {
            id: booking.id,
            user_id: booking.user.id,
            username: booking.user.name.to_string(),
            start: booking.interval.start(),
            end: booking.interval.end(),
            created_at: booking.created_at,
            status: booking.status.as_str().to_owned(),
            rule_id: booking.series.map(|series| series.rule_id),
            parent: booking.series.and_then(|series| series.parent),
            hold_expires_at: booking.hold_expires_at,
            offer_for: booking.offer_for,
            checkin_deadline: booking.checkin_deadline,
            checked_in_at: booking.checked_in_at,
        }
    }
}

/// A stored copy that is no booking: an empty interval, or a status that does not block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a stored booking copy is invalid: {0}")]
pub struct InvalidCopy(String);

impl TryFrom<BookingCopy> for Booking {
    type Error = InvalidCopy;

    fn try_from(copy: BookingCopy) -> Result<Booking, InvalidCopy> {
        let interval = Interval::new(copy.start, copy.end).map_err(|e| InvalidCopy(e.to_string()))?;
        let status: ReservationStatus = copy
            .status
            .parse()
            .map_err(|e: super::UnknownStatus| InvalidCopy(e.to_string()))?;
        let status = BookingStatus::try_from(status).map_err(|e| InvalidCopy(e.to_string()))?;
        Ok(Booking {
            id: copy.id,
            user: UserRef {
                id: copy.user_id,
                name: copy.username.into(),
            },
            interval,
            created_at: copy.created_at,
            series: copy.rule_id.map(|rule_id| SeriesLink {
                rule_id,
                parent: copy.parent,
            }),
            status,
            hold_expires_at: copy.hold_expires_at,
            offer_for: copy.offer_for,
            checkin_deadline: copy.checkin_deadline,
            checked_in_at: copy.checked_in_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, hour, 0, 0).unwrap()
    }

    #[test]
    fn a_copy_gives_back_the_booking_it_was_made_of() {
        let booking = Booking {
            series: Some(SeriesLink {
                rule_id: 7,
                parent: Some(3),
            }),
            status: BookingStatus::Held,
            hold_expires_at: Some(at(8)),
            offer_for: Some(9),
            checkin_deadline: Some(at(10)),
            ..Booking::active(
                4,
                UserRef {
                    id: 2,
                    name: "ana".into(),
                },
                Interval::new(at(9), at(11)).unwrap(),
                at(1),
            )
        };
        assert_eq!(Booking::try_from(BookingCopy::from(&booking)), Ok(booking));
    }

    #[test]
    fn a_copy_that_is_no_blocking_booking_is_refused() {
        let booking = Booking::active(
            4,
            UserRef {
                id: 2,
                name: "ana".into(),
            },
            Interval::new(at(9), at(11)).unwrap(),
            at(1),
        );
        let ended = BookingCopy {
            status: "cancelled".into(),
            ..BookingCopy::from(&booking)
        };
        assert!(Booking::try_from(ended).is_err());
        let empty = BookingCopy {
            end: at(9),
            ..BookingCopy::from(&booking)
        };
        assert!(Booking::try_from(empty).is_err());
        let unknown = BookingCopy {
            status: "booked".into(),
            ..BookingCopy::from(&booking)
        };
        assert!(Booking::try_from(unknown).is_err());
    }
}
