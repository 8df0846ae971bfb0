//! One actor per resource, and their supervisor.
//!
//! - [`types`]: what an actor knows about its resource and bookings; the published snapshot.
//! - [`rules`]: the booking rules every path enforces.
//! - [`messages`]: what an actor answers.
//! - [`actor`]: the actor — single writer of its resource's schedule, database write included.
//! - [`batch`]: batches over several resources, all or nothing (prepare in resource order, then
//!   one transaction).
//! - [`vote`]: how an actor takes part in such a batch (below both the actor and the batch).
//! - [`supervisor`]: lazy start, crash replacement, idle stop, wake-ups for due work.
//! - `shared`: the actor system's tuning and what the actors share with the supervisor (below
//!   both, so that they do not depend on each other in a circle).
//! - [`store`]: the persistence the actors need, implemented by the server.
//! - [`error`]: why a request failed, in user-facing words.
//! - [`follow`]: what an actor learns of bookings another server process changed.

pub mod actor;
pub mod batch;
pub mod error;
pub mod follow;
pub mod messages;
pub mod rules;
mod shared;
pub mod status;
pub mod store;
pub mod supervisor;
pub mod types;
pub mod vote;

pub use actor::ResourceActor;
pub use batch::{BatchError, BatchItem, Checked, Planned};
pub use error::ScheduleError;
pub use follow::{BookingCopy, Followed};
pub use messages::*;
pub use rules::BookingRules;
pub use shared::ActorConfig;
pub use status::{NotBlocking, ReservationStatus, UnknownStatus};
pub use store::{ScheduleStore, StaleRow, StoreError};
pub use supervisor::{ResourceSupervisor, SupervisorStats};
pub use types::*;
pub use vote::PartChecked;
