//! A resource's part in a batch over several resources (the protocol is in
//! [`crate::resource::batch`]): checked with the rules of `Book`, then, when the coordinator
//! votes, prepared and held until its decision.

use actix::prelude::*;

use super::state::Loaded;
use super::{Reply, ResourceActor, reply};
use crate::domain::Interval;
use crate::resource::error::ScheduleError;
use crate::resource::messages::BookPart;
use crate::resource::rules::Admission;
use crate::resource::store::{Change, NewBookings};
use crate::resource::vote::{Decision, PartChecked, Prepared};

impl ResourceActor {
    /// Checks every item of the part as `Book` checks a slot (the rules, then the schedule),
    /// and against the part's earlier items; plans the bookings when none is refused.
    fn check_part(&self, loaded: &Loaded, msg: &BookPart) -> Prepared {
        let resource = &loaded.resource;
        let admission = Admission::of(resource, None)?;
        let config = &self.shared.config;
        let (mut accepted, mut refused): (Vec<Interval>, _) = (Vec::new(), Vec::new());
        for (index, interval) in &msg.items {
            let verdict = config
                .rules
                .check(resource, &loaded.hours, interval, msg.now)
                .and_then(|()| {
                    let existing = loaded.conflicts(interval);
                    if !existing.is_empty() {
                        return Err(ScheduleError::Conflict { existing });
                    }
                    if accepted.iter().any(|earlier| earlier.overlaps(interval)) {
                        return Err(ScheduleError::BatchConflict);
                    }
                    Ok(())
                });
            match verdict {
                Ok(()) => accepted.push(*interval),
                Err(error) => refused.push((*index, error)),
            }
        }
        let checked = PartChecked {
            resource: resource.clone(),
            status: admission.status(),
            refused,
        };
        if !checked.refused.is_empty() {
            return Ok((checked, Vec::new()));
        }
        let mut changes = vec![Change::Book(NewBookings {
            user: msg.user.clone(),
            intervals: accepted,
            series: None,
            checkin_window: resource.checkin_window.filter(|_| admission == Admission::Active),
            admission,
            idempotency_key: None,
        })];
        // As `commit` does for every batch of one actor.
        let offers = self.offers_after(loaded, &changes, msg.now);
        changes.extend(offers);
        Ok((checked, changes))
    }
}

impl Handler<BookPart> for ResourceActor {
    type Result = Reply<PartChecked>;

    fn handle(&mut self, msg: BookPart, ctx: &mut Context<Self>) -> Self::Result {
        let prepared = self
            .on_message(ctx)
            .and_then(|()| self.loaded())
            .and_then(|loaded| self.check_part(loaded, &msg));
        let Some(vote) = msg.vote else {
            return reply(prepared.map(|(checked, _)| checked));
        };
        let Some(channels) = vote.take() else {
            return reply(Err(ScheduleError::Unavailable(
                "this batch has already been decided".into(),
            )));
        };
        let (checked, changes) = match prepared {
            Ok((checked, changes)) if checked.refused.is_empty() => (checked, changes),
            refused => {
                let answer = refused.clone().map(|(checked, _)| checked);
                let _ = channels.prepared.send(refused);
                return reply(answer);
            }
        };
        if channels.prepared.send(Ok((checked.clone(), changes.clone()))).is_err() {
            return reply(Err(ScheduleError::Unavailable("the batch was abandoned".into())));
        }
        let (ticket, pause, now) = (vote.ticket.clone(), vote.pause, msg.now);
        let mut decision = channels.decision;
        // The mailbox stays paused until this resolves (an atomic response).
        let decided = async move {
            match tokio::time::timeout(pause, &mut decision).await {
                Ok(decided) => decided.ok(),
                Err(_) if ticket.abandon() => Some(Decision::Abort),
                // The commit has begun: its outcome is coming (the store call is bounded).
                Err(_) => decision.await.ok(),
            }
        };
        AtomicResponse::new(Box::pin(decided.into_actor(self).map(move |decided, act, ctx| {
            let outcome = match (decided, act.loaded_mut()) {
                (Some(Decision::Applied(applied)), Some(loaded)) => {
                    loaded.apply(&changes, &applied, now);
                    Ok(checked)
                }
                (Some(Decision::Abort), _) => Err(ScheduleError::Unavailable("the batch was abandoned".into())),
                // Stored or not, the state is no longer known to match the store's.
                _ => {
                    act.reload(ctx);
                    Err(ScheduleError::Unavailable(
                        "the batch failed; the resource was reloaded".into(),
                    ))
                }
            };
            act.after_change(ctx);
            outcome
        })))
    }
}
