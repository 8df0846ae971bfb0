//! Reservations: bookings of a resource by a user.
//!
//! - [`model`]: `ReservationOut` and the `X-Timezone` output zone.
//! - [`names`]: whose name a caller may see on a booking (`RESERVATION_NAMES_VISIBLE`).
//! - [`holds`]: a user's open holds.
//! - [`queries`]: a user's reservations, one reservation, its history — read from the database.
//!   (Every change goes through the resource's actor, see `crate::scheduling`.)

pub mod access;
pub mod holds;
pub mod model;
pub mod names;
pub mod queries;
mod status;

pub use status::status;
