//! The pure scheduling domain: no I/O, no clock of its own, exhaustively tested.
//!
//! - [`interval`]: half-open `[start, end)` intervals of UTC instants.
//! - [`schedule`]: a resource's non-overlapping bookings with O(log n) conflict search.

pub mod interval;
pub mod schedule;

pub use interval::{EmptyInterval, Interval};
pub use schedule::Schedule;
