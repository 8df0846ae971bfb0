//! Outbound e-mail: the mail sender actor, what it needs from storage and from an SMTP client,
//! and what an attempt gives.
//!
//! Messages are rows the server writes in the transaction of the change they tell of (an
//! outbox). The [`MailSender`] sends them after commit, one at a time (a mail server is one
//! connection, not a fan-out): it *claims* due messages from the [`MailStore`] — atomically, so
//! that of several server processes exactly one sends each attempt — hands each to the
//! [`MailTransport`], and records the [`Outcome`]. A transient failure (an SMTP 4xx, no
//! connection) is retried on the webhooks' schedule ([`crate::retry`]); a permanent one (5xx)
//! or the last allowed attempt marks the message `failed`.
//!
//! Like the webhook dispatcher, it is woken after commits and at start, and between wake-ups
//! sleeps on the clock until the next message is due (a retry, or a claim another process may
//! have abandoned) or the next reminder falls due ([`MailStore::remind`]) — no polling loop, so
//! tests move a manual clock.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use crate::clock::Clock;
use crate::webhook::{StoreFailure, StoreResult};

/// Pause after a store failure before looking again (wall-clock time: the database is away).
const STORE_RETRY: Duration = Duration::from_secs(5);

/// Messages claimed at once: sent one after the other, well within one lease.
const BATCH: usize = 8;

/// A message taken by one claim: everything needed to send it once.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    /// The claim that took it; only this claim may record the outcome.
    pub claim: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Attempts that failed before this one.
    pub failures: u32,
}

/// What one attempt to send gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// Worth trying again later: a 4xx answer, no connection, a timeout.
    Transient(String),
    /// Trying again will not help: a 5xx answer, an address the server refuses.
    Permanent(String),
}

/// What the store records after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        at: DateTime<Utc>,
    },
    /// Failed; pending again at `next_attempt_at`.
    Retry {
        failures: u32,
        error: String,
        next_attempt_at: DateTime<Utc>,
    },
    /// Given up.
    Failed {
        failures: u32,
        error: String,
    },
}

impl Outcome {
    /// The bookkeeping of `attempt` on a message that had failed `failures` times, at `now`.
    pub fn of(attempt: Attempt, failures: u32, now: DateTime<Utc>) -> Outcome {
        let failures = failures + 1;
        match attempt {
            Attempt::Sent => Outcome::Sent { at: now },
            Attempt::Permanent(error) => Outcome::Failed { failures, error },
            Attempt::Transient(error) => match crate::retry::next_attempt(failures, now) {
                Some(next_attempt_at) => Outcome::Retry {
                    failures,
                    error,
                    next_attempt_at,
                },
                None => Outcome::Failed { failures, error },
            },
        }
    }
}

/// What the sender needs from storage. The server implements it over SQL.
pub trait MailStore: Send + Sync + 'static {
    /// Claims up to `limit` pending messages due at `now`, until `until`: no other claim can
    /// take them before then. Atomic across processes.
    fn claim_due(&self, now: DateTime<Utc>, limit: usize, until: DateTime<Utc>) -> StoreResult<Vec<Outgoing>>;
    /// When the earliest pending message is due (claims included).
    fn next_due(&self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Records the outcome of an attempt; ignored when the message's claim was lost meanwhile.
    fn settle(&self, message: &Outgoing, outcome: &Outcome) -> StoreResult<()>;
    /// Writes the reminders due at `now` (each at most once, across processes) and answers when
    /// to look for reminders again.
    fn remind(&self, now: DateTime<Utc>) -> StoreResult<DateTime<Utc>>;
}

/// Sends one message. The server implements it with an SMTP client.
pub trait MailTransport: Send + Sync + 'static {
    fn send(&self, message: &Outgoing) -> BoxFuture<'static, Attempt>;
}

/// Messages may have been committed: look now.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WakeMailer;

pub struct MailSender {
    store: Arc<dyn MailStore>,
    transport: Arc<dyn MailTransport>,
    clock: Arc<dyn Clock>,
    /// How long a claim keeps other processes off a message; longer than a batch of attempts.
    lease: chrono::Duration,
    /// A round (claim, send, record) is running; wake-ups meanwhile set `again`.
    running: bool,
    again: bool,
    timer: Option<SpawnHandle>,
}

impl MailSender {
    pub fn new(
        store: Arc<dyn MailStore>,
        transport: Arc<dyn MailTransport>,
        clock: Arc<dyn Clock>,
        lease: chrono::Duration,
    ) -> MailSender {
        MailSender {
            store,
            transport,
            clock,
            lease,
            running: false,
            again: false,
            timer: None,
        }
    }

    /// Sends everything due, then arms the timer for the next due message.
    fn look(&mut self, ctx: &mut Context<Self>) {
        if self.running {
            self.again = true;
            return;
        }
        self.running = true;
        let (store, transport, clock, lease) = (
            self.store.clone(),
            self.transport.clone(),
            self.clock.clone(),
            self.lease,
        );
        let round = async move {
            let reminders = store.remind(clock.now()).await?;
            let earliest = |next: Option<DateTime<Utc>>| Some(next.map_or(reminders, |at| at.min(reminders)));
            loop {
                // A read first: most wake-ups find nothing due, and a claim is a write.
                let next = store.next_due().await?;
                let now = clock.now();
                if next.is_none_or(|at| at > now) {
                    return Ok::<_, StoreFailure>(earliest(next));
                }
                let claimed = store.claim_due(now, BATCH, now + lease).await?;
                if claimed.is_empty() {
                    // Another process holds what is due: its claim's end is the next instant.
                    return Ok(earliest(store.next_due().await?));
                }
                for message in claimed {
                    let attempt = transport.send(&message).await;
                    let outcome = Outcome::of(attempt, message.failures, clock.now());
                    if let Err(error) = store.settle(&message, &outcome).await {
                        // It stays claimed until the claim runs out, then it is sent again.
                        tracing::warn!(message = message.id, %error, "cannot record an e-mail attempt");
                    }
                }
            }
        };
        ctx.spawn(round.into_actor(self).map(|result, act, ctx| {
            act.running = false;
            match result {
                Ok(next) => act.arm(next, ctx),
                Err(error) => {
                    tracing::warn!(%error, "cannot read the e-mail outbox; looking again shortly");
                    ctx.run_later(STORE_RETRY, |act, ctx| act.look(ctx));
                }
            }
            if std::mem::take(&mut act.again) {
                act.look(ctx);
            }
        }));
    }

    fn arm(&mut self, next: Option<DateTime<Utc>>, ctx: &mut Context<Self>) {
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        let Some(at) = next else { return };
        let sleep = self.clock.sleep_until(at);
        self.timer = Some(ctx.spawn(sleep.into_actor(self).map(|(), act, ctx| {
            act.timer = None;
            act.look(ctx);
        })));
    }
}

impl Actor for MailSender {
    type Context = Context<Self>;

    /// Re-arms from the store: messages pending before a restart are sent when due.
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.look(ctx);
    }
}

impl Handler<WakeMailer> for MailSender {
    type Result = ();

    fn handle(&mut self, _: WakeMailer, ctx: &mut Context<Self>) {
        self.look(ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_are_retried_on_the_shared_schedule_then_given_up() {
        let now = Utc::now();
        let mut failures = 0;
        let mut delays = Vec::new();
        loop {
            match Outcome::of(Attempt::Transient("451".into()), failures, now) {
                Outcome::Retry {
                    failures: f,
                    next_attempt_at,
                    ..
                } => {
                    failures = f;
                    delays.push((next_attempt_at - now).num_seconds());
                }
                Outcome::Failed { failures: f, .. } => {
                    failures = f;
                    break;
                }
                Outcome::Sent { .. } => unreachable!(),
            }
        }
        assert_eq!(delays, [60, 300, 900, 3600]);
        assert_eq!(failures, crate::retry::MAX_ATTEMPTS);
    }

    #[test]
    fn a_permanent_failure_is_given_up_at_once() {
        let now = Utc::now();
        assert_eq!(
            Outcome::of(Attempt::Permanent("550 no such user".into()), 0, now),
            Outcome::Failed {
                failures: 1,
                error: "550 no such user".into()
            }
        );
        assert_eq!(Outcome::of(Attempt::Sent, 3, now), Outcome::Sent { at: now });
    }
}
