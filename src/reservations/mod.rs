//! Reservations: bookings of a resource by a user.
//!
//! - [`model`]: `ReservationOut`, the reservation as the API shows it.
//! - [`names`]: the [`crate::auth::booking_names::Viewer`] of a read, taken from the request.
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
