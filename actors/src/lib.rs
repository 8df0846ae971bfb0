//! The scheduling core of Resource Reserver: actors and the pure domain they use.
//!
//! - [`clock`]: the source of "now" and of timers, swappable for a manual clock in tests.
//! - [`domain`]: the pure scheduling domain (intervals, schedules, recurrence).
//! - [`resource`]: the resource actors and their supervisor.
//!
//! Invariants: this crate performs no I/O of its own and knows nothing of HTTP or SQL; the
//! server hands it what it needs (a clock, a store) through traits.

pub mod clock;
pub mod domain;
pub mod resource;

pub use clock::{Clock, ManualClock, SystemClock};
