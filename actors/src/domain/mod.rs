//! The pure scheduling domain: no I/O, no clock of its own, exhaustively tested.
//!
//! - [`interval`]: half-open `[start, end)` intervals of UTC instants.
//! - [`schedule`]: a resource's non-overlapping bookings with O(log n) conflict search.
//! - [`opening_hours`]: weekly opening hours and blackout dates, read on the resource's wall
//!   clock: does a booking lie entirely in open time?
//! - [`recurrence`]: recurring series (daily, weekly, monthly) expanded in the resource's IANA
//!   time zone, keeping the local wall-clock time across DST changes.

pub mod interval;
pub mod opening_hours;
pub mod recurrence;
pub mod schedule;

pub use interval::{EmptyInterval, Interval};
pub use opening_hours::{DayHours, NotOpen, OpeningHours, TimeOfDay};
pub use recurrence::{Frequency, RecurrenceError, RecurrenceRule, SeriesEnd, expand};
pub use schedule::Schedule;
