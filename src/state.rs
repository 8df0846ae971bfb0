//! The state every handler can reach: one [`AppState`] per running server, shared by all
//! workers as `web::Data<AppState>`.
//!
//! Only handlers (`routes`) and `startup` use it. Everything below takes the parts it uses
//! (`&Db`, `&dyn Clock`, …), or one of the small bundles of parts handed out here, so that no
//! module depends on the state that depends on it (checked by `tests/module_graph.rs`).

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use reserver_actors::Clock;
use reserver_actors::resource::ResourceSupervisor;

use crate::auth::Auth;
use crate::auth::authenticate::Authenticator;
use crate::auth::mfa_lockout::Lockout;
use crate::auth::sessions::Sessions;
use crate::calendar::FeedKey;
use crate::config::Settings;
use crate::email::Email;
use crate::email::verify::Verifier;
use crate::events::Events;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use crate::resources::pages::PageCache;
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
    /// Resource list pages, kept while they are right (`resources::pages`).
    pub pages: Arc<PageCache>,
    /// Derives calendar feed tokens (from `SECRET_KEY`).
    pub feed_key: Arc<FeedKey>,
    /// Rate limits and usage counting; `None` when `RATE_LIMIT_ENABLED=false`.
    pub rate_limit: Option<Arc<RateLimiter>>,
    /// The webhook dispatcher.
    pub webhooks: Arc<Webhooks>,
    /// The mail sender (none runs when `EMAIL_ENABLED=false`).
    pub email: Arc<Email>,
    /// Set when a graceful stop begins: from then on `/ready` answers 503, while every request
    /// is still served, so that load balancers take this process out of rotation before it
    /// stops accepting connections (`startup::ShutdownHandle::graceful`).
    pub draining: Arc<AtomicBool>,
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

    /// What opening and refreshing sessions needs.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions {
            db: &self.db,
            clock: self.clock.as_ref(),
            keys: &self.auth.keys,
            access_token_ttl: self.settings.access_token_ttl,
            refresh_token_ttl: self.settings.refresh_token_ttl,
        }
    }

    /// What verifying an e-mail address needs.
    pub fn verifier(&self) -> Verifier<'_> {
        Verifier {
            db: &self.db,
            clock: self.clock.as_ref(),
            email: &self.email,
            settings: &self.settings.email,
        }
    }

    /// What the MFA step's lockout needs.
    pub fn mfa_lockout(&self) -> Lockout<'_> {
        Lockout {
            db: &self.db,
            clock: self.clock.as_ref(),
            email: &self.email,
            config: self.settings.mfa_lockout,
        }
    }
}
