//! The scheduling core of Resource Reserver: actors and the pure domain they use.
//!
//! - [`clock`]: the source of "now" and of timers, swappable for a manual clock in tests.
//! - [`domain`]: the pure scheduling domain, no I/O:
//!   - [`domain::interval`]: half-open `[start, end)` intervals of UTC instants;
//!   - [`domain::schedule`]: a resource's non-overlapping bookings, O(log n) conflict search;
//!   - [`domain::recurrence`]: recurring series expanded in the resource's IANA time zone, so a
//!     09:00 booking stays at 09:00 local across DST changes.
//! - [`resource`]: the resource actors and their supervisor.
//! - [`notifier`]: fans committed events out to live (WebSocket) sessions by topic.
//! - [`webhook`]: the webhook dispatcher — claims due deliveries, sends them with bounded
//!   concurrency, retries failures on a timer.
//!
//! Invariants: this crate performs no I/O of its own and knows nothing of HTTP or SQL; the
//! server hands it what it needs (a clock, a store, an HTTP sender) through traits.

pub mod clock;
pub mod domain;
pub mod fault;
pub mod mail;
pub mod notifier;
pub mod request;
pub mod resource;
pub mod retry;
pub mod webhook;

pub use clock::{Clock, ManualClock, SystemClock};
