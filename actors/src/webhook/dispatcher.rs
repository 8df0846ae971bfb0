//! The webhook dispatcher: sends due deliveries, a bounded number at a time, and keeps one
//! timer armed for the next one.
//!
//! - It is woken ([`WakeDispatcher`]) after changes commit, and at start; each wake-up claims
//!   as many due deliveries as it has free sending slots, then re-reads when the next one falls
//!   due and arms its timer for that instant (a retry, or the end of a claim that another
//!   process may have abandoned). There is no polling loop: between wake-ups it sleeps on the
//!   clock, so tests move a manual clock instead of waiting.
//! - Sends run concurrently, at most [`DispatchConfig::concurrency`] at once (a semaphore that
//!   manual sends share); each finished send records its settlement and looks for more work.
//!   Nothing here waits for a receiver while holding anything else up: a slow receiver only
//!   occupies its own slot.
//! - A claim lasts [`DispatchConfig::lease`], longer than any attempt (the sender's timeout),
//!   so a delivery is sent by at most one process at a time; if its process dies mid-send, it
//!   becomes due again when the claim runs out.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;

use super::{Claimed, DeliveryStore, Settlement, StoreFailure, WebhookSender};
use crate::clock::Clock;

/// Pause after a store failure before looking again (wall-clock time: the database is away).
const STORE_RETRY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// How long a claim keeps other dispatchers off a delivery; longer than one attempt.
    pub lease: chrono::Duration,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            concurrency: 16,
            lease: chrono::Duration::seconds(60),
        }
    }
}

/// New deliveries may be due: look now.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WakeDispatcher;

/// Sends a delivery the caller has already claimed (a test or a manual retry) and answers with
/// its settlement once recorded.
#[derive(Message)]
#[rtype(result = "Dispatched")]
pub struct SendClaimed(pub Claimed);

/// The settlement of a [`SendClaimed`], or why it could not be recorded.
pub type Dispatched = Result<Settlement, super::StoreFailure>;

pub struct WebhookDispatcher {
    store: Arc<dyn DeliveryStore>,
    sender: Arc<dyn WebhookSender>,
    clock: Arc<dyn Clock>,
    config: DispatchConfig,
    /// The hard bound on requests in flight, shared with manual sends.
    slots: Arc<Semaphore>,
    /// Attempts started and not yet recorded: what is claimed is never more than the free slots,
    /// so no claim waits (its lease running) behind others.
    busy: usize,
    /// A claim is being made; wake-ups meanwhile set `again`.
    claiming: bool,
    again: bool,
    timer: Option<SpawnHandle>,
}

impl WebhookDispatcher {
    pub fn new(
        store: Arc<dyn DeliveryStore>,
        sender: Arc<dyn WebhookSender>,
        clock: Arc<dyn Clock>,
        config: DispatchConfig,
    ) -> WebhookDispatcher {
        let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
        WebhookDispatcher {
            store,
            sender,
            clock,
            config,
            slots,
            busy: 0,
            claiming: false,
            again: false,
            timer: None,
        }
    }

    /// Claims what is due (as many as there are free slots), starts sending it, and re-arms the
    /// timer for the next due delivery.
    fn look(&mut self, ctx: &mut Context<Self>) {
        if self.claiming {
            self.again = true;
            return;
        }
        self.claiming = true;
        let free = self.free();
        let now = self.clock.now();
        let until = now + self.config.lease;
        let store = self.store.clone();
        // A read first: most wake-ups find nothing due, and a claim is a write.
        let work = async move {
            let next = store.next_due().await?;
            if free == 0 || next.is_none_or(|at| at > now) {
                return Ok((Vec::new(), next));
            }
            let claimed = store.claim_due(now, free, until).await?;
            Ok::<_, StoreFailure>((claimed, store.next_due().await?))
        };
        ctx.spawn(work.into_actor(self).map(|result, act, ctx| {
            act.claiming = false;
            let (claimed, next) = match result {
                Ok(found) => found,
                Err(error) => {
                    tracing::warn!(%error, "cannot read webhook deliveries; looking again shortly");
                    ctx.run_later(STORE_RETRY, |act, ctx| act.look(ctx));
                    return;
                }
            };
            for delivery in claimed {
                act.start(delivery, ctx);
            }
            act.arm(next, ctx);
            if std::mem::take(&mut act.again) {
                act.look(ctx);
            }
        }));
    }

    fn free(&self) -> usize {
        self.config.concurrency.max(1).saturating_sub(self.busy)
    }

    fn arm(&mut self, next: Option<DateTime<Utc>>, ctx: &mut Context<Self>) {
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        let Some(at) = next else { return };
        if at <= self.clock.now() {
            // Due now but not claimed: no free slot (a finishing send looks again), or another
            // process took it between the two reads (its claim is then in the future).
            if self.free() > 0 {
                self.again = true;
            }
            return;
        }
        let sleep = self.clock.sleep_until(at);
        self.timer = Some(ctx.spawn(sleep.into_actor(self).map(|(), act, ctx| {
            act.timer = None;
            act.look(ctx);
        })));
    }

    /// One attempt: wait for a slot, send, record. Resolves to the settlement.
    fn attempt(&mut self, delivery: Claimed) -> impl Future<Output = Dispatched> + 'static {
        self.busy += 1;
        let (slots, sender, store, clock) = (
            self.slots.clone(),
            self.sender.clone(),
            self.store.clone(),
            self.clock.clone(),
        );
        async move {
            let _slot = slots.acquire_owned().await;
            let attempt = sender.send(&delivery).await;
            let settlement = Settlement::of(attempt, delivery.failures, clock.now());
            store.settle(&delivery, &settlement).await?;
            Ok(settlement)
        }
    }

    fn start(&mut self, delivery: Claimed, ctx: &mut Context<Self>) {
        let id = delivery.id;
        ctx.spawn(self.attempt(delivery).into_actor(self).map(move |result, act, ctx| {
            act.busy -= 1;
            if let Err(error) = result {
                // It stays claimed until the claim runs out, then it is sent again.
                tracing::warn!(delivery = id, %error, "cannot record a webhook delivery attempt");
            }
            act.look(ctx);
        }));
    }
}

impl Actor for WebhookDispatcher {
    type Context = Context<Self>;

    /// Re-arms from the store: deliveries pending before a restart are sent when due.
    fn started(&mut self, ctx: &mut Context<Self>) {
        self.look(ctx);
    }
}

impl Handler<WakeDispatcher> for WebhookDispatcher {
    type Result = ();

    fn handle(&mut self, _: WakeDispatcher, ctx: &mut Context<Self>) {
        self.look(ctx);
    }
}

impl Handler<SendClaimed> for WebhookDispatcher {
    type Result = ResponseActFuture<Self, Dispatched>;

    fn handle(&mut self, msg: SendClaimed, _: &mut Context<Self>) -> Self::Result {
        Box::pin(self.attempt(msg.0).into_actor(self).map(|result, act, ctx| {
            act.busy -= 1;
            // A retry it scheduled may be the next thing due.
            act.look(ctx);
            result
        }))
    }
}
