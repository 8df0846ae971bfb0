//! Batches of bookings over several resources, all or nothing: the coordinator.
//!
//! A batch books slots on many resources for one user. Each resource's actor checks its items
//! with the rules of a single booking ([`BookPart`], handled next to `Book`), so no path skips
//! one. Committing the batch is a two-phase protocol:
//!
//! 1. **Check.** Every resource checks its part at once, without pausing. Any refusal ends the
//!    batch here, reporting every refused item; a dry run stops here in any case.
//! 2. **Prepare**, in ascending resource id. The coordinator sends each actor its part with a
//!    [`Vote`]. The actor checks the part again (the schedule may have changed since phase 1),
//!    plans its [`Change`]s, answers "prepared" through the vote, and then *keeps its mailbox
//!    paused*: its handler's future awaits the coordinator's decision, so no other write to that
//!    resource interleaves. A refusal at any resource aborts: the actors prepared so far resume
//!    with nothing changed.
//! 3. **Commit.** With every actor prepared, the coordinator stores all their changes in one
//!    transaction ([`ScheduleStore::apply_many`]) — the bookings, their history and events —
//!    and hands each actor what the store answered, to apply to its state before it resumes.
//!    If the store refuses (an overlap written by another process) or does not answer, each
//!    actor reloads its state from the store instead.
//!
//! Invariants:
//! - All or nothing: either every item is stored, in one transaction, or none is.
//! - No double booking: a resource's actor plans its part on the state it then holds still
//!   until the commit, exactly as it holds still during its own writes; the database's overlap
//!   guard still applies across processes.
//! - No deadlock: every batch prepares its resources in ascending id order, and a single
//!   message never waits for another actor, so no cycle of waits can form.
//! - Bounded pauses: a prepared actor waits at most `2 × write_timeout` for a decision. After
//!   that it abandons the batch (the shared [`Ticket`] makes "abandon" and "commit" mutually
//!   exclusive, see [`super::vote`]), unless the commit has already begun, whose store call is itself bounded.
//! - The coordinator runs in its own task, so a client that goes away mid-batch cannot leave
//!   actors waiting for a decision that never comes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use tracing::Instrument;

use super::error::ScheduleError;
use super::messages::BookPart;
use super::store::{Applied, Change, StoreError};
use super::supervisor::ResourceSupervisor;
use super::types::{BookingStatus, ReservationId, ResourceId, ResourceInfo, UserRef};
use super::vote::{Decision, PartChecked, Ticket, Vote};
use crate::domain::Interval;
use crate::request::RequestId;

/// One slot of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchItem {
    pub resource: ResourceId,
    pub interval: Interval,
}

/// An item the batch booked (or, in a dry run, would book).
#[derive(Debug, Clone)]
pub struct Planned {
    /// The item's index in the batch.
    pub index: usize,
    pub resource: ResourceInfo,
    pub interval: Interval,
    /// Active, or pending approval on a resource that requires it.
    pub status: BookingStatus,
    /// The stored reservation; `None` in a dry run.
    pub reservation: Option<ReservationId>,
}

/// What a check of a batch found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The items that would be booked, in index order.
    pub planned: Vec<Planned>,
    /// The items the rules refuse, by index, in index order.
    pub refused: Vec<(usize, ScheduleError)>,
}

/// Why a batch booked nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchError {
    /// The items the rules refuse, by index, in index order.
    Refused(Vec<(usize, ScheduleError)>),
    /// The batch could not be completed: the store refused or did not answer, or a resource took
    /// too long. Nothing was booked.
    Failed(ScheduleError),
}

/// The items of each resource, with their batch index, by ascending resource id.
fn parts(items: &[BatchItem]) -> BTreeMap<ResourceId, Vec<(usize, Interval)>> {
    let mut parts: BTreeMap<ResourceId, Vec<(usize, Interval)>> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        parts.entry(item.resource).or_default().push((index, item.interval));
    }
    parts
}

/// Every item of a part refused for the part's reason (its resource is missing, say).
fn refuse_all(items: &[(usize, Interval)], error: &ScheduleError) -> Vec<(usize, ScheduleError)> {
    items.iter().map(|(index, _)| (*index, error.clone())).collect()
}

fn planned_items(checked: &PartChecked, items: &[(usize, Interval)], ids: &[Option<ReservationId>]) -> Vec<Planned> {
    items
        .iter()
        .zip(ids)
        .map(|((index, interval), id)| Planned {
            index: *index,
            resource: checked.resource.clone(),
            interval: *interval,
            status: checked.status,
            reservation: *id,
        })
        .collect()
}

fn sorted<T>(mut items: Vec<(usize, T)>) -> Vec<(usize, T)> {
    items.sort_by_key(|(index, _)| *index);
    items
}

/// A prepared actor, waiting for the decision.
struct Voter {
    resource: ResourceId,
    items: Vec<(usize, Interval)>,
    checked: PartChecked,
    changes: Vec<Change>,
    decision: oneshot::Sender<Decision>,
    reply: tokio::task::JoinHandle<Result<PartChecked, ScheduleError>>,
}

impl ResourceSupervisor {
    /// Checks a batch for `user` without booking anything (phase 1): the items that would be
    /// booked, and the items the rules refuse (by index, in index order).
    pub async fn check_batch(&self, user: &UserRef, items: &[BatchItem]) -> Result<Checked, BatchError> {
        self.check_parts(user, items, self.shared.clock.now()).await
    }

    async fn check_parts(
        &self,
        user: &UserRef,
        items: &[BatchItem],
        now: DateTime<Utc>,
    ) -> Result<Checked, BatchError> {
        let parts = parts(items);
        let answers = futures::future::join_all(parts.iter().map(|(resource, items)| {
            let message = BookPart {
                user: user.clone(),
                items: items.clone(),
                now,
                vote: None,
            };
            self.send(*resource, message)
        }))
        .await;
        let (mut planned, mut refused) = (Vec::new(), Vec::new());
        for ((_, items), answer) in parts.iter().zip(answers) {
            match answer {
                Ok(checked) => {
                    let fine: Vec<(usize, Interval)> = items
                        .iter()
                        .filter(|(index, _)| !checked.refused.iter().any(|(refused, _)| refused == index))
                        .copied()
                        .collect();
                    planned.extend(planned_items(&checked, &fine, &vec![None; fine.len()]));
                    refused.extend(checked.refused);
                }
                Err(ScheduleError::Unavailable(why)) => {
                    return Err(BatchError::Failed(ScheduleError::Unavailable(why)));
                }
                Err(error) => refused.extend(refuse_all(items, &error)),
            }
        }
        planned.sort_by_key(|planned| planned.index);
        Ok(Checked {
            planned,
            refused: sorted(refused),
        })
    }

    /// Books a batch for `user`, all or nothing (see the module docs). The coordinator runs in
    /// a task of its own, in the caller's span and for the caller's request.
    pub async fn book_batch(
        self: &Arc<Self>,
        user: UserRef,
        items: Vec<BatchItem>,
    ) -> Result<Vec<Planned>, BatchError> {
        let now = self.shared.clock.now();
        let checked = self.check_parts(&user, &items, now).await?;
        if !checked.refused.is_empty() {
            return Err(BatchError::Refused(checked.refused));
        }
        let this = self.clone();
        let coordinate = RequestId::scope(RequestId::current(), async move {
            this.commit_batch(user, items, now).await
        })
        .instrument(tracing::Span::current());
        tokio::spawn(coordinate).await.unwrap_or_else(|error| {
            Err(BatchError::Failed(ScheduleError::Unavailable(format!(
                "the batch was interrupted: {error}"
            ))))
        })
    }

    /// Phases 2 and 3: prepare every resource in ascending id order, then commit.
    async fn commit_batch(
        self: Arc<Self>,
        user: UserRef,
        items: Vec<BatchItem>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Planned>, BatchError> {
        let ticket = Arc::new(Ticket::default());
        let pause = self.shared.config.write_timeout * 2;
        let mut voters = Vec::new();
        for (resource, items) in parts(&items) {
            match self.prepare(&user, resource, items, now, &ticket, pause).await {
                Ok(voter) => voters.push(voter),
                Err(error) => {
                    ticket.abandon();
                    decide_all(voters, || Decision::Abort);
                    return Err(error);
                }
            }
        }
        if !ticket.commit() {
            decide_all(voters, || Decision::Abort);
            return Err(BatchError::Failed(ScheduleError::Unavailable(
                "a resource did not prepare its part of the batch in time".into(),
            )));
        }
        let writes = voters.iter().map(|v| (v.resource, v.changes.clone())).collect();
        let store = self.shared.store.apply_many(now, writes);
        let stored = match tokio::time::timeout(self.shared.config.write_timeout, store).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable("storage did not answer in time".into())),
        };
        let applied = match stored {
            Ok(applied) if applied.len() == voters.len() => applied,
            outcome => {
                decide_all(voters, || Decision::Reload);
                return Err(BatchError::Failed(match outcome {
                    Err(error) => store_failure(error),
                    Ok(_) => ScheduleError::Unavailable("the store answered for the wrong parts".into()),
                }));
            }
        };
        let mut booked = Vec::new();
        for (voter, results) in voters.into_iter().zip(applied) {
            let ids = stored_ids(&results, voter.items.len());
            let _ = voter.decision.send(Decision::Applied(results));
            // Wait until the actor has applied them, so the caller reads its own writes.
            let _ = voter.reply.await;
            booked.push(planned_items(&voter.checked, &voter.items, &ids));
        }
        let mut booked: Vec<Planned> = booked.into_iter().flatten().collect();
        booked.sort_by_key(|planned| planned.index);
        Ok(booked)
    }

    /// Sends `resource` its part with a vote and waits until it is prepared (or refuses).
    async fn prepare(
        self: &Arc<Self>,
        user: &UserRef,
        resource: ResourceId,
        items: Vec<(usize, Interval)>,
        now: DateTime<Utc>,
        ticket: &Arc<Ticket>,
        pause: Duration,
    ) -> Result<Voter, BatchError> {
        let (prepared_tx, prepared_rx) = oneshot::channel();
        let (decision_tx, decision_rx) = oneshot::channel();
        let vote = Vote::new(prepared_tx, decision_rx, ticket.clone(), pause);
        let message = BookPart {
            user: user.clone(),
            items: items.clone(),
            now,
            vote: Some(vote),
        };
        let this = self.clone();
        let send = RequestId::scope(RequestId::current(), async move { this.send(resource, message).await })
            .instrument(tracing::Span::current());
        let reply = tokio::spawn(send);
        let Ok(prepared) = prepared_rx.await else {
            // The actor answered without voting (it could not use the vote): its answer says why.
            let error = match reply.await {
                Ok(Err(error)) => error,
                _ => ScheduleError::Unavailable(format!("resource {resource} did not take part in the batch")),
            };
            return Err(match error {
                ScheduleError::Unavailable(why) => BatchError::Failed(ScheduleError::Unavailable(why)),
                error => BatchError::Refused(refuse_all(&items, &error)),
            });
        };
        match prepared {
            Ok((checked, changes)) if checked.refused.is_empty() => Ok(Voter {
                resource,
                items,
                checked,
                changes,
                decision: decision_tx,
                reply,
            }),
            Ok((checked, _)) => Err(BatchError::Refused(sorted(checked.refused))),
            Err(ScheduleError::Unavailable(why)) => Err(BatchError::Failed(ScheduleError::Unavailable(why))),
            Err(error) => Err(BatchError::Refused(refuse_all(&items, &error))),
        }
    }
}

/// What a failed commit means to the caller: an overlap the database found (written by another
/// process) is a conflict, and so is a row another process changed under a part (a waitlist
/// entry one of its offers was planned for); anything else leaves the batch undone and may be
/// retried.
fn store_failure(error: StoreError) -> ScheduleError {
    match error {
        StoreError::Overlap => ScheduleError::ConflictFoundByStore,
        StoreError::Stale(row) => ScheduleError::Stale(row),
        StoreError::Unavailable(why) => ScheduleError::Unavailable(why),
        StoreError::Deadlock => ScheduleError::Unavailable(StoreError::Deadlock.to_string()),
        StoreError::DuplicateName => ScheduleError::Store("a batch of bookings renamed a resource".into()),
        StoreError::Other(fault) => ScheduleError::Store(fault),
    }
}

/// The reservation ids a part's `Book` change produced, one per item.
fn stored_ids(results: &[Applied], items: usize) -> Vec<Option<ReservationId>> {
    match results.first() {
        Some(Applied::Booked(stored)) => stored.iter().map(|s| Some(s.id)).collect(),
        _ => vec![None; items],
    }
}

fn decide_all(voters: Vec<Voter>, decision: fn() -> Decision) {
    for voter in voters {
        let _ = voter.decision.send(decision());
    }
}
