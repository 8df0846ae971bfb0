//! Reservations: bookings of a resource by a user.
//!
//! - [`model`]: `ReservationOut` and the `X-Timezone` output zone.
//! - [`queries`]: a user's reservations, one reservation, its history — read from the database.
//!   (Every change goes through the resource's actor, see `crate::scheduling`.)

pub mod access;
pub mod model;
pub mod queries;
