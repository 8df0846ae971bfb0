//! Resource Reserver: an actor-based real-time scheduling server for shared resources.
//!
//! Map of the crate (see ARCHITECTURE.md for the invariants of each part):
//!
//! - [`config`]: flags over environment variables over defaults, parsed into typed [`Settings`].
//! - [`startup`]: [`Application`] — connect and migrate the database, assemble the HTTP server,
//!   run until a graceful shutdown.
//! - [`storage`]: the [`storage::Backend`] trait with its SQLite and PostgreSQL implementations,
//!   and the migration runner.
//! - [`http`]: the route table, 422-producing extractors and the middleware stack.
//! - [`routes`]: one module per API area; every endpoint is declared in [`routes::table`].
//! - [`resources`], [`reservations`]: the API's views of resources and reservations, and their
//!   database reads.
//! - [`time_zone`]: below those views — stored time zone names and the `X-Timezone` output zone.
//! - [`calendar`]: iCalendar feeds and exports of reservations, and their secret feed tokens.
//! - [`bulk`]: bulk reservations — batches booked all or nothing through the resource actors,
//!   their CSV import, and the CSV export of what the caller may read.
//! - [`scheduling`]: the SQL store of the resource actors and the mapping of their errors.
//! - [`error`]: [`ApiError`], the single mapping from failures to HTTP responses.
//! - [`events`]: live updates — the outbox of events, its tailer, and the WebSocket sessions
//!   the notifier actor fans events out to.
//! - [`projections`], [`notifications`]: what events give besides themselves (in-app notices,
//!   e-mail, webhook deliveries), handed to the event writer at start-up.
//! - [`rate_limit`], [`quotas`]: per-minute rate limits and daily quotas, and the usage counts
//!   behind `/api/v1/quotas`.
//! - [`webhooks`]: users' webhooks — deliveries written with the change, sent and retried by
//!   the dispatcher actor, signed, and kept off internal addresses.
//! - [`retention`]: the one scheduler that prunes every table that would otherwise grow without
//!   bound, each after its own retention period.
//! - [`openapi`]: the OpenAPI 3.1 document, generated from the route table (`/openapi.json`).
//! - [`metrics`], [`telemetry`]: Prometheus metrics and logs.
//! - [`state`]: what every handler can reach.
//! - [`wire`], [`pagination`], [`secret`], [`client_ip`]: the low level that the other parts
//!   use and that uses none of them (only [`error`] and [`storage`]) — times and bounded lists
//!   as the API reads and writes them, the `/api/v1` list envelope with its keyset cursors,
//!   random tokens and their digests, the client's address behind trusted proxies.
//! - [`auth`]: identity and access — the [`auth::Principal`] extractor, permissions and roles,
//!   tokens, MFA, OAuth2, first-run setup, the audit log.
//! - [`web`]: the dashboard's embedded assets and page, and the browser session's cookies, CSRF
//!   tokens and security headers (below `auth`, which reads the session cookie through it).
//!
//! The scheduling core (resource actors, supervisor, notifier, the pure domain) lives in the
//! `reserver-actors` crate; the SQL migrations in `reserver-schema`.

pub mod analytics;
pub mod approvals;
pub mod auth;
pub mod bulk;
pub mod calendar;
pub mod client_ip;
pub mod config;
pub mod email;
pub mod error;
pub mod events;
pub mod groups;
pub mod hours;
pub mod http;
pub mod labels;
pub mod metrics;
pub mod notifications;
pub mod openapi;
pub mod pagination;
pub mod projections;
pub mod quotas;
pub mod rate_limit;
pub mod reservations;
pub mod resources;
pub mod retention;
pub mod routes;
pub mod scheduling;
pub mod search;
pub mod secret;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod time_zone;
pub mod waitlist;
pub mod web;
pub mod webhooks;
pub mod wire;

pub use config::Settings;
pub use error::ApiError;
pub use startup::{Application, ShutdownHandle};
