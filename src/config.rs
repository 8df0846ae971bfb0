//! Configuration: command-line flags over environment variables over defaults.
//!
//! Every setting has a flag and an environment variable; the variables' names (`DATABASE_URL`,
//! `SECRET_KEY`, `SMTP_HOST`, …) are part of the deployment interface and never change. Values are parsed once, here, into typed [`Settings`]; a malformed value stops
//! start-up with an error that names both the variable and the flag.
//!
//! Each setting is declared once, as a field of [`SettingsArgs`] with clap's `env` and
//! `default_value` attributes. clap uses the declaration for `--help` and for reading flags only;
//! [`Settings::from_args_and_env`] reads the variable names and defaults from the same
//! declaration and resolves flag, then variable, then default itself. The environment is passed
//! in as a lookup function rather than read directly, so tests build settings without touching
//! (or being affected by) the process environment. A few settings have a second, older variable
//! name (`ENV_ALIASES`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use reserver_actors::resource::{ActorConfig, BookingRules};

use crate::auth::booking_names::NamesVisible;
use crate::auth::mfa_lockout::MfaLockoutConfig;
use crate::client_ip::TrustedProxies;
use crate::email::EmailSettings;
use crate::events::LiveConfig;
use crate::metrics::{MetricsConfig, MetricsToken};
use crate::rate_limit::RateLimitConfig;
use crate::retention::RetentionConfig;
use crate::storage::DatabaseLocation;
use crate::telemetry::LogFormat;
use crate::web::assets::AssetSource;
use crate::web::session::CookieSecure;
use crate::webhooks::WebhookConfig;
use crate::webhooks::address::AddressPolicy;

/// A well-known published default key (example configurations carry it). Accepted in
/// development with a warning, refused in production.
pub const DEFAULT_SECRET_KEY: &str = "your-secret-key-change-in-production";
/// HS256 wants a key of at least 256 bits (RFC 7518 §3.2).
const MIN_PRODUCTION_SECRET_LEN: usize = 32;
/// `SETUP_REOPEN_TOKEN` hands out the first admin: as long as a signing key.
const MIN_SETUP_REOPEN_TOKEN_LEN: usize = 32;

/// The declaration of every setting: its flag (the field), its environment variable (`env`), its
/// default (`default_value`, or, where the default is not a fixed value, an `Unset:` sentence in
/// the help) and its help text. `--help`, the parsing in [`Settings::from_args_and_env`] and the
/// configuration table of the manual (checked by `tests/configuration_table.rs`) all read it
/// from here. The fields hold only what the command line gave: the environment and the defaults
/// are applied by `Settings`, not by clap.
#[derive(Debug, Clone, Default, Args)]
pub struct SettingsArgs {
    /// Address to listen on
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: Option<String>,
    /// Port to listen on; 0 picks a free port
    #[arg(long, env = "PORT", default_value = "8000")]
    pub port: Option<String>,
    /// Directory for the embedded database and generated keys
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: Option<String>,
    /// Database: a postgres:// or postgresql:// URL, or sqlite:///path/to/file.db. Unset: SQLite
    /// file resource-reserver.db in the data directory
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Maximum database connections (PostgreSQL) or reader connections (SQLite)
    #[arg(long, env = "DB_POOL_SIZE", default_value = "16")]
    pub db_pool_size: Option<String>,
    /// Seconds a single database statement may run before the database cancels it (the request then
    /// gets a 503)
    #[arg(long, env = "STATEMENT_TIMEOUT_SECONDS", default_value = "30")]
    pub statement_timeout_seconds: Option<String>,
    /// Key that signs access tokens (HS256, at least 32 bytes in production). Unset: generated once
    /// per data directory outside production
    #[arg(long, env = "SECRET_KEY")]
    pub secret_key: Option<String>,
    /// JWT algorithm; only HS256 is accepted (pinned, RFC 8725)
    #[arg(long, env = "ALGORITHM", default_value = "HS256")]
    pub algorithm: Option<String>,
    /// development, staging, production or test; production refuses unsafe settings
    #[arg(long, env = "ENVIRONMENT", default_value = "development")]
    pub environment: Option<String>,
    /// Access-token lifetime in minutes
    #[arg(long, env = "ACCESS_TOKEN_EXPIRE_MINUTES", default_value = "30")]
    pub access_token_expire_minutes: Option<String>,
    /// Refresh-token lifetime in days
    #[arg(long, env = "REFRESH_TOKEN_EXPIRE_DAYS", default_value = "7")]
    pub refresh_token_expire_days: Option<String>,
    /// Public base URL of this server, used in links it hands out (calendar feeds, e-mails). Unset:
    /// the scheme and host of the request. The older name API_BASE_URL is read too
    #[arg(long, env = "API_URL")]
    pub api_url: Option<String>,
    /// Allowed CORS origins, as a JSON list or comma-separated
    #[arg(
        long,
        env = "CORS_ORIGINS",
        default_value = "http://localhost:3000,http://localhost:8080,http://localhost:8000"
    )]
    pub cors_origins: Option<String>,
    /// Enforce request rate limits
    #[arg(long, env = "RATE_LIMIT_ENABLED", default_value = "true")]
    pub rate_limit_enabled: Option<String>,
    /// Use the original's larger rate limits for end-to-end test suites
    #[arg(long, env = "RATE_LIMIT_TESTING_MODE", default_value = "false")]
    pub rate_limit_testing_mode: Option<String>,
    /// Seconds between writes of the counted API usage to the database
    #[arg(long, env = "RATE_LIMIT_FLUSH_SECONDS", default_value = "10")]
    pub rate_limit_flush_seconds: Option<String>,
    /// Redis holding the per-minute rate-limit buckets every server process shares (redis://…).
    /// Unset: in PostgreSQL, or in the process on SQLite
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Reverse proxies whose X-Forwarded-For is believed: comma-separated addresses or blocks such
    /// as 10.0.0.0/8
    #[arg(long, env = "TRUSTED_PROXIES")]
    pub trusted_proxies: Option<String>,
    /// Send e-mail (address verification, booking notices) over SMTP
    #[arg(long, env = "EMAIL_ENABLED", default_value = "false")]
    pub email_enabled: Option<String>,
    /// SMTP server host
    #[arg(long, env = "SMTP_HOST", default_value = "localhost")]
    pub smtp_host: Option<String>,
    /// SMTP server port
    #[arg(long, env = "SMTP_PORT", default_value = "587")]
    pub smtp_port: Option<String>,
    /// SMTP user name; credentials are used only when set
    #[arg(long, env = "SMTP_USER")]
    pub smtp_user: Option<String>,
    /// SMTP password
    #[arg(long, env = "SMTP_PASSWORD")]
    pub smtp_password: Option<String>,
    /// Sender address
    #[arg(long, env = "SMTP_FROM", default_value = "noreply@resource-reserver.local")]
    pub smtp_from: Option<String>,
    /// Sender display name
    #[arg(long, env = "SMTP_FROM_NAME", default_value = "Resource Reserver")]
    pub smtp_from_name: Option<String>,
    /// Upgrade the SMTP connection with STARTTLS
    #[arg(long, env = "SMTP_TLS", default_value = "true")]
    pub smtp_tls: Option<String>,
    /// Connect to SMTP over implicit TLS
    #[arg(long, env = "SMTP_SSL", default_value = "false")]
    pub smtp_ssl: Option<String>,
    /// Token that allows re-opening first-run setup; at least 32 bytes
    #[arg(long, env = "SETUP_REOPEN_TOKEN")]
    pub setup_reopen_token: Option<String>,
    /// Wrong second-factor codes (or re-authentication failures) in a row after which an account's
    /// MFA step is locked
    #[arg(long, env = "MFA_MAX_FAILURES", default_value = "5")]
    pub mfa_max_failures: Option<String>,
    /// Minutes an account's MFA step stays locked
    #[arg(long, env = "MFA_LOCKOUT_MINUTES", default_value = "15")]
    pub mfa_lockout_minutes: Option<String>,
    /// Seconds that in-flight requests get to finish after SIGTERM or SIGINT
    #[arg(long, env = "SHUTDOWN_TIMEOUT", default_value = "30")]
    pub shutdown_timeout: Option<String>,
    /// Seconds a stopping server goes on serving while /ready answers 503, before it stops
    /// accepting connections: time for a load balancer to take it out of rotation
    #[arg(long, env = "SHUTDOWN_DRAIN_SECONDS", default_value = "0")]
    pub shutdown_drain_seconds: Option<String>,
    /// HTTP worker threads. Unset: number of CPUs
    #[arg(long, env = "WORKERS")]
    pub workers: Option<String>,
    /// Shortest booking, in minutes
    #[arg(long, env = "RESERVATION_MIN_MINUTES", default_value = "15")]
    pub reservation_min_minutes: Option<String>,
    /// Longest booking, in hours
    #[arg(long, env = "RESERVATION_MAX_HOURS", default_value = "24")]
    pub reservation_max_hours: Option<String>,
    /// Most occurrences of a recurring series
    #[arg(long, env = "RECURRENCE_MAX_OCCURRENCES", default_value = "100")]
    pub recurrence_max_occurrences: Option<String>,
    /// Threads the resource actors run on
    #[arg(long, env = "ACTOR_THREADS", default_value = "1")]
    pub actor_threads: Option<String>,
    /// Seconds without messages after which a resource actor stops (it is restarted on demand and
    /// when its timers fall due)
    #[arg(long, env = "ACTOR_IDLE_SECONDS", default_value = "600")]
    pub actor_idle_seconds: Option<String>,
    /// Seconds a resource actor waits for a database write before giving up
    #[arg(long, env = "WRITE_TIMEOUT_SECONDS", default_value = "5")]
    pub write_timeout_seconds: Option<String>,
    /// Log format: text or json
    #[arg(long, env = "LOG_FORMAT", default_value = "text")]
    pub log_format: Option<String>,
    /// Seconds between pings to each WebSocket client; a client silent for two intervals is dropped
    #[arg(long, env = "WS_PING_INTERVAL_SECONDS", default_value = "30")]
    pub ws_ping_interval_seconds: Option<String>,
    /// Messages queued for one WebSocket client before it is dropped as a slow consumer
    #[arg(long, env = "WS_SEND_QUEUE", default_value = "256")]
    pub ws_send_queue: Option<String>,
    /// WebSocket connections one account may hold open on one server process; the one over the cap
    /// is closed with code 4429
    #[arg(long, env = "WS_MAX_SOCKETS_PER_USER", default_value = "20")]
    pub ws_max_sockets_per_user: Option<String>,
    /// Hours events are kept for WebSocket clients that resume with ?since=
    #[arg(long, env = "EVENTS_RETENTION_HOURS", default_value = "24")]
    pub events_retention_hours: Option<String>,
    /// Milliseconds between reads of the event outbox for events committed by other server
    /// processes
    #[arg(long, env = "EVENTS_POLL_MILLISECONDS", default_value = "100")]
    pub events_poll_milliseconds: Option<String>,
    /// Internal hosts and IP addresses webhooks may reach, comma-separated (by default only public
    /// addresses are)
    #[arg(long, env = "WEBHOOK_ALLOWED_HOSTS")]
    pub webhook_allowed_hosts: Option<String>,
    /// Send `Access-Control-Allow-Credentials: true` to allowed origins; refused together with
    /// `CORS_ORIGINS=*`
    #[arg(long, env = "CORS_ALLOW_CREDENTIALS", default_value = "true")]
    pub cors_allow_credentials: Option<String>,
    /// Bearer token that /metrics requires (at least 32 bytes). Unset: none, /metrics is public
    #[arg(long, env = "METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Separate host:port on which /metrics is served instead of the main port. Unset: none,
    /// /metrics on the main port
    #[arg(long, env = "METRICS_ADDRESS")]
    pub metrics_address: Option<String>,
    // Retention and bounded growth (docs/src/security.md).
    /// Days expired refresh tokens, and sessions revoked or without a live token, are kept
    #[arg(long, env = "SESSIONS_RETENTION_DAYS", default_value = "7")]
    pub sessions_retention_days: Option<String>,
    /// Days expired OAuth2 codes and expired or revoked OAuth2 tokens are kept
    #[arg(long, env = "OAUTH_RETENTION_DAYS", default_value = "7")]
    pub oauth_retention_days: Option<String>,
    /// Days webhook deliveries are kept
    #[arg(long, env = "WEBHOOK_DELIVERIES_RETENTION_DAYS", default_value = "30")]
    pub webhook_deliveries_retention_days: Option<String>,
    /// Days sent or failed e-mail outbox rows are kept
    #[arg(long, env = "EMAIL_OUTBOX_RETENTION_DAYS", default_value = "7")]
    pub email_outbox_retention_days: Option<String>,
    /// Hours sign-in attempts for usernames no account has are kept
    #[arg(long, env = "LOGIN_ATTEMPTS_RETENTION_HOURS", default_value = "24")]
    pub login_attempts_retention_hours: Option<String>,
    /// Most webhooks one user may have
    #[arg(long, env = "WEBHOOK_MAX_PER_USER", default_value = "25")]
    pub webhook_max_per_user: Option<String>,
    /// Most webhook requests in flight at once to one owner's receivers, of the 16 sending slots
    #[arg(long, env = "WEBHOOK_CONCURRENCY_PER_OWNER", default_value = "4")]
    pub webhook_concurrency_per_owner: Option<String>,
    /// Most verification messages one account may ask for per hour
    #[arg(long, env = "EMAIL_VERIFICATIONS_PER_USER_PER_HOUR", default_value = "5")]
    pub email_verifications_per_user_per_hour: Option<String>,
    /// Most verification messages sent to one address per hour, whoever asks
    #[arg(long, env = "EMAIL_VERIFICATIONS_PER_RECIPIENT_PER_HOUR", default_value = "3")]
    pub email_verifications_per_recipient_per_hour: Option<String>,
    /// Who sees others' names on bookings (schedules, current users): signed_in (every signed-in
    /// user) or privileged (holders of reservation:read_any); anonymous callers never do
    #[arg(long, env = "RESERVATION_NAMES_VISIBLE", default_value = "signed_in")]
    pub reservation_names_visible: Option<String>,
    /// When the dashboard's session cookies are marked Secure: auto (when served over TLS: an
    /// https API_URL, or X-Forwarded-Proto: https from a trusted proxy), true or false
    #[arg(long, env = "COOKIE_SECURE", default_value = "auto")]
    pub cookie_secure: Option<String>,
    /// Development only: serve the dashboard's files from this directory (read at each request)
    /// instead of the copy embedded in the binary. Unset: the embedded files
    #[arg(long, env = "WEB_ASSETS_DIR")]
    pub web_assets_dir: Option<String>,
}

/// A setting that could not be used; the message names the variable and the flag.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Staging,
    Production,
    Test,
}

/// The token-signing key. Its `Debug` output never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretKey {
    /// Set by the operator.
    Configured(String),
    /// Not set: outside production a random key is generated once and kept in the data directory.
    GeneratedInDataDir,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretKey::Configured(_) => f.write_str("Configured(<redacted>)"),
            SecretKey::GeneratedInDataDir => f.write_str("GeneratedInDataDir"),
        }
    }
}

/// Everything the server needs to start, parsed and checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub data_dir: PathBuf,
    pub database: DatabaseLocation,
    pub db_pool_size: u32,
    /// Longest a database statement may run (PostgreSQL `statement_timeout`, SQLite interrupt).
    pub statement_timeout: Duration,
    pub secret_key: SecretKey,
    pub environment: Environment,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Public base URL (no trailing slash); `None`: links use the request's scheme and host.
    pub api_url: Option<String>,
    pub cors_origins: Vec<String>,
    pub rate_limit_enabled: bool,
    /// Limits tables and flushing of usage counts.
    pub rate_limit: RateLimitConfig,
    /// Proxies whose forwarding headers name the client (rate limits, lockout, audit).
    pub trusted_proxies: TrustedProxies,
    pub email: EmailSettings,
    pub setup_reopen_token: Option<String>,
    /// Per-account limit of wrong second-factor codes.
    pub mfa_lockout: MfaLockoutConfig,
    pub shutdown_timeout: Duration,
    /// How long a graceful stop serves on, out of rotation (`/ready` 503), before it closes
    /// the listener.
    pub shutdown_drain: Duration,
    pub workers: usize,
    pub log_format: LogFormat,
    /// Booking rules and the tuning of the resource actors.
    pub actors: ActorConfig,
    /// Live updates: WebSocket pings and buffers, event retention, outbox polling.
    pub live: LiveConfig,
    /// Webhook delivery: which internal hosts may be reached, caps and fair shares.
    pub webhooks: WebhookConfig,
    /// Whether CORS answers allow credentials (never with `*` in `cors_origins`).
    pub cors_allow_credentials: bool,
    /// Who may read `/metrics`, and where it is served.
    pub metrics: MetricsConfig,
    /// How long each pruned table keeps its dead rows.
    pub retention: RetentionConfig,
    /// Who sees others' names on bookings.
    pub reservation_names_visible: NamesVisible,
    /// When the dashboard's session cookies are `Secure`.
    pub cookie_secure: CookieSecure,
    /// Where the dashboard's files are served from.
    pub web_assets: AssetSource,
}

/// Environment variables read for a setting after the one its declaration names: older names
/// that deployments still set. Each is mentioned in its setting's help text (a unit test checks that).
const ENV_ALIASES: &[(&str, &str)] = &[("api_url", "API_BASE_URL")];

/// One setting as written in [`Settings::from_args_and_env`]: its id (the field of
/// [`SettingsArgs`], which is also its clap id) and the flag's value.
struct Given<'a> {
    id: &'static str,
    flag: &'a Option<String>,
}

/// `setting!(args.port)`: the field's value together with its name, so the declaration of that
/// field (variable, default) is found without spelling the name twice.
macro_rules! setting {
    ($args:ident . $field:ident) => {
        Given {
            id: stringify!($field),
            flag: &$args.$field,
        }
    };
}

/// Reads one setting: the flag if given, else the first of its environment variables that is
/// set and non-empty, else its declared default. Variables and defaults come from the clap
/// declaration of [`SettingsArgs`]; values from the command line and the injected lookup only
/// (clap captures the process environment when the declaration is built, but those captured
/// values are never read here).
struct Source<'a> {
    declared: clap::Command,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Source<'a> {
    fn new(env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Source {
            declared: SettingsArgs::augment_args(clap::Command::new("settings")),
            env,
        }
    }

    fn declaration(&self, id: &str) -> &clap::Arg {
        self.declared
            .get_arguments()
            .find(|arg| arg.get_id() == id)
            .unwrap_or_else(|| panic!("`{id}` is a field of SettingsArgs, so it is declared"))
    }

    /// The variables of a setting, the declared one first.
    fn vars(&self, id: &str) -> Vec<String> {
        let declared = self
            .declaration(id)
            .get_env()
            .map(|var| var.to_string_lossy().into_owned());
        let aliases = ENV_ALIASES
            .iter()
            .filter(|(alias_of, _)| *alias_of == id)
            .map(|(_, alias)| (*alias).to_owned());
        declared.into_iter().chain(aliases).collect()
    }

    /// `PORT (--port)`: how errors name a setting.
    fn names(&self, id: &str) -> String {
        let var = self.vars(id).into_iter().next().unwrap_or_default();
        let flag = self.declaration(id).get_long().unwrap_or(id);
        format!("{var} (--{flag})")
    }

    fn raw(&self, given: Given<'_>) -> Option<String> {
        given.flag.clone().or_else(|| {
            self.vars(given.id)
                .iter()
                .find_map(|var| (self.env)(var).filter(|v| !v.trim().is_empty()))
        })
    }

    /// The setting parsed, or `None` when neither flag nor variable is set (it has no default).
    fn optional<T>(
        &self,
        given: Given<'_>,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        let id = given.id;
        self.raw(given).map(|raw| self.parse_raw(id, &raw, &parse)).transpose()
    }

    /// The setting parsed, falling back to its declared default (parsed the same way).
    fn parse<T>(&self, given: Given<'_>, parse: impl Fn(&str) -> Result<T, String>) -> Result<T, ConfigError> {
        let id = given.id;
        let raw = self.raw(given).unwrap_or_else(|| {
            let default = self.declaration(id).get_default_values().first();
            default
                .unwrap_or_else(|| panic!("`{id}` declares a default_value, or is read with `optional`"))
                .to_string_lossy()
                .into_owned()
        });
        self.parse_raw(id, &raw, &parse)
    }

    fn parse_raw<T>(&self, id: &str, raw: &str, parse: impl Fn(&str) -> Result<T, String>) -> Result<T, ConfigError> {
        parse(raw.trim()).map_err(|why| ConfigError(format!("{} = {raw:?}: {why}", self.names(id))))
    }
}

fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

fn parse_number<T>(min: T, max: T) -> impl Fn(&str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    T::Err: std::fmt::Display,
{
    move |raw| {
        let value: T = raw.parse().map_err(|e| format!("not a number ({e})"))?;
        if value < min || value > max {
            return Err(format!("must be between {min} and {max}"));
        }
        Ok(value)
    }
}

fn parse_environment(raw: &str) -> Result<Environment, String> {
    match raw.to_ascii_lowercase().as_str() {
        "development" | "dev" => Ok(Environment::Development),
        "staging" => Ok(Environment::Staging),
        "production" | "prod" => Ok(Environment::Production),
        "test" | "testing" => Ok(Environment::Test),
        _ => Err("expected development, staging, production or test".into()),
    }
}

fn parse_origins(raw: &str) -> Result<Vec<String>, String> {
    let origins: Vec<String> = if raw.starts_with('[') {
        serde_json::from_str(raw).map_err(|e| format!("not a JSON list of strings ({e})"))?
    } else {
        raw.split(',')
            .map(|o| o.trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect()
    };
    for origin in &origins {
        if origin != "*" && !(origin.starts_with("http://") || origin.starts_with("https://")) {
            return Err(format!(
                "origin {origin:?} must start with http:// or https://, or be *"
            ));
        }
    }
    Ok(origins)
}

/// The allowed origins and whether credentials are allowed. Any origin *with* credentials would
/// let every web site act with the browser's credentials here (actix-cors answers `*` by echoing
/// the caller's origin), so that pair is refused.
fn cors(src: &Source<'_>, args: &SettingsArgs) -> Result<(Vec<String>, bool), ConfigError> {
    let origins = src.parse(setting!(args.cors_origins), parse_origins)?;
    let credentials = src.parse(setting!(args.cors_allow_credentials), parse_bool)?;
    if credentials && origins.iter().any(|origin| origin == "*") {
        return Err(ConfigError(
            "CORS_ORIGINS (--cors-origins) = \"*\" allows every web site, and CORS_ALLOW_CREDENTIALS \
             (--cors-allow-credentials) is true: list the origins that may call with credentials, or set \
             CORS_ALLOW_CREDENTIALS=false"
                .into(),
        ));
    }
    Ok((origins, credentials))
}

/// A `host:port` to listen on (port 0 picks a free one).
fn parse_listen_address(raw: &str) -> Result<String, String> {
    let (host, port) = raw
        .rsplit_once(':')
        .ok_or_else(|| "expected host:port, e.g. 0.0.0.0:9100".to_owned())?;
    if host.is_empty() {
        return Err("expected host:port, e.g. 0.0.0.0:9100".into());
    }
    port.parse::<u16>().map_err(|e| format!("bad port ({e})"))?;
    Ok(raw.to_owned())
}

/// `postgres://…`, `postgresql://…`, or SQLAlchemy-style `sqlite:///relative.db` and
/// `sqlite:////absolute.db`.
fn parse_database_url(raw: &str) -> Result<DatabaseLocation, String> {
    if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        return Ok(DatabaseLocation::Postgres(raw.to_owned()));
    }
    if let Some(rest) = raw.strip_prefix("sqlite://") {
        let path = rest.strip_prefix('/').unwrap_or(rest);
        if path.is_empty() || path.contains(":memory:") {
            return Err("a SQLite URL needs a file path, e.g. sqlite:///./data/resource-reserver.db".into());
        }
        return Ok(DatabaseLocation::Sqlite(PathBuf::from(path)));
    }
    Err("expected a postgres://, postgresql:// or sqlite:/// URL".into())
}

impl Settings {
    /// Parses flags over the process environment.
    pub fn from_args(args: &SettingsArgs) -> Result<Settings, ConfigError> {
        Settings::from_args_and_env(args, &|name| std::env::var(name).ok())
    }

    /// Parses flags over the given environment lookup.
    pub fn from_args_and_env(
        args: &SettingsArgs,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let src = Source::new(env);
        let text = |raw: &str| Ok::<_, String>(raw.to_owned());

        let environment = src.parse(setting!(args.environment), parse_environment)?;
        let data_dir = src.parse(setting!(args.data_dir), |raw| Ok(PathBuf::from(raw)))?;
        let database = src
            .optional(setting!(args.database_url), parse_database_url)?
            .unwrap_or_else(|| DatabaseLocation::Sqlite(data_dir.join("resource-reserver.db")));
        src.parse(setting!(args.algorithm), |raw| match raw {
            "HS256" => Ok(()),
            _ => Err("only HS256 is supported; the algorithm is pinned (RFC 8725)".into()),
        })?;
        let secret_key = match src.raw(setting!(args.secret_key)) {
            Some(key) => SecretKey::Configured(key),
            None => SecretKey::GeneratedInDataDir,
        };
        if environment == Environment::Production {
            match &secret_key {
                SecretKey::GeneratedInDataDir => {
                    return Err(ConfigError(
                        "SECRET_KEY (--secret-key) is not set: ENVIRONMENT=production requires an explicit \
                         secret key of at least 32 bytes"
                            .into(),
                    ));
                }
                SecretKey::Configured(key) if key == DEFAULT_SECRET_KEY => {
                    return Err(ConfigError(
                        "SECRET_KEY (--secret-key) is the well-known default: ENVIRONMENT=production requires \
                         a secret of your own"
                            .into(),
                    ));
                }
                SecretKey::Configured(key) if key.len() < MIN_PRODUCTION_SECRET_LEN => {
                    return Err(ConfigError(format!(
                        "SECRET_KEY (--secret-key) is {} bytes: ENVIRONMENT=production requires at least \
                         {MIN_PRODUCTION_SECRET_LEN}",
                        key.len()
                    )));
                }
                SecretKey::Configured(_) => {}
            }
        }

        let minutes = src.parse(setting!(args.access_token_expire_minutes), parse_number(1_u64, 24 * 60))?;
        let days = src.parse(setting!(args.refresh_token_expire_days), parse_number(1_u64, 365))?;
        let workers_default = std::thread::available_parallelism().map_or(2, |n| n.get());
        let rules = BookingRules {
            min_duration: chrono::Duration::minutes(
                src.parse(setting!(args.reservation_min_minutes), parse_number(1_i64, 24 * 60))?,
            ),
            max_duration: chrono::Duration::hours(
                src.parse(setting!(args.reservation_max_hours), parse_number(1_i64, 24 * 366))?,
            ),
            max_series_occurrences: src
                .parse(setting!(args.recurrence_max_occurrences), parse_number(1_usize, 10_000))?,
        };
        if rules.min_duration >= rules.max_duration {
            return Err(ConfigError(
                "RESERVATION_MIN_MINUTES must be shorter than RESERVATION_MAX_HOURS, or nothing can be booked".into(),
            ));
        }
        let actors = ActorConfig {
            rules,
            write_timeout: Duration::from_secs(
                src.parse(setting!(args.write_timeout_seconds), parse_number(1_u64, 600))?,
            ),
            idle_timeout: Duration::from_secs(
                src.parse(setting!(args.actor_idle_seconds), parse_number(1_u64, 86_400))?,
            ),
            threads: src.parse(setting!(args.actor_threads), parse_number(1_usize, 64))?,
            ..ActorConfig::default()
        };
        let live = LiveConfig {
            ping_interval: Duration::from_secs(
                src.parse(setting!(args.ws_ping_interval_seconds), parse_number(1_u64, 3600))?,
            ),
            send_queue: src.parse(setting!(args.ws_send_queue), parse_number(1_usize, 65_536))?,
            max_sockets_per_user: src.parse(setting!(args.ws_max_sockets_per_user), parse_number(1_usize, 10_000))?,
            retention: chrono::Duration::hours(
                src.parse(setting!(args.events_retention_hours), parse_number(1_i64, 24 * 30))?,
            ),
            poll_interval: Duration::from_millis(
                src.parse(setting!(args.events_poll_milliseconds), parse_number(1_u64, 60_000))?,
            ),
            ..LiveConfig::default()
        };

        let webhooks = WebhookConfig {
            allowed: src
                .optional(setting!(args.webhook_allowed_hosts), AddressPolicy::parse)?
                .unwrap_or_default(),
            per_owner: src.parse(
                setting!(args.webhook_concurrency_per_owner),
                parse_number(1_usize, 1000),
            )?,
            max_per_user: src.parse(setting!(args.webhook_max_per_user), parse_number(1_usize, 10_000))?,
            ..WebhookConfig::default()
        };
        let retention_days = |given: Given<'_>| src.parse(given, parse_number(1_i64, 3650)).map(chrono::Duration::days);
        let retention = RetentionConfig {
            sessions: retention_days(setting!(args.sessions_retention_days))?,
            oauth: retention_days(setting!(args.oauth_retention_days))?,
            webhook_deliveries: retention_days(setting!(args.webhook_deliveries_retention_days))?,
            email_outbox: retention_days(setting!(args.email_outbox_retention_days))?,
            // At least an hour: longer than the lockout's window, which these attempts count in.
            login_attempts: chrono::Duration::hours(src.parse(
                setting!(args.login_attempts_retention_hours),
                parse_number(1_i64, 24 * 3650),
            )?),
        };

        let (cors_origins, cors_allow_credentials) = cors(&src, args)?;
        let web_assets = match src.optional(setting!(args.web_assets_dir), |raw| {
            let dir = PathBuf::from(raw);
            if dir.join(crate::web::assets::INDEX).is_file() {
                Ok(dir)
            } else {
                Err(format!(
                    "{raw} is not a directory holding {}",
                    crate::web::assets::INDEX
                ))
            }
        })? {
            Some(_) if environment == Environment::Production => {
                return Err(ConfigError(
                    "WEB_ASSETS_DIR (--web-assets-dir) is for development: production serves the files \
                     embedded in the binary"
                        .into(),
                ));
            }
            Some(dir) => AssetSource::Directory(dir),
            None => AssetSource::Embedded,
        };
        let metrics = MetricsConfig {
            // Not through `src.parse`, whose errors quote the value: this one is a secret.
            token: match src.raw(setting!(args.metrics_token)) {
                Some(token) if token.len() < MetricsToken::MIN_LEN => {
                    return Err(ConfigError(format!(
                        "METRICS_TOKEN (--metrics-token) is {} bytes: at least {} are required",
                        token.len(),
                        MetricsToken::MIN_LEN
                    )));
                }
                token => token.as_deref().map(MetricsToken::new),
            },
            address: src.optional(setting!(args.metrics_address), parse_listen_address)?,
        };

        Ok(Settings {
            host: src.parse(setting!(args.host), text)?,
            port: src.parse(setting!(args.port), parse_number(0_u16, u16::MAX))?,
            data_dir,
            database,
            db_pool_size: src.parse(setting!(args.db_pool_size), parse_number(1_u32, 1000))?,
            statement_timeout: Duration::from_secs(
                src.parse(setting!(args.statement_timeout_seconds), parse_number(1_u64, 3600))?,
            ),
            secret_key,
            environment,
            access_token_ttl: Duration::from_secs(minutes * 60),
            refresh_token_ttl: Duration::from_secs(days * 24 * 3600),
            api_url: src.optional(setting!(args.api_url), |raw| {
                let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err("expected an http:// or https:// URL".into());
                }
                Ok(raw.trim_end_matches('/').to_owned())
            })?,
            cors_origins,
            rate_limit_enabled: src.parse(setting!(args.rate_limit_enabled), parse_bool)?,
            rate_limit: RateLimitConfig {
                testing_mode: src.parse(setting!(args.rate_limit_testing_mode), parse_bool)?,
                flush_interval: Duration::from_secs(
                    src.parse(setting!(args.rate_limit_flush_seconds), parse_number(1_u64, 3600))?,
                ),
                redis_url: src.optional(setting!(args.redis_url), |raw| {
                    if raw.starts_with("redis://") || raw.starts_with("rediss://") || raw.starts_with("redis+unix://") {
                        Ok(raw.to_owned())
                    } else {
                        Err("expected a redis://, rediss:// or redis+unix:// URL".into())
                    }
                })?,
            },
            trusted_proxies: src
                .optional(setting!(args.trusted_proxies), TrustedProxies::parse)?
                .unwrap_or_default(),
            email: EmailSettings {
                enabled: src.parse(setting!(args.email_enabled), parse_bool)?,
                smtp_host: src.parse(setting!(args.smtp_host), text)?,
                smtp_port: src.parse(setting!(args.smtp_port), parse_number(1_u16, u16::MAX))?,
                smtp_user: src.raw(setting!(args.smtp_user)),
                smtp_password: src.raw(setting!(args.smtp_password)),
                from_address: src.parse(setting!(args.smtp_from), |raw| {
                    if raw.contains('@') {
                        Ok(raw.to_owned())
                    } else {
                        Err("not an e-mail address".into())
                    }
                })?,
                from_name: src.parse(setting!(args.smtp_from_name), text)?,
                starttls: src.parse(setting!(args.smtp_tls), parse_bool)?,
                implicit_tls: src.parse(setting!(args.smtp_ssl), parse_bool)?,
                verifications_per_user: src.parse(
                    setting!(args.email_verifications_per_user_per_hour),
                    parse_number(1_u32, 1000),
                )?,
                verifications_per_recipient: src.parse(
                    setting!(args.email_verifications_per_recipient_per_hour),
                    parse_number(1_u32, 1000),
                )?,
            },
            setup_reopen_token: src.optional(setting!(args.setup_reopen_token), |raw| {
                if raw.len() < MIN_SETUP_REOPEN_TOKEN_LEN {
                    return Err(format!(
                        "{} bytes is too short to guard the first admin: use at least {MIN_SETUP_REOPEN_TOKEN_LEN}",
                        raw.len()
                    ));
                }
                Ok(raw.to_owned())
            })?,
            mfa_lockout: MfaLockoutConfig {
                max_failures: src.parse(setting!(args.mfa_max_failures), parse_number(1_i64, 100))?,
                duration: chrono::Duration::minutes(
                    src.parse(setting!(args.mfa_lockout_minutes), parse_number(1_i64, 7 * 24 * 60))?,
                ),
            },
            shutdown_timeout: Duration::from_secs(
                src.parse(setting!(args.shutdown_timeout), parse_number(0_u64, 3600))?,
            ),
            shutdown_drain: Duration::from_secs(
                src.parse(setting!(args.shutdown_drain_seconds), parse_number(0_u64, 600))?,
            ),
            workers: src
                .optional(setting!(args.workers), parse_number(1_usize, 256))?
                .unwrap_or(workers_default),
            log_format: src.parse(setting!(args.log_format), |raw| match raw {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                _ => Err("expected text or json".into()),
            })?,
            actors,
            live,
            webhooks,
            cors_allow_credentials,
            metrics,
            retention,
            reservation_names_visible: src.parse(setting!(args.reservation_names_visible), NamesVisible::parse)?,
            cookie_secure: src.parse(setting!(args.cookie_secure), CookieSecure::parse)?,
            web_assets,
        })
    }

    /// The signing key: the configured one, or the one generated for this data directory (created
    /// on first use, readable by the owner only).
    pub fn resolve_secret_key(&self) -> std::io::Result<String> {
        match &self.secret_key {
            SecretKey::Configured(key) => {
                if key == DEFAULT_SECRET_KEY {
                    tracing::warn!("SECRET_KEY is the well-known default; set your own before going to production");
                }
                Ok(key.clone())
            }
            SecretKey::GeneratedInDataDir => load_or_create_secret(&self.data_dir.join("secret.key")),
        }
    }
}

fn load_or_create_secret(path: &Path) -> std::io::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= MIN_PRODUCTION_SECRET_LEN {
            return Ok(existing);
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let key = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, key.as_bytes())?;
    tracing::warn!(path = %path.display(), "SECRET_KEY is not set: generated a signing key for this data directory");
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_args_and_env(&SettingsArgs::default(), &move |name| env.get(name).cloned())
    }

    #[test]
    fn defaults_are_the_originals() {
        let s = settings(&[]).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 8000));
        assert_eq!(
            s.database,
            DatabaseLocation::Sqlite(PathBuf::from("./data/resource-reserver.db"))
        );
        assert_eq!(s.access_token_ttl, Duration::from_secs(30 * 60));
        assert_eq!(s.email.smtp_port, 587);
        assert!(s.rate_limit_enabled && !s.email.enabled);
    }

    #[test]
    fn a_malformed_value_names_its_variable() {
        let error = settings(&[("PORT", "abc")]).unwrap_err();
        assert!(error.0.contains("PORT") && error.0.contains("--port"), "{error}");
        assert!(
            settings(&[("RATE_LIMIT_ENABLED", "maybe")])
                .unwrap_err()
                .0
                .contains("RATE_LIMIT_ENABLED")
        );
        assert!(
            settings(&[("DATABASE_URL", "mysql://x")])
                .unwrap_err()
                .0
                .contains("DATABASE_URL")
        );
        assert!(settings(&[("ALGORITHM", "none")]).unwrap_err().0.contains("ALGORITHM"));
        assert!(
            settings(&[("TRUSTED_PROXIES", "10.0.0.0/40")])
                .unwrap_err()
                .0
                .contains("TRUSTED_PROXIES")
        );
    }

    #[test]
    fn retention_caps_and_throttles_have_defaults_and_bounds() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.retention, RetentionConfig::default());
        assert_eq!((s.webhooks.max_per_user, s.webhooks.per_owner), (25, 4));
        assert_eq!(
            (s.email.verifications_per_user, s.email.verifications_per_recipient),
            (5, 3)
        );
        let s = settings(&[
            ("WEBHOOK_DELIVERIES_RETENTION_DAYS", "90"),
            ("LOGIN_ATTEMPTS_RETENTION_HOURS", "2"),
        ])
        .unwrap();
        assert_eq!(s.retention.webhook_deliveries, chrono::Duration::days(90));
        assert_eq!(s.retention.login_attempts, chrono::Duration::hours(2));
        for (var, bad) in [
            ("SESSIONS_RETENTION_DAYS", "0"),
            ("LOGIN_ATTEMPTS_RETENTION_HOURS", "0"),
            ("WEBHOOK_MAX_PER_USER", "0"),
            ("WEBHOOK_CONCURRENCY_PER_OWNER", "x"),
            ("EMAIL_VERIFICATIONS_PER_RECIPIENT_PER_HOUR", "0"),
        ] {
            assert!(settings(&[(var, bad)]).unwrap_err().0.contains(var), "{var}");
        }
    }

    #[test]
    fn flags_override_the_environment() {
        let args = SettingsArgs {
            port: Some("9000".into()),
            ..Default::default()
        };
        let s = Settings::from_args_and_env(&args, &|n| (n == "PORT").then(|| "abc".to_owned())).unwrap();
        assert_eq!(s.port, 9000);
    }

    #[test]
    fn production_refuses_a_missing_default_or_short_secret() {
        for env in [
            vec![("ENVIRONMENT", "production")],
            vec![("ENVIRONMENT", "production"), ("SECRET_KEY", DEFAULT_SECRET_KEY)],
            vec![("ENVIRONMENT", "production"), ("SECRET_KEY", "short")],
        ] {
            assert!(settings(&env).unwrap_err().0.contains("SECRET_KEY"));
        }
        let key = "k".repeat(40);
        assert!(settings(&[("ENVIRONMENT", "production"), ("SECRET_KEY", &key)]).is_ok());
    }

    #[test]
    fn a_short_setup_reopen_token_refuses_to_start() {
        let error = settings(&[("SETUP_REOPEN_TOKEN", "reopen-secret")]).unwrap_err();
        assert!(
            error.0.contains("SETUP_REOPEN_TOKEN") && error.0.contains("32"),
            "{error}"
        );
        let token = "r".repeat(32);
        let s = settings(&[("SETUP_REOPEN_TOKEN", &token)]).unwrap();
        assert_eq!(s.setup_reopen_token, Some(token));
        assert_eq!(settings(&[]).unwrap().setup_reopen_token, None);
    }

    #[test]
    fn mfa_lockout_has_sane_defaults_and_bounds() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.mfa_lockout.max_failures, 5);
        assert_eq!(s.mfa_lockout.duration, chrono::Duration::minutes(15));
        assert!(
            settings(&[("MFA_MAX_FAILURES", "0")])
                .unwrap_err()
                .0
                .contains("MFA_MAX_FAILURES")
        );
    }

    #[test]
    fn database_urls_of_both_kinds_parse() {
        let url = |u: &str| parse_database_url(u).unwrap();
        assert_eq!(
            url("postgresql://u@h/db"),
            DatabaseLocation::Postgres("postgresql://u@h/db".into())
        );
        assert_eq!(
            url("sqlite:///./data/db/x.db"),
            DatabaseLocation::Sqlite("./data/db/x.db".into())
        );
        assert_eq!(
            url("sqlite:////var/lib/x.db"),
            DatabaseLocation::Sqlite("/var/lib/x.db".into())
        );
        assert!(parse_database_url("sqlite://:memory:").is_err());
    }

    #[test]
    fn cors_origins_accept_json_or_commas() {
        assert_eq!(parse_origins(r#"["http://a.test"]"#).unwrap(), vec!["http://a.test"]);
        assert_eq!(parse_origins("http://a.test, https://b.test").unwrap().len(), 2);
        assert!(parse_origins("ftp://x").is_err());
    }

    #[test]
    fn any_origin_with_credentials_is_refused() {
        for origins in ["*", "http://a.test,*", r#"["*"]"#] {
            let error = settings(&[("CORS_ORIGINS", origins)]).unwrap_err();
            assert!(
                error.0.contains("CORS_ORIGINS") && error.0.contains("CORS_ALLOW_CREDENTIALS"),
                "{error}"
            );
        }
        let open = settings(&[("CORS_ORIGINS", "*"), ("CORS_ALLOW_CREDENTIALS", "false")]).unwrap();
        assert_eq!(
            (open.cors_origins, open.cors_allow_credentials),
            (vec!["*".to_owned()], false)
        );
        assert!(
            settings(&[]).unwrap().cors_allow_credentials,
            "the original allowed credentials"
        );
    }

    #[test]
    fn the_metrics_token_is_long_and_never_quoted() {
        let short = "s3cret-but-short";
        let error = settings(&[("METRICS_TOKEN", short)]).unwrap_err();
        assert!(error.0.contains("METRICS_TOKEN") && !error.0.contains(short), "{error}");
        let token = "t".repeat(32);
        let s = settings(&[("METRICS_TOKEN", &token), ("METRICS_ADDRESS", "0.0.0.0:9100")]).unwrap();
        assert!(s.metrics.token.unwrap().admits(Some(&format!("Bearer {token}"))));
        assert_eq!(s.metrics.address.as_deref(), Some("0.0.0.0:9100"));
        for address in ["9100", ":9100", "host:port"] {
            assert!(
                settings(&[("METRICS_ADDRESS", address)])
                    .unwrap_err()
                    .0
                    .contains("METRICS_ADDRESS")
            );
        }
    }

    #[test]
    fn webhook_allowed_hosts_are_names_or_addresses() {
        let s = settings(&[("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1, hooks.internal")]).unwrap();
        assert_eq!(s.webhooks.allowed.refusal("127.0.0.1".parse().unwrap()), None);
        let error = settings(&[("WEBHOOK_ALLOWED_HOSTS", "http://10.0.0.1:80")]).unwrap_err();
        assert!(error.0.contains("--webhook-allowed-hosts"), "{error}");
    }

    #[test]
    fn every_setting_declares_its_variable_and_every_alias_is_in_its_help() {
        let declared = SettingsArgs::augment_args(clap::Command::new("settings"));
        for arg in declared.get_arguments() {
            assert!(arg.get_env().is_some(), "{} has no environment variable", arg.get_id());
        }
        let src = Source::new(&|_| None);
        for (id, alias) in ENV_ALIASES {
            let help = src
                .declaration(id)
                .get_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(help.contains(alias), "the help of --{id} does not mention {alias}");
        }
    }

    #[test]
    fn an_alias_is_read_after_the_declared_variable() {
        let url = |env: &[(&str, &str)]| settings(env).unwrap().api_url;
        assert_eq!(
            url(&[("API_BASE_URL", "https://b.test/")]).as_deref(),
            Some("https://b.test")
        );
        assert_eq!(
            url(&[("API_URL", "https://a.test"), ("API_BASE_URL", "https://b.test")]).as_deref(),
            Some("https://a.test")
        );
        assert_eq!(
            url(&[("API_URL", " "), ("API_BASE_URL", "https://b.test")]).as_deref(),
            Some("https://b.test")
        );
        let error = settings(&[("API_BASE_URL", "ftp://b.test")]).unwrap_err();
        assert!(error.0.contains("API_URL (--api-url)"), "{error}");
    }

    #[test]
    fn the_generated_secret_is_kept_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let first = load_or_create_secret(&path).unwrap();
        assert_eq!(load_or_create_secret(&path).unwrap(), first);
        assert!(first.len() >= MIN_PRODUCTION_SECRET_LEN);
    }
}
