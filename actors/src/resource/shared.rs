//! What the resource actors share with their supervisor: the tuning of the actor system, the
//! store and clock, and the way back to the supervisor when an actor stops.
//!
//! It sits below both [`super::actor`] and [`super::supervisor`]: the supervisor starts actors
//! and the actors report to the supervisor only through [`StopListener`], so neither module
//! names the other's internals in both directions.

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::rules::BookingRules;
use super::store::ScheduleStore;
use super::types::ResourceId;
use crate::clock::Clock;

/// Tuning of the actor system.
#[derive(Debug, Clone)]
pub struct ActorConfig {
    pub rules: BookingRules,
    /// Longest a store call may take before the actor gives up and reloads.
    pub write_timeout: Duration,
    /// An actor that received no message for this long stops (its timers are handed over).
    pub idle_timeout: Duration,
    /// Messages that may queue for one actor before senders wait.
    pub mailbox_capacity: usize,
    /// Arbiter threads the actors are spread over.
    pub threads: usize,
    /// How long waitlist offers hold their slot.
    pub timings: Timings,
}

impl Default for ActorConfig {
    fn default() -> Self {
        ActorConfig {
            rules: BookingRules::default(),
            write_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(600),
            mailbox_capacity: 256,
            threads: 1,
            timings: Timings {
                offer_period: chrono::Duration::minutes(30),
            },
        }
    }
}

/// What every actor shares.
pub(super) struct Shared {
    pub store: Arc<dyn ScheduleStore>,
    pub clock: Arc<dyn Clock>,
    pub config: ActorConfig,
    /// The supervisor, told when an actor stops.
    pub stops: Weak<dyn StopListener>,
}

/// Timings of the time-driven features.
#[derive(Debug, Clone)]
pub struct Timings {
    /// How long a waitlist offer holds its slot.
    pub offer_period: chrono::Duration,
}

/// Told when an actor stops, so that its next deadline can start it again.
pub(super) trait StopListener: Send + Sync {
    fn actor_stopped(&self, resource: ResourceId, generation: u64, next_deadline: Option<DateTime<Utc>>);
}
