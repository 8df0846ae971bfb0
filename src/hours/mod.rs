//! Opening hours and blackout dates, enforced at booking time.
//!
//! - [`model`]: the API's shapes (`BusinessHoursOut`, `BlackoutOut`) and the validation of input.
//! - [`store`]: the only SQL on `business_hours` and `blackout_dates`; what applies to a resource
//!   ([`store::in_force`], loaded by its actor); changes, each with its outbox event.
//! - [`availability`]: what the schedule and status reads say about bookability (closed and
//!   free periods, open now), from an actor's snapshot.
//! - [`closed`]: which resources are closed during a window, as a SQL condition, for the reads
//!   over many resources (search, summary).
//! - [`slots`]: `available-slots` and `next-available`, computed from an actor's snapshot.
//!
//! Invariants: the resource actors enforce what [`store::in_force`] returns (their own rows if
//! the resource has any, else the global rows, else always open; blackout dates of the resource
//! and global ones), read on the resource's wall clock (`reserver_actors::domain::opening_hours`).
//! Every change is written with an event (`business_hours_updated`, `blackout_dates_updated`) in
//! its transaction; the writer then refreshes the affected actors of its own process, and other
//! processes' tailers refresh theirs when the event arrives (all live actors for a global change).

pub mod availability;
pub mod closed;
pub mod model;
pub mod slots;
pub mod store;
