//! The status of a stored reservation: the one vocabulary every read and write of the
//! `reservations.status` column goes through. [`BookingStatus`] (the states that block a slot)
//! and [`Outcome`] (where a change leaves a booking) are subsets of it and spell themselves
//! through it, so a status string exists exactly once.
//!
//! Reading a status the enum does not know is an error ([`UnknownStatus`]), never a default:
//! a row the server cannot interpret is a server fault, not an active booking.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// Every status a reservation row can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationStatus {
    Active,
    PendingApproval,
    Held,
    Cancelled,
    Expired,
    Released,
    Rejected,
}

/// A stored status this server does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown reservation status {0:?}")]
pub struct UnknownStatus(pub String);

/// A stored status that is not one of the blocking states where only those may appear.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reservation status {0:?} does not block a slot")]
pub struct NotBlocking(pub ReservationStatus);

impl ReservationStatus {
    pub const ALL: [ReservationStatus; 7] = [
        ReservationStatus::Active,
        ReservationStatus::PendingApproval,
        ReservationStatus::Held,
        ReservationStatus::Cancelled,
        ReservationStatus::Expired,
        ReservationStatus::Released,
        ReservationStatus::Rejected,
    ];

    /// The spelling in the database and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationStatus::Active => "active",
            ReservationStatus::PendingApproval => "pending_approval",
            ReservationStatus::Held => "held",
            ReservationStatus::Cancelled => "cancelled",
            ReservationStatus::Expired => "expired",
            ReservationStatus::Released => "released",
            ReservationStatus::Rejected => "rejected",
        }
    }
}

impl FromStr for ReservationStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReservationStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

impl fmt::Display for ReservationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ReservationStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_as_itself() {
        for status in ReservationStatus::ALL {
            assert_eq!(status.as_str().parse::<ReservationStatus>(), Ok(status));
        }
    }

    #[test]
    fn an_unknown_status_is_an_error_not_active() {
        assert_eq!("actve".parse::<ReservationStatus>(), Err(UnknownStatus("actve".into())));
        assert_eq!("".parse::<ReservationStatus>(), Err(UnknownStatus(String::new())));
    }
}
