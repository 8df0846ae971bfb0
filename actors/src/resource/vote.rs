//! The vote of a resource actor in a batch over several resources (see [`super::batch`]): how
//! a prepared actor answers the coordinator, learns its decision, and gives up on a slow batch.
//!
//! It sits below both the coordinator and the actor, so that neither names the other.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::error::ScheduleError;
use super::store::{Applied, Change};
use super::types::{BookingStatus, ResourceInfo};

/// What a resource answered about its part of a batch.
#[derive(Debug, Clone)]
pub struct PartChecked {
    pub resource: ResourceInfo,
    /// The state the bookings are (or would be) made in: active, or pending approval.
    pub status: BookingStatus,
    /// The items the rules refuse, by batch index; nothing is booked when there is one.
    pub refused: Vec<(usize, ScheduleError)>,
}

/// The coordinator's decision, sent to every prepared actor.
#[derive(Debug)]
pub enum Decision {
    /// Stored; what the store answered for this actor's changes.
    Applied(Vec<Applied>),
    /// Nothing was stored; nothing changes.
    Abort,
    /// The store failed, maybe half-way from the actor's point of view: reload.
    Reload,
}

/// What a prepared actor tells the coordinator: its check, and the changes it planned (none
/// when it refused an item).
pub type Prepared = Result<(PartChecked, Vec<Change>), ScheduleError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Preparing,
    Committing,
    Abandoned,
}

/// The batch's phase, shared by the coordinator and its actors, so that an actor giving up on a
/// slow batch and the coordinator starting the commit cannot both happen.
#[derive(Debug)]
pub struct Ticket(Mutex<Phase>);

impl Default for Ticket {
    /// A batch being prepared.
    fn default() -> Ticket {
        Ticket(Mutex::new(Phase::Preparing))
    }
}

impl Ticket {
    fn swap(&self, to: Phase, unless: Phase) -> bool {
        let mut phase = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if *phase == unless {
            return false;
        }
        *phase = to;
        true
    }

    /// The coordinator starts the commit, unless an actor has abandoned the batch.
    pub fn commit(&self) -> bool {
        self.swap(Phase::Committing, Phase::Abandoned)
    }

    /// The batch is given up, unless its commit has begun (then its outcome must be awaited).
    pub fn abandon(&self) -> bool {
        self.swap(Phase::Abandoned, Phase::Committing)
    }
}

pub struct VoteChannels {
    pub prepared: oneshot::Sender<Prepared>,
    pub decision: oneshot::Receiver<Decision>,
}

/// An actor's part in the prepare round: how it answers, how it learns the decision, and how
/// long it waits for it. Taken once: a copy delivered again (to an actor that replaced a crashed
/// one) finds it empty and refuses.
#[derive(Clone)]
pub struct Vote {
    channels: Arc<Mutex<Option<VoteChannels>>>,
    pub ticket: Arc<Ticket>,
    pub pause: Duration,
}

impl fmt::Debug for Vote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vote")
            .field("pause", &self.pause)
            .finish_non_exhaustive()
    }
}

impl Vote {
    pub fn new(
        prepared: oneshot::Sender<Prepared>,
        decision: oneshot::Receiver<Decision>,
        ticket: Arc<Ticket>,
        pause: Duration,
    ) -> Vote {
        Vote {
            channels: Arc::new(Mutex::new(Some(VoteChannels { prepared, decision }))),
            ticket,
            pause,
        }
    }

    /// The channels, the first time (see [`Vote`]).
    pub fn take(&self) -> Option<VoteChannels> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}
