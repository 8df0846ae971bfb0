//! Building and running the server: [`Application::build`] connects and migrates the database,
//! binds the listener and assembles the middleware stack; [`Application::run_until_stopped`]
//! serves until a [`ShutdownHandle`] (or a signal, in `main`) stops it, then lets in-flight
//! requests finish and closes the database.
//!
//! Signal handling is the server's own (`disable_signals` on actix's server): SIGTERM and SIGINT
//! are both graceful — answer `/ready` with 503 while serving everything for
//! `SHUTDOWN_DRAIN_SECONDS` (a load balancer takes the process out of rotation meanwhile), then
//! close the WebSockets (1001) and stop accepting, give in-flight requests `SHUTDOWN_TIMEOUT`,
//! close the database, exit 0.
//!
//! Why the drain: closing the listener at once is not enough behind a load balancer that keeps
//! idle connections to its servers (HAProxy, nginx, any ingress). A request it sends on one of
//! them just as the stopping server closes it is lost, and the balancer cannot know whether the
//! server read it, so it does not retry a POST. Once the balancer's health check has seen the
//! 503, it sends nothing more, and the connections close with nothing in transit.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Compress, NormalizePath, from_fn};
use actix_web::{App, HttpServer, web};
use reserver_actors::resource::{ResourceSupervisor, StoreError};
use reserver_actors::{Clock, SystemClock};

use crate::auth::jwt::TokenKeys;
use crate::auth::rbac::Authorizer;
use crate::auth::{Auth, setup};
use crate::calendar::FeedKey;
use crate::config::{Environment, Settings};
use crate::email::Email;
use crate::error::ApiError;
use crate::events::{EventWriter, Events, Outside, Stale};
use crate::http::middleware::{record_metrics, trace_requests, wire_headers};
use crate::metrics::Metrics;
use crate::projections::Projections;
use crate::rate_limit::RateLimiter;
use crate::retention::Pruner;
use crate::routes;
use crate::routes::table::not_found;
use crate::routes::{MetricsListener, metrics_listener_table};
use crate::scheduling::group_commit::{CommitMetrics, Tuning};
use crate::scheduling::store::SqlScheduleStore;
use crate::state::AppState;
use crate::storage::{Db, MigrationError, PoolOptions, StorageError};
use crate::web::assets::AssetSource;
use crate::web::session::{BrowserSessionSettings, BrowserSessions};
use crate::webhooks::Webhooks;

/// Largest request body accepted (JSON, forms, CSV uploads).
const MAX_BODY_BYTES: usize = 1 << 20;

/// Why the server could not start. Each variant says what failed and keeps the error that made
/// it fail as its `source()`; `main` prints the whole chain (`telemetry::one_line`).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database")]
    Database(#[from] StorageError),
    #[error("cannot migrate the database")]
    Migration(#[from] MigrationError),
    #[error("cannot read or create the signing key")]
    SecretKey(#[source] std::io::Error),
    #[error("cannot write the setup token file")]
    SetupToken(#[source] std::io::Error),
    #[error("cannot load the authorization policy")]
    Authorization(#[source] ApiError),
    #[error("cannot re-arm the timers of resources with pending work")]
    Timers(#[source] StoreError),
    #[error("cannot build the webhook HTTP client")]
    WebhookClient(#[source] reqwest::Error),
    #[error("cannot set up e-mail: {0}")]
    Email(String),
    #[error("cannot reach the shared rate-limit store")]
    RateLimitStore(#[source] crate::rate_limit::shared::SharedError),
    #[error("cannot listen on {address}")]
    Listen { address: String, source: std::io::Error },
}

pub struct Application {
    server: Server,
    address: SocketAddr,
    /// The separate `/metrics` listener (`METRICS_ADDRESS`) and its address.
    metrics: Option<(Server, SocketAddr)>,
    state: web::Data<AppState>,
}

/// Stops a running [`Application`].
#[derive(Clone)]
pub struct ShutdownHandle {
    server: ServerHandle,
    metrics: Option<ServerHandle>,
    events: Arc<Events>,
    rate_limit: Option<Arc<RateLimiter>>,
    draining: Arc<AtomicBool>,
    drain: Duration,
}

impl ShutdownHandle {
    /// Answers `/ready` with 503 and goes on serving for the drain period
    /// (`SHUTDOWN_DRAIN_SECONDS`), then closes the WebSocket sessions, stops accepting
    /// connections, waits for in-flight requests (up to the configured shutdown timeout) and
    /// writes the counted API usage.
    pub async fn graceful(&self) {
        self.draining.store(true, Ordering::Relaxed);
        if !self.drain.is_zero() {
            tracing::info!(
                seconds = self.drain.as_secs(),
                "draining: /ready answers 503 while requests are still served"
            );
            actix_web::rt::time::sleep(self.drain).await;
        }
        tracing::info!("closing WebSockets, no longer accepting connections, finishing in-flight requests");
        self.events.close_sessions();
        self.server.stop(true).await;
        if let Some(metrics) = &self.metrics {
            metrics.stop(true).await;
        }
        if let Some(limiter) = &self.rate_limit {
            limiter.stop().await;
        }
    }

    /// Asks for a graceful stop without waiting for it (usable where nothing can be awaited).
    /// The caller's runtime may end right after, before `run_until_stopped` could stop the
    /// live-update thread: that thread is stopped here, or its tailer and its `LISTEN`
    /// connection would outlive the server and keep reconnecting to the database.
    pub fn request_stop(&self) {
        self.draining.store(true, Ordering::Relaxed);
        self.events.close_sessions();
        self.events.stop();
        drop(self.server.stop(true));
        if let Some(metrics) = &self.metrics {
            drop(metrics.stop(true));
        }
    }
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        Application::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds the server with the given clock (tests pass a manual one).
    pub async fn build_with_clock(settings: Settings, clock: Arc<dyn Clock>) -> Result<Application, StartupError> {
        let pool = PoolOptions {
            max_connections: settings.db_pool_size,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: settings.statement_timeout,
        };
        let db = Db::connect(&settings.database, &pool).await?;
        let report = db.migrate().await?;
        tracing::info!(
            backend = db.kind().as_str(),
            schema_version = report.current_version,
            applied = ?report.applied,
            "database ready"
        );
        let secret_key = settings.resolve_secret_key().map_err(StartupError::SecretKey)?;
        if settings.environment == Environment::Production && settings.metrics.token.is_none() {
            tracing::warn!("/metrics answers anyone who reaches it: set METRICS_TOKEN (see docs/src/security.md)");
        }
        let setup_token = match setup::prepare(&db, clock.now()).await? {
            Some(fresh) => {
                let (token, path) =
                    setup::keep_token_file(&settings.data_dir, fresh).map_err(StartupError::SetupToken)?;
                tracing::warn!(
                    setup_token = %token,
                    path = %path.display(),
                    "first-run setup is not complete: send this token (also in the file) as X-Setup-Token to \
                     /api/v1/setup/initialize or /api/v1/register, or set up from this machine"
                );
                Some(token)
            }
            None => {
                setup::remove_token_file(&settings.data_dir);
                None
            }
        };
        let feed_key = Arc::new(FeedKey::derive(&secret_key));
        let browser_sessions = web::Data::new(BrowserSessions::new(BrowserSessionSettings {
            secret_key: &secret_key,
            secure: settings.cookie_secure,
            public_url: settings.api_url.as_deref(),
            trusted_proxies: settings.trusted_proxies.clone(),
            access_ttl: settings.access_token_ttl,
            refresh_ttl: settings.refresh_token_ttl,
        }));
        if let AssetSource::Directory(dir) = &settings.web_assets {
            tracing::warn!(path = %dir.display(), "serving the dashboard's files from WEB_ASSETS_DIR (development only)");
        }
        let web_assets = web::Data::new(settings.web_assets.clone());
        let auth = Arc::new(Auth {
            keys: TokenKeys::new(&secret_key),
            authorizer: Authorizer::new().await.map_err(StartupError::Authorization)?,
            setup_token,
        });
        let metrics = Arc::new(Metrics::new());
        let pruner = Pruner::new(
            db.clone(),
            clock.clone(),
            settings.retention.clone(),
            settings.live.retention,
            chrono::Duration::from_std(settings.refresh_token_ttl).unwrap_or(chrono::Duration::MAX),
        );
        // Starting, the dispatcher sends what is due and arms its timer for the rest; afterwards
        // it is woken for each batch of committed events that webhooks announce. The same for
        // e-mail: the sender is woken for batches holding events that are mailed.
        let webhooks = Webhooks::start(db.clone(), clock.clone(), settings.webhooks.clone(), &metrics)
            .map_err(StartupError::WebhookClient)?;
        let email = Email::start(db.clone(), clock.clone(), &settings.email, &metrics).map_err(StartupError::Email)?;
        let projections = Projections::new(webhooks.clone(), email.clone(), settings.email.enabled);
        let writer = EventWriter::new(Arc::new(projections));
        let store = Arc::new(SqlScheduleStore::new(
            db.clone(),
            writer.clone(),
            Tuning::for_backend(db.kind(), settings.db_pool_size),
            CommitMetrics::register(&metrics),
        ));
        let resources = ResourceSupervisor::start(store, clock.clone(), settings.actors.clone());
        // Changes made by other server processes reach this one through the outbox: the actors
        // of those resources reload, or start, so their timers are armed here too.
        let supervisor = resources.clone();
        let events = Events::start(
            db.clone(),
            clock.clone(),
            pruner,
            settings.live.clone(),
            &metrics,
            writer,
            Outside {
                foreign: Box::new(move |stale| match stale {
                    Stale::Resources(changed) => supervisor.follow(changed),
                    Stale::Bookings(changed) => supervisor.follow_bookings(changed),
                    Stale::Every => supervisor.refresh_all(),
                }),
                hierarchy: Arc::new(crate::groups::LiveStore { db: db.clone() }),
            },
        )
        .await?;
        let timers = resources.restore_timers().await.map_err(StartupError::Timers)?;
        tracing::info!(resources = timers, "re-armed the timers of resources with pending work");

        let address = format!("{}:{}", settings.host, settings.port);
        let listener = TcpListener::bind(&address).map_err(|source| StartupError::Listen {
            address: address.clone(),
            source,
        })?;
        let bound = listener
            .local_addr()
            .map_err(|source| StartupError::Listen { address, source })?;

        let rate_limit = if settings.rate_limit_enabled {
            let shared = crate::rate_limit::shared_buckets(&settings.rate_limit, &db)
                .await
                .map_err(StartupError::RateLimitStore)?;
            Some(RateLimiter::start(
                &settings.rate_limit,
                db.clone(),
                clock.clone(),
                shared,
            ))
        } else {
            None
        };
        let state = web::Data::new(AppState {
            settings: Arc::new(settings),
            db,
            clock,
            metrics: metrics.clone(),
            auth,
            resources,
            events,
            pages: Arc::default(),
            feed_key,
            rate_limit,
            webhooks,
            email,
            draining: Arc::default(),
        });
        let settings = state.settings.clone();
        let app_state = state.clone();
        let authenticator = web::Data::new(state.authenticator());
        let trusted_proxies = web::Data::new(state.settings.trusted_proxies.clone());
        // The parts the route plumbing reads on its own (idempotency, the rate limiter, `Viewer`).
        let db = web::Data::new(state.db.clone());
        let clock: web::Data<dyn Clock> = web::Data::from(state.clock.clone());
        let rate_limiter = state.rate_limit.clone().map(web::Data::from);
        let names_visible = web::Data::new(state.settings.reservation_names_visible);
        // The change count every write request moves (`routes::table`).
        let changes = web::Data::new(state.events.writer.clone());
        let server = HttpServer::new(move || {
            let table = routes::table();
            App::new()
                .app_data(app_state.clone())
                .app_data(authenticator.clone())
                .app_data(trusted_proxies.clone())
                .app_data(db.clone())
                .app_data(clock.clone())
                .app_data(names_visible.clone())
                .app_data(changes.clone())
                .app_data(browser_sessions.clone())
                .app_data(web_assets.clone())
                .configure(|cfg| {
                    if let Some(limiter) = &rate_limiter {
                        cfg.app_data(limiter.clone());
                    }
                })
                .app_data(web::Data::from(metrics.clone()))
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .configure(|cfg| table.mount(cfg))
                .default_service(web::to(not_found))
                .wrap(from_fn(wire_headers))
                // Assets and JSON gzipped for clients that accept it (never a WebSocket upgrade).
                .wrap(Compress::default())
                .wrap(from_fn(record_metrics))
                .wrap(cors(
                    &app_state.settings.cors_origins,
                    app_state.settings.cors_allow_credentials,
                ))
                .wrap(NormalizePath::trim())
                .wrap(from_fn(trace_requests))
        })
        .workers(settings.workers)
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .listen(listener)
        .map_err(|source| StartupError::Listen {
            address: bound.to_string(),
            source,
        })?
        .run();
        tracing::info!("resource-reserver listening on http://{bound}");
        let metrics = match &settings.metrics.address {
            Some(address) => Some(metrics_listener(address, &state, &settings)?),
            None => None,
        };
        Ok(Application {
            server,
            address: bound,
            metrics,
            state,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where `/metrics` is served when `METRICS_ADDRESS` is set.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, address)| *address)
    }

    /// The one-time setup token of this run, while first-run setup is incomplete.
    pub fn setup_token(&self) -> Option<String> {
        self.state.auth.setup_token.clone()
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            server: self.server.handle(),
            metrics: self.metrics.as_ref().map(|(server, _)| server.handle()),
            events: self.state.events.clone(),
            rate_limit: self.state.rate_limit.clone(),
            draining: self.state.draining.clone(),
            drain: self.state.settings.shutdown_drain,
        }
    }

    /// Serves until stopped, then stops the actors and closes the database.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = match self.metrics {
            // Both listeners stop together (the shutdown handle stops both).
            Some((metrics, _)) => futures::future::try_join(self.server, metrics).await.map(|_| ()),
            None => self.server.await,
        };
        self.state.events.close_sessions();
        self.state.events.stop();
        self.state.resources.shutdown();
        if let Some(limiter) = &self.state.rate_limit {
            limiter.stop().await;
        }
        self.state.webhooks.stop();
        self.state.email.stop();
        self.state.db.close().await;
        tracing::info!("resource-reserver stopped");
        served
    }
}

/// The separate listener of `METRICS_ADDRESS`: `/metrics` and nothing else, one worker, with
/// the main server's state (so the same registry and the same `METRICS_TOKEN` rule).
fn metrics_listener(
    address: &str,
    state: &web::Data<AppState>,
    settings: &Settings,
) -> Result<(Server, SocketAddr), StartupError> {
    let listen_error = |source| StartupError::Listen {
        address: address.to_owned(),
        source,
    };
    let listener = TcpListener::bind(address).map_err(listen_error)?;
    let bound = listener.local_addr().map_err(listen_error)?;
    let state = state.clone();
    let server = HttpServer::new(move || {
        let table = metrics_listener_table();
        App::new()
            .app_data(state.clone())
            .app_data(MetricsListener)
            .configure(|cfg| table.mount(cfg))
            .default_service(web::to(not_found))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(settings.shutdown_timeout.as_secs())
    .listen(listener)
    .map_err(listen_error)?
    .run();
    tracing::info!("metrics served on http://{bound}/metrics");
    Ok((server, bound))
}

/// CORS for the configured origins. `*` comes only without credentials (the settings refuse
/// the pair), and is then answered with a literal `*`, never an echo of the caller's origin.
fn cors(origins: &[String], credentials: bool) -> Cors {
    let cors = Cors::default().allow_any_method().allow_any_header().max_age(600);
    let cors = if credentials { cors.supports_credentials() } else { cors };
    if origins.iter().any(|origin| origin == "*") {
        return cors.allow_any_origin().send_wildcard();
    }
    origins.iter().fold(cors, |cors, origin| cors.allowed_origin(origin))
}
