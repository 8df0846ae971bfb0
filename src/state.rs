//! The state every handler can reach: one [`AppState`] per running server, shared by all
//! workers as `web::Data<AppState>`.

use std::sync::Arc;

use reserver_actors::Clock;
use reserver_actors::resource::ResourceSupervisor;

use crate::auth::Auth;
use crate::auth::authenticate::Authenticator;
use crate::calendar::FeedKey;
use crate::config::Settings;
use crate::email::Email;
use crate::events::Events;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use crate::storage::Db;
use crate::webhooks::Webhooks;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// Token keys, the RBAC policy and the setup token.
    pub auth: Arc<Auth>,
    /// The resource actors: every change to a resource's schedule is a message to one of them.
    pub resources: Arc<ResourceSupervisor>,
    /// Live updates: the notifier, the outbox tailer's wake-up, WebSocket metrics.
    pub events: Arc<Events>,
    /// Derives calendar feed tokens (from `SECRET_KEY`).
    pub feed_key: Arc<FeedKey>,
    /// Rate limits and usage counting; `None` when `RATE_LIMIT_ENABLED=false`.
    pub rate_limit: Option<Arc<RateLimiter>>,
    /// The webhook dispatcher.
    pub webhooks: Arc<Webhooks>,
    /// The mail sender (none runs when `EMAIL_ENABLED=false`).
    pub email: Arc<Email>,
}

impl AppState {
    /// What authenticating a bearer token reads (registered on its own for the extractors).
    pub fn authenticator(&self) -> Authenticator {
        Authenticator {
            db: self.db.clone(),
            clock: self.clock.clone(),
            auth: self.auth.clone(),
        }
    }
}
