//! Webhooks: users subscribe URLs to business events; each event is delivered as a signed
//! `POST`, retried on failure, with a delivery history.
//!
//! ```text
//! change's transaction ─EventWriter─▶ projections ─▶ project: webhook_deliveries (pending)
//!        └─ commit ─▶ tailer ─projections─wake─▶ WebhookDispatcher ─claim─▶ HttpSender ─POST─▶ receiver
//!                                                   └─ timer at the next due delivery (retries, lost claims)
//! ```
//!
//! - [`topics`]: the 13 webhook event names and which server events they announce, and who
//!   receives each.
//! - [`project`]: the deliveries an event gives, written in the change's transaction.
//! - [`store`]: the dispatcher's store over SQL (atomic claims), and claims made on request.
//! - [`sender`]: the signed HTTP request, through a client that only connects where
//!   [`address`] allows (SSRF guard, checked on the resolved address).
//! - [`signature`]: HMAC-SHA256 signatures; [`model`]: webhooks and deliveries as the API shows
//!   them; [`metrics`]: counters of attempts.
//!
//! The dispatcher itself is an actor of the `reserver-actors` crate
//! ([`reserver_actors::webhook`]), which knows nothing of SQL or HTTP.

pub mod address;
pub mod metrics;
pub mod model;
pub mod project;
pub mod sender;
pub mod signature;
pub mod store;
pub mod topics;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use reserver_actors::Clock;
use reserver_actors::webhook::{Claimed, DispatchConfig, SendClaimed, Settlement, WakeDispatcher, WebhookDispatcher};

use crate::error::ApiError;
use crate::storage::Db;
use address::AddressPolicy;

/// Settings of webhook delivery (see `Settings`).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Internal hosts and addresses webhooks may reach nevertheless (`WEBHOOK_ALLOWED_HOSTS`).
    pub allowed: AddressPolicy,
    /// Longest attempt: connecting, sending and reading the answer.
    pub timeout: Duration,
    /// Most requests in flight at once, per server process.
    pub concurrency: usize,
    /// Most requests in flight at once to one owner's webhooks, across processes
    /// (`WEBHOOK_CONCURRENCY_PER_OWNER`): one owner's slow receivers cannot take every slot.
    pub per_owner: usize,
    /// Most webhooks one user may have (`WEBHOOK_MAX_PER_USER`).
    pub max_per_user: usize,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            allowed: AddressPolicy::default(),
            timeout: Duration::from_secs(15),
            concurrency: 16,
            per_owner: 4,
            max_per_user: 25,
        }
    }
}

impl WebhookConfig {
    /// How long a claim keeps other processes off a delivery: well beyond one attempt, so a
    /// live sender always records its outcome first.
    pub fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.timeout * 2).unwrap_or(chrono::Duration::MAX) + chrono::Duration::seconds(30)
    }
}

/// The webhook machinery of one server: the dispatcher on its own thread.
pub struct Webhooks {
    dispatcher: Addr<WebhookDispatcher>,
    pub config: WebhookConfig,
    arbiter: Mutex<Option<Arbiter>>,
}

impl Webhooks {
    /// Starts the dispatcher, which at once sends what is due and arms its timer for the rest.
    /// Must be called inside a running actix System.
    pub fn start(
        db: Db,
        clock: Arc<dyn Clock>,
        config: WebhookConfig,
        metrics: &crate::metrics::Metrics,
    ) -> Result<Arc<Webhooks>, reqwest::Error> {
        let sender = sender::HttpSender::new(&config, clock.clone(), metrics::WebhookMetrics::register(metrics))?;
        let store = store::SqlDeliveryStore::new(db, clock.clone(), config.per_owner);
        let dispatch = DispatchConfig {
            concurrency: config.concurrency,
            lease: config.lease(),
        };
        // Its own thread: sending never competes with booking or with the HTTP workers.
        let arbiter = Arbiter::new();
        let dispatcher = WebhookDispatcher::start_in_arbiter(&arbiter.handle(), move |_| {
            WebhookDispatcher::new(Arc::new(store), Arc::new(sender), clock, dispatch)
        });
        Ok(Arc::new(Webhooks {
            dispatcher,
            config,
            arbiter: Mutex::new(Some(arbiter)),
        }))
    }

    /// Deliveries may have been committed: the dispatcher looks for due ones.
    pub fn wake(&self) {
        self.dispatcher.do_send(WakeDispatcher);
    }

    /// Sends a delivery the caller claimed, and answers with its recorded settlement.
    pub async fn send(&self, claimed: Claimed) -> Result<Settlement, ApiError> {
        self.dispatcher
            .send(SendClaimed(claimed))
            .await
            .map_err(|_| ApiError::Unavailable("the webhook dispatcher has stopped".into()))?
            .map_err(|error| ApiError::Unavailable(error.0))
    }

    pub fn stop(&self) {
        let arbiter = self.arbiter.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(arbiter) = arbiter {
            arbiter.stop();
        }
    }
}
