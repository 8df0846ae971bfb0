//! Configuration: command-line flags over environment variables over defaults.
//!
//! Every setting has a flag and an environment variable; the variables keep the names of the
//! Python original (`DATABASE_URL`, `SECRET_KEY`, `SMTP_HOST`, …) so existing deployments keep
//! working. Values are parsed once, here, into typed [`Settings`]; a malformed value stops
//! start-up with an error that names both the variable and the flag.
//!
//! The environment is passed in as a lookup function rather than read directly, so tests build
//! settings without touching (or being affected by) the process environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use reserver_actors::resource::{ActorConfig, BookingRules};

use crate::auth::mfa_lockout::MfaLockoutConfig;
use crate::events::LiveConfig;
use crate::http::client_ip::TrustedProxies;
use crate::metrics::{MetricsConfig, MetricsToken};
use crate::rate_limit::RateLimitConfig;
use crate::reservations::names::NamesVisible;
use crate::retention::RetentionConfig;
use crate::storage::DatabaseLocation;
use crate::webhooks::WebhookConfig;
use crate::webhooks::address::AddressPolicy;

/// The original's well-known default key. Accepted in development with a warning, refused in
/// production.
pub const DEFAULT_SECRET_KEY: &str = "your-secret-key-change-in-production";
/// HS256 wants a key of at least 256 bits (RFC 7518 §3.2).
const MIN_PRODUCTION_SECRET_LEN: usize = 32;
/// `SETUP_REOPEN_TOKEN` hands out the first admin: as long as a signing key.
const MIN_SETUP_REOPEN_TOKEN_LEN: usize = 32;

/// Settings flags. Each one falls back to the environment variable named in its help text.
#[derive(Debug, Clone, Default, Args)]
pub struct SettingsArgs {
    /// Address to listen on [env: HOST] [default: 127.0.0.1]
    #[arg(long)]
    pub host: Option<String>,
    /// Port to listen on; 0 picks a free port [env: PORT] [default: 8000]
    #[arg(long)]
    pub port: Option<String>,
    /// Directory for the embedded database and generated keys [env: DATA_DIR] [default: ./data]
    #[arg(long)]
    pub data_dir: Option<String>,
    /// Database: a postgres:// or postgresql:// URL, or sqlite:///path/to/file.db
    /// [env: DATABASE_URL] [default: SQLite file resource-reserver.db in the data directory]
    #[arg(long)]
    pub database_url: Option<String>,
    /// Maximum database connections (PostgreSQL) or reader connections (SQLite)
    /// [env: DB_POOL_SIZE] [default: 16]
    #[arg(long)]
    pub db_pool_size: Option<String>,
    /// Seconds a single database statement may run before the database cancels it (the request
    /// then gets a 503) [env: STATEMENT_TIMEOUT_SECONDS] [default: 30]
    #[arg(long)]
    pub statement_timeout_seconds: Option<String>,
    /// Key that signs access tokens (HS256, at least 32 bytes in production)
    /// [env: SECRET_KEY] [default: generated once per data directory outside production]
    #[arg(long)]
    pub secret_key: Option<String>,
    /// JWT algorithm; only HS256 is accepted (pinned, RFC 8725) [env: ALGORITHM] [default: HS256]
    #[arg(long)]
    pub algorithm: Option<String>,
    /// development, staging, production or test; production refuses unsafe settings
    /// [env: ENVIRONMENT] [default: development]
    #[arg(long)]
    pub environment: Option<String>,
    /// Access-token lifetime in minutes [env: ACCESS_TOKEN_EXPIRE_MINUTES] [default: 30]
    #[arg(long)]
    pub access_token_expire_minutes: Option<String>,
    /// Refresh-token lifetime in days [env: REFRESH_TOKEN_EXPIRE_DAYS] [default: 7]
    #[arg(long)]
    pub refresh_token_expire_days: Option<String>,
    /// Public base URL of this server, used in links it hands out (calendar feeds, e-mails)
    /// [env: API_URL or API_BASE_URL] [default: the scheme and host of the request]
    #[arg(long)]
    pub api_url: Option<String>,
    /// Allowed CORS origins, as a JSON list or comma-separated
    /// [env: CORS_ORIGINS] [default: http://localhost:3000,http://localhost:8080,http://localhost:8000]
    #[arg(long)]
    pub cors_origins: Option<String>,
    /// Enforce request rate limits [env: RATE_LIMIT_ENABLED] [default: true]
    #[arg(long)]
    pub rate_limit_enabled: Option<String>,
    /// Use the original's larger rate limits for end-to-end test suites
    /// [env: RATE_LIMIT_TESTING_MODE] [default: false]
    #[arg(long)]
    pub rate_limit_testing_mode: Option<String>,
    /// Seconds between writes of the counted API usage to the database
    /// [env: RATE_LIMIT_FLUSH_SECONDS] [default: 10]
    #[arg(long)]
    pub rate_limit_flush_seconds: Option<String>,
    /// Reverse proxies whose X-Forwarded-For is believed: comma-separated addresses or blocks
    /// such as 10.0.0.0/8 [env: TRUSTED_PROXIES] [default: none]
    #[arg(long)]
    pub trusted_proxies: Option<String>,
    /// Send e-mail (address verification, booking notices) over SMTP [env: EMAIL_ENABLED]
    /// [default: false]
    #[arg(long)]
    pub email_enabled: Option<String>,
    /// SMTP server host [env: SMTP_HOST] [default: localhost]
    #[arg(long)]
    pub smtp_host: Option<String>,
    /// SMTP server port [env: SMTP_PORT] [default: 587]
    #[arg(long)]
    pub smtp_port: Option<String>,
    /// SMTP user name; credentials are used only when set [env: SMTP_USER]
    #[arg(long)]
    pub smtp_user: Option<String>,
    /// SMTP password [env: SMTP_PASSWORD]
    #[arg(long)]
    pub smtp_password: Option<String>,
    /// Sender address [env: SMTP_FROM] [default: noreply@resource-reserver.local]
    #[arg(long)]
    pub smtp_from: Option<String>,
    /// Sender display name [env: SMTP_FROM_NAME] [default: Resource Reserver]
    #[arg(long)]
    pub smtp_from_name: Option<String>,
    /// Upgrade the SMTP connection with STARTTLS [env: SMTP_TLS] [default: true]
    #[arg(long)]
    pub smtp_tls: Option<String>,
    /// Connect to SMTP over implicit TLS [env: SMTP_SSL] [default: false]
    #[arg(long)]
    pub smtp_ssl: Option<String>,
    /// Token that allows re-opening first-run setup; at least 32 bytes [env: SETUP_REOPEN_TOKEN]
    #[arg(long)]
    pub setup_reopen_token: Option<String>,
    /// Wrong second-factor codes (or re-authentication failures) in a row after which an
    /// account's MFA step is locked [env: MFA_MAX_FAILURES] [default: 5]
    #[arg(long)]
    pub mfa_max_failures: Option<String>,
    /// Minutes an account's MFA step stays locked [env: MFA_LOCKOUT_MINUTES] [default: 15]
    #[arg(long)]
    pub mfa_lockout_minutes: Option<String>,
    /// Seconds that in-flight requests get to finish after SIGTERM or SIGINT
    /// [env: SHUTDOWN_TIMEOUT] [default: 30]
    #[arg(long)]
    pub shutdown_timeout: Option<String>,
    /// HTTP worker threads [env: WORKERS] [default: number of CPUs]
    #[arg(long)]
    pub workers: Option<String>,
    /// Shortest booking, in minutes [env: RESERVATION_MIN_MINUTES] [default: 15]
    #[arg(long)]
    pub reservation_min_minutes: Option<String>,
    /// Longest booking, in hours [env: RESERVATION_MAX_HOURS] [default: 24]
    #[arg(long)]
    pub reservation_max_hours: Option<String>,
    /// Most occurrences of a recurring series [env: RECURRENCE_MAX_OCCURRENCES] [default: 100]
    #[arg(long)]
    pub recurrence_max_occurrences: Option<String>,
    /// Threads the resource actors run on [env: ACTOR_THREADS] [default: 1]
    #[arg(long)]
    pub actor_threads: Option<String>,
    /// Seconds without messages after which a resource actor stops (it is restarted on demand
    /// and when its timers fall due) [env: ACTOR_IDLE_SECONDS] [default: 600]
    #[arg(long)]
    pub actor_idle_seconds: Option<String>,
    /// Seconds a resource actor waits for a database write before giving up
    /// [env: WRITE_TIMEOUT_SECONDS] [default: 5]
    #[arg(long)]
    pub write_timeout_seconds: Option<String>,
    /// Log format: text or json [env: LOG_FORMAT] [default: text]
    #[arg(long)]
    pub log_format: Option<String>,
    /// Seconds between pings to each WebSocket client; a client silent for two intervals is
    /// dropped [env: WS_PING_INTERVAL_SECONDS] [default: 30]
    #[arg(long)]
    pub ws_ping_interval_seconds: Option<String>,
    /// Messages queued for one WebSocket client before it is dropped as a slow consumer
    /// [env: WS_SEND_QUEUE] [default: 256]
    #[arg(long)]
    pub ws_send_queue: Option<String>,
    /// WebSocket connections one account may hold open on one server process; the one over the
    /// cap is closed with code 4429 [env: WS_MAX_SOCKETS_PER_USER] [default: 20]
    #[arg(long)]
    pub ws_max_sockets_per_user: Option<String>,
    /// Hours events are kept for WebSocket clients that resume with ?since=
    /// [env: EVENTS_RETENTION_HOURS] [default: 24]
    #[arg(long)]
    pub events_retention_hours: Option<String>,
    /// Milliseconds between reads of the event outbox for events committed by other server
    /// processes [env: EVENTS_POLL_MILLISECONDS] [default: 100]
    #[arg(long)]
    pub events_poll_milliseconds: Option<String>,
    /// Internal hosts and IP addresses webhooks may reach, comma-separated (by default only
    /// public addresses are) [env: WEBHOOK_ALLOWED_HOSTS]
    #[arg(long)]
    pub webhook_allowed_hosts: Option<String>,
    /// Send `Access-Control-Allow-Credentials: true` to allowed origins; refused together with
    /// `CORS_ORIGINS=*` [env: CORS_ALLOW_CREDENTIALS] [default: true]
    #[arg(long)]
    pub cors_allow_credentials: Option<String>,
    /// Bearer token that /metrics requires (at least 32 bytes) [env: METRICS_TOKEN]
    /// [default: none, /metrics is public]
    #[arg(long)]
    pub metrics_token: Option<String>,
    /// Separate host:port on which /metrics is served instead of the main port
    /// [env: METRICS_ADDRESS] [default: none, /metrics on the main port]
    #[arg(long)]
    pub metrics_address: Option<String>,
    // Retention and bounded growth (docs/security.md).
    /// Days expired refresh tokens, and sessions revoked or without a live token, are kept
    /// [env: SESSIONS_RETENTION_DAYS] [default: 7]
    #[arg(long)]
    pub sessions_retention_days: Option<String>,
    /// Days expired OAuth2 codes and expired or revoked OAuth2 tokens are kept
    /// [env: OAUTH_RETENTION_DAYS] [default: 7]
    #[arg(long)]
    pub oauth_retention_days: Option<String>,
    /// Days webhook deliveries are kept [env: WEBHOOK_DELIVERIES_RETENTION_DAYS] [default: 30]
    #[arg(long)]
    pub webhook_deliveries_retention_days: Option<String>,
    /// Days sent or failed e-mail outbox rows are kept [env: EMAIL_OUTBOX_RETENTION_DAYS] [default: 7]
    #[arg(long)]
    pub email_outbox_retention_days: Option<String>,
    /// Hours sign-in attempts for usernames no account has are kept
    /// [env: LOGIN_ATTEMPTS_RETENTION_HOURS] [default: 24]
    #[arg(long)]
    pub login_attempts_retention_hours: Option<String>,
    /// Most webhooks one user may have [env: WEBHOOK_MAX_PER_USER] [default: 25]
    #[arg(long)]
    pub webhook_max_per_user: Option<String>,
    /// Most webhook requests in flight at once to one owner's receivers, of the 16 sending slots
    /// [env: WEBHOOK_CONCURRENCY_PER_OWNER] [default: 4]
    #[arg(long)]
    pub webhook_concurrency_per_owner: Option<String>,
    /// Most verification messages one account may ask for per hour
    /// [env: EMAIL_VERIFICATIONS_PER_USER_PER_HOUR] [default: 5]
    #[arg(long)]
    pub email_verifications_per_user_per_hour: Option<String>,
    /// Most verification messages sent to one address per hour, whoever asks
    /// [env: EMAIL_VERIFICATIONS_PER_RECIPIENT_PER_HOUR] [default: 3]
    #[arg(long)]
    pub email_verifications_per_recipient_per_hour: Option<String>,
    /// Who sees others' names on bookings (schedules, current users): signed_in (every signed-in
    /// user) or privileged (holders of reservation:read_any); anonymous callers never do
    /// [env: RESERVATION_NAMES_VISIBLE] [default: signed_in]
    #[arg(long)]
    pub reservation_names_visible: Option<String>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSettings {
    pub enabled: bool,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_user: Option<String>,
    pub smtp_password: Option<String>,
    pub from_address: String,
    pub from_name: String,
    pub starttls: bool,
    pub implicit_tls: bool,
    /// Verification messages one account may ask for per hour.
    pub verifications_per_user: u32,
    /// Verification messages to one address per hour.
    pub verifications_per_recipient: u32,
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
}

/// Reads one setting: the flag if given, else the first of its environment variables that is
/// set and non-empty.
struct Source<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Source<'_> {
    fn raw(&self, flag: &Option<String>, vars: &[&'static str]) -> Option<String> {
        flag.clone().or_else(|| {
            vars.iter()
                .find_map(|var| (self.env)(var).filter(|v| !v.trim().is_empty()))
        })
    }

    fn parse<T>(
        &self,
        flag: &Option<String>,
        vars: &[&'static str],
        default: T,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match self.raw(flag, vars) {
            None => Ok(default),
            Some(raw) => parse(raw.trim()).map_err(|why| {
                let option = format!("--{}", vars[0].to_lowercase().replace('_', "-"));
                ConfigError(format!("{} ({option}) = {raw:?}: {why}", vars[0]))
            }),
        }
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
    let origins = src.parse(
        &args.cors_origins,
        &["CORS_ORIGINS"],
        [
            "http://localhost:3000",
            "http://localhost:8080",
            "http://localhost:8000",
        ]
        .map(String::from)
        .to_vec(),
        parse_origins,
    )?;
    let credentials = src.parse(
        &args.cors_allow_credentials,
        &["CORS_ALLOW_CREDENTIALS"],
        true,
        parse_bool,
    )?;
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
        let src = Source { env };
        let text = |raw: &str| Ok::<_, String>(raw.to_owned());

        let environment = src.parse(
            &args.environment,
            &["ENVIRONMENT"],
            Environment::Development,
            parse_environment,
        )?;
        let data_dir = src.parse(&args.data_dir, &["DATA_DIR"], PathBuf::from("./data"), |raw| {
            Ok(PathBuf::from(raw))
        })?;
        let database = src.parse(
            &args.database_url,
            &["DATABASE_URL"],
            DatabaseLocation::Sqlite(data_dir.join("resource-reserver.db")),
            parse_database_url,
        )?;
        src.parse(&args.algorithm, &["ALGORITHM"], (), |raw| match raw {
            "HS256" => Ok(()),
            _ => Err("only HS256 is supported; the algorithm is pinned (RFC 8725)".into()),
        })?;
        let secret_key = match src.raw(&args.secret_key, &["SECRET_KEY"]) {
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

        let minutes = src.parse(
            &args.access_token_expire_minutes,
            &["ACCESS_TOKEN_EXPIRE_MINUTES"],
            30,
            parse_number(1_u64, 24 * 60),
        )?;
        let days = src.parse(
            &args.refresh_token_expire_days,
            &["REFRESH_TOKEN_EXPIRE_DAYS"],
            7,
            parse_number(1_u64, 365),
        )?;
        let workers_default = std::thread::available_parallelism().map_or(2, |n| n.get());
        let rules = BookingRules {
            min_duration: chrono::Duration::minutes(src.parse(
                &args.reservation_min_minutes,
                &["RESERVATION_MIN_MINUTES"],
                15,
                parse_number(1_i64, 24 * 60),
            )?),
            max_duration: chrono::Duration::hours(src.parse(
                &args.reservation_max_hours,
                &["RESERVATION_MAX_HOURS"],
                24,
                parse_number(1_i64, 24 * 366),
            )?),
            max_series_occurrences: src.parse(
                &args.recurrence_max_occurrences,
                &["RECURRENCE_MAX_OCCURRENCES"],
                100,
                parse_number(1_usize, 10_000),
            )?,
        };
        if rules.min_duration >= rules.max_duration {
            return Err(ConfigError(
                "RESERVATION_MIN_MINUTES must be shorter than RESERVATION_MAX_HOURS, or nothing can be booked".into(),
            ));
        }
        let actors = ActorConfig {
            rules,
            write_timeout: Duration::from_secs(src.parse(
                &args.write_timeout_seconds,
                &["WRITE_TIMEOUT_SECONDS"],
                5,
                parse_number(1_u64, 600),
            )?),
            idle_timeout: Duration::from_secs(src.parse(
                &args.actor_idle_seconds,
                &["ACTOR_IDLE_SECONDS"],
                600,
                parse_number(1_u64, 86_400),
            )?),
            threads: src.parse(&args.actor_threads, &["ACTOR_THREADS"], 1, parse_number(1_usize, 64))?,
            ..ActorConfig::default()
        };
        let live = LiveConfig {
            ping_interval: Duration::from_secs(src.parse(
                &args.ws_ping_interval_seconds,
                &["WS_PING_INTERVAL_SECONDS"],
                30,
                parse_number(1_u64, 3600),
            )?),
            send_queue: src.parse(
                &args.ws_send_queue,
                &["WS_SEND_QUEUE"],
                256,
                parse_number(1_usize, 65_536),
            )?,
            max_sockets_per_user: src.parse(
                &args.ws_max_sockets_per_user,
                &["WS_MAX_SOCKETS_PER_USER"],
                20,
                parse_number(1_usize, 10_000),
            )?,
            retention: chrono::Duration::hours(src.parse(
                &args.events_retention_hours,
                &["EVENTS_RETENTION_HOURS"],
                24,
                parse_number(1_i64, 24 * 30),
            )?),
            poll_interval: Duration::from_millis(src.parse(
                &args.events_poll_milliseconds,
                &["EVENTS_POLL_MILLISECONDS"],
                100,
                parse_number(1_u64, 60_000),
            )?),
            ..LiveConfig::default()
        };

        let webhooks = WebhookConfig {
            allowed: src.parse(
                &args.webhook_allowed_hosts,
                &["WEBHOOK_ALLOWED_HOSTS"],
                AddressPolicy::default(),
                AddressPolicy::parse,
            )?,
            per_owner: src.parse(
                &args.webhook_concurrency_per_owner,
                &["WEBHOOK_CONCURRENCY_PER_OWNER"],
                4,
                parse_number(1_usize, 1000),
            )?,
            max_per_user: src.parse(
                &args.webhook_max_per_user,
                &["WEBHOOK_MAX_PER_USER"],
                25,
                parse_number(1_usize, 10_000),
            )?,
            ..WebhookConfig::default()
        };
        let retention_days = |flag: &Option<String>, var: &'static str, default: i64| {
            src.parse(flag, &[var], default, parse_number(1_i64, 3650))
                .map(chrono::Duration::days)
        };
        let retention = RetentionConfig {
            sessions: retention_days(&args.sessions_retention_days, "SESSIONS_RETENTION_DAYS", 7)?,
            oauth: retention_days(&args.oauth_retention_days, "OAUTH_RETENTION_DAYS", 7)?,
            webhook_deliveries: retention_days(
                &args.webhook_deliveries_retention_days,
                "WEBHOOK_DELIVERIES_RETENTION_DAYS",
                30,
            )?,
            email_outbox: retention_days(&args.email_outbox_retention_days, "EMAIL_OUTBOX_RETENTION_DAYS", 7)?,
            // At least an hour: longer than the lockout's window, which these attempts count in.
            login_attempts: chrono::Duration::hours(src.parse(
                &args.login_attempts_retention_hours,
                &["LOGIN_ATTEMPTS_RETENTION_HOURS"],
                24,
                parse_number(1_i64, 24 * 3650),
            )?),
        };

        let (cors_origins, cors_allow_credentials) = cors(&src, args)?;
        let metrics = MetricsConfig {
            // Not through `src.parse`, whose errors quote the value: this one is a secret.
            token: match src.raw(&args.metrics_token, &["METRICS_TOKEN"]) {
                Some(token) if token.len() < MetricsToken::MIN_LEN => {
                    return Err(ConfigError(format!(
                        "METRICS_TOKEN (--metrics-token) is {} bytes: at least {} are required",
                        token.len(),
                        MetricsToken::MIN_LEN
                    )));
                }
                token => token.as_deref().map(MetricsToken::new),
            },
            address: src.parse(&args.metrics_address, &["METRICS_ADDRESS"], None, |raw| {
                parse_listen_address(raw).map(Some)
            })?,
        };

        Ok(Settings {
            host: src.parse(&args.host, &["HOST"], "127.0.0.1".to_owned(), text)?,
            port: src.parse(&args.port, &["PORT"], 8000, parse_number(0_u16, u16::MAX))?,
            data_dir,
            database,
            db_pool_size: src.parse(&args.db_pool_size, &["DB_POOL_SIZE"], 16, parse_number(1_u32, 1000))?,
            statement_timeout: Duration::from_secs(src.parse(
                &args.statement_timeout_seconds,
                &["STATEMENT_TIMEOUT_SECONDS"],
                30,
                parse_number(1_u64, 3600),
            )?),
            secret_key,
            environment,
            access_token_ttl: Duration::from_secs(minutes * 60),
            refresh_token_ttl: Duration::from_secs(days * 24 * 3600),
            api_url: src.parse(&args.api_url, &["API_URL", "API_BASE_URL"], None, |raw| {
                let url = url::Url::parse(raw).map_err(|e| e.to_string())?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err("expected an http:// or https:// URL".into());
                }
                Ok(Some(raw.trim_end_matches('/').to_owned()))
            })?,
            cors_origins,
            rate_limit_enabled: src.parse(&args.rate_limit_enabled, &["RATE_LIMIT_ENABLED"], true, parse_bool)?,
            rate_limit: RateLimitConfig {
                testing_mode: src.parse(
                    &args.rate_limit_testing_mode,
                    &["RATE_LIMIT_TESTING_MODE"],
                    false,
                    parse_bool,
                )?,
                flush_interval: Duration::from_secs(src.parse(
                    &args.rate_limit_flush_seconds,
                    &["RATE_LIMIT_FLUSH_SECONDS"],
                    10,
                    parse_number(1_u64, 3600),
                )?),
            },
            trusted_proxies: src.parse(
                &args.trusted_proxies,
                &["TRUSTED_PROXIES"],
                TrustedProxies::default(),
                TrustedProxies::parse,
            )?,
            email: EmailSettings {
                enabled: src.parse(&args.email_enabled, &["EMAIL_ENABLED"], false, parse_bool)?,
                smtp_host: src.parse(&args.smtp_host, &["SMTP_HOST"], "localhost".to_owned(), text)?,
                smtp_port: src.parse(&args.smtp_port, &["SMTP_PORT"], 587, parse_number(1_u16, u16::MAX))?,
                smtp_user: src.raw(&args.smtp_user, &["SMTP_USER"]),
                smtp_password: src.raw(&args.smtp_password, &["SMTP_PASSWORD"]),
                from_address: src.parse(
                    &args.smtp_from,
                    &["SMTP_FROM"],
                    "noreply@resource-reserver.local".to_owned(),
                    |raw| {
                        if raw.contains('@') {
                            Ok(raw.to_owned())
                        } else {
                            Err("not an e-mail address".into())
                        }
                    },
                )?,
                from_name: src.parse(
                    &args.smtp_from_name,
                    &["SMTP_FROM_NAME"],
                    "Resource Reserver".to_owned(),
                    text,
                )?,
                starttls: src.parse(&args.smtp_tls, &["SMTP_TLS"], true, parse_bool)?,
                implicit_tls: src.parse(&args.smtp_ssl, &["SMTP_SSL"], false, parse_bool)?,
                verifications_per_user: src.parse(
                    &args.email_verifications_per_user_per_hour,
                    &["EMAIL_VERIFICATIONS_PER_USER_PER_HOUR"],
                    5,
                    parse_number(1_u32, 1000),
                )?,
                verifications_per_recipient: src.parse(
                    &args.email_verifications_per_recipient_per_hour,
                    &["EMAIL_VERIFICATIONS_PER_RECIPIENT_PER_HOUR"],
                    3,
                    parse_number(1_u32, 1000),
                )?,
            },
            setup_reopen_token: src.parse(&args.setup_reopen_token, &["SETUP_REOPEN_TOKEN"], None, |raw| {
                if raw.len() < MIN_SETUP_REOPEN_TOKEN_LEN {
                    return Err(format!(
                        "{} bytes is too short to guard the first admin: use at least {MIN_SETUP_REOPEN_TOKEN_LEN}",
                        raw.len()
                    ));
                }
                Ok(Some(raw.to_owned()))
            })?,
            mfa_lockout: MfaLockoutConfig {
                max_failures: src.parse(
                    &args.mfa_max_failures,
                    &["MFA_MAX_FAILURES"],
                    5,
                    parse_number(1_i64, 100),
                )?,
                duration: chrono::Duration::minutes(src.parse(
                    &args.mfa_lockout_minutes,
                    &["MFA_LOCKOUT_MINUTES"],
                    15,
                    parse_number(1_i64, 7 * 24 * 60),
                )?),
            },
            shutdown_timeout: Duration::from_secs(src.parse(
                &args.shutdown_timeout,
                &["SHUTDOWN_TIMEOUT"],
                30,
                parse_number(0_u64, 3600),
            )?),
            workers: src.parse(&args.workers, &["WORKERS"], workers_default, parse_number(1_usize, 256))?,
            log_format: src.parse(&args.log_format, &["LOG_FORMAT"], LogFormat::Text, |raw| match raw {
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
            reservation_names_visible: src.parse(
                &args.reservation_names_visible,
                &["RESERVATION_NAMES_VISIBLE"],
                NamesVisible::default(),
                NamesVisible::parse,
            )?,
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
    fn the_generated_secret_is_kept_across_starts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let first = load_or_create_secret(&path).unwrap();
        assert_eq!(load_or_create_secret(&path).unwrap(), first);
        assert!(first.len() >= MIN_PRODUCTION_SECRET_LEN);
    }
}
