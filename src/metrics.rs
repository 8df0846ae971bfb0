//! Prometheus metrics, served as text at `/metrics`.
//!
//! Each [`Metrics`] owns its own registry (not the process-global one), so several servers in
//! one process (the test suite) never mix their counts. HTTP series are labelled by the route
//! *pattern* (`/api/v1/resources/{resource_id}`), never the raw path, which keeps their
//! cardinality bounded whatever clients request.
//!
//! Counts kept by parts that know nothing of Prometheus (the actors' supervisor, the database's
//! query counts) are read at each scrape. `/metrics` is the only route whose credential is not a
//! user's: `METRICS_TOKEN` is kept as a SHA-256 digest and compared in constant time, and
//! `METRICS_ADDRESS` starts a second listener that serves `/metrics` alone (the main port then
//! answers 404 there). `/api/v1/metrics/summary` reads the same counters.

use std::time::Instant;

use std::sync::Mutex;

use prometheus::{
    Counter, Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use reserver_actors::resource::SupervisorStats;

use crate::secret;
use crate::storage::{PoolState, QueryCounts};

/// Route label of requests that matched no route (404s): one series for all of them.
pub const UNMATCHED_ROUTE: &str = "<unmatched>";

pub struct Metrics {
    registry: Registry,
    started: Instant,
    uptime: Gauge,
    http_requests: IntCounterVec,
    http_errors: IntCounterVec,
    http_duration: HistogramVec,
    db_pool_size: IntGauge,
    db_pool_checked_out: IntGauge,
    actors: ActorMetrics,
    db: DbMetrics,
}

/// The resource actors' supervisor, read at each scrape: its counts live in the actors crate,
/// which knows nothing of Prometheus, so the counters here follow them by the difference.
struct ActorMetrics {
    live: IntGauge,
    started: IntCounter,
    replaced: IntCounter,
    seen: Mutex<SupervisorStats>,
}

impl ActorMetrics {
    fn new() -> ActorMetrics {
        ActorMetrics {
            live: IntGauge::new("resource_actors_live", "Resource actors running now").expect("valid metric"),
            started: IntCounter::new(
                "resource_actors_started_total",
                "Resource actors started (lazily, on wake-up, as replacements)",
            )
            .expect("valid metric"),
            replaced: IntCounter::new(
                "resource_actors_replaced_total",
                "Messages that found their resource actor dead (a crash) and were delivered to a fresh one",
            )
            .expect("valid metric"),
            seen: Mutex::new(SupervisorStats::default()),
        }
    }

    fn follow(&self, now: SupervisorStats) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        self.live.set(i64::try_from(now.live).unwrap_or(i64::MAX));
        self.started.inc_by(now.started.saturating_sub(seen.started));
        self.replaced.inc_by(now.replaced.saturating_sub(seen.replaced));
        *seen = now;
    }
}

/// The database statements counted by [`crate::storage::Db`], followed at each scrape like the
/// actors' counts (storage knows nothing of Prometheus).
struct DbMetrics {
    queries: IntCounter,
    errors: IntCounter,
    seconds: Counter,
    seen: Mutex<QueryCounts>,
}

impl DbMetrics {
    fn new() -> DbMetrics {
        DbMetrics {
            queries: IntCounter::new("db_queries_total", "Database statements run").expect("valid metric"),
            errors: IntCounter::new(
                "db_errors_total",
                "Database statements that failed with a fault (not duplicates or overlaps a request caused)",
            )
            .expect("valid metric"),
            seconds: Counter::new(
                "db_query_duration_seconds_total",
                "Time spent in database statements, waiting for a connection included",
            )
            .expect("valid metric"),
            seen: Mutex::new(QueryCounts::default()),
        }
    }

    fn follow(&self, now: QueryCounts) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        self.queries.inc_by(now.statements.saturating_sub(seen.statements));
        self.errors.inc_by(now.faults.saturating_sub(seen.faults));
        self.seconds.inc_by((now.seconds - seen.seconds).max(0.0));
        *seen = now;
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let uptime = Gauge::new("app_uptime_seconds", "Seconds since the server started").expect("valid metric");
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by method, route pattern and status",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let http_errors = IntCounterVec::new(
            Opts::new(
                "http_request_errors_total",
                "HTTP requests answered with a status of 400 or more",
            ),
            &["method", "route"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Time to answer an HTTP request").buckets(vec![
                0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route"],
        )
        .expect("valid metric");
        let db_pool_size = IntGauge::new("db_pool_size", "Open database connections").expect("valid metric");
        let db_pool_checked_out =
            IntGauge::new("db_pool_checked_out", "Database connections in use").expect("valid metric");
        let metrics = Metrics {
            registry,
            started: Instant::now(),
            uptime,
            http_requests,
            http_errors,
            http_duration,
            db_pool_size,
            db_pool_checked_out,
            actors: ActorMetrics::new(),
            db: DbMetrics::new(),
        };
        metrics.register(Box::new(metrics.uptime.clone()));
        metrics.register(Box::new(metrics.http_requests.clone()));
        metrics.register(Box::new(metrics.http_errors.clone()));
        metrics.register(Box::new(metrics.http_duration.clone()));
        metrics.register(Box::new(metrics.db_pool_size.clone()));
        metrics.register(Box::new(metrics.db_pool_checked_out.clone()));
        metrics.register(Box::new(metrics.actors.live.clone()));
        metrics.register(Box::new(metrics.actors.started.clone()));
        metrics.register(Box::new(metrics.actors.replaced.clone()));
        metrics.register(Box::new(metrics.db.queries.clone()));
        metrics.register(Box::new(metrics.db.errors.clone()));
        metrics.register(Box::new(metrics.db.seconds.clone()));
        metrics
    }

    /// Adds a collector owned by another part of the server (WebSocket sessions, actors, …).
    pub fn register(&self, collector: Box<dyn prometheus::core::Collector>) {
        self.registry.register(collector).expect("metric names are unique");
    }

    pub fn uptime_seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        self.http_requests.with_label_values(&[method, route, &status]).inc();
        if status.as_str() >= "400" {
            self.http_errors.with_label_values(&[method, route]).inc();
        }
        self.http_duration.with_label_values(&[method, route]).observe(seconds);
    }

    /// The Prometheus text exposition of every registered metric.
    pub fn render(&self, pool: PoolState, queries: QueryCounts, actors: SupervisorStats) -> String {
        self.uptime.set(self.uptime_seconds());
        self.actors.follow(actors);
        self.db.follow(queries);
        self.db_pool_size.set(pool.size.into());
        self.db_pool_checked_out.set(pool.in_use.into());
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(%error, "cannot encode metrics");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// HTTP totals since start, for `/api/v1/metrics/summary`.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestSummary {
    pub total: u64,
    pub errors: u64,
    pub seconds: f64,
}

impl Metrics {
    /// Requests, errors and time spent answering them, summed over every route.
    pub fn request_summary(&self) -> RequestSummary {
        let mut summary = RequestSummary::default();
        for family in self.registry.gather() {
            for metric in family.get_metric() {
                match family.name() {
                    "http_requests_total" => summary.total += metric.get_counter().get_value() as u64,
                    "http_request_errors_total" => summary.errors += metric.get_counter().get_value() as u64,
                    "http_request_duration_seconds" => summary.seconds += metric.get_histogram().get_sample_sum(),
                    _ => {}
                }
            }
        }
        summary
    }
}

/// Who may read `/metrics` and where it is served (`METRICS_TOKEN`, `METRICS_ADDRESS`).
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    /// When set, `/metrics` answers only requests carrying `Authorization: Bearer <token>`.
    pub token: Option<MetricsToken>,
    /// When set, `/metrics` is served on this `host:port` only, not on the main port.
    pub address: Option<String>,
}

/// The bearer token `/metrics` requires. Only its SHA-256 is kept, and presented tokens are
/// compared digest to digest, in constant time: neither the content nor the length of the token
/// shows in the time a refusal takes. `Debug` never shows it.
#[derive(Clone)]
pub struct MetricsToken {
    digest: String,
}

impl MetricsToken {
    /// Shortest token accepted (256 bits, as for the signing key).
    pub const MIN_LEN: usize = 32;

    pub fn new(token: &str) -> MetricsToken {
        MetricsToken {
            digest: secret::digest(token),
        }
    }

    /// Whether an `Authorization` header value is `Bearer <this token>`.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        let presented = authorization
            .and_then(|value| value.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        presented.is_some_and(|token| secret::same(&secret::digest(token), &self.digest))
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_token_admits_only_itself_as_a_bearer_token() {
        let token = MetricsToken::new("a-token-of-at-least-thirty-two-bytes");
        assert!(token.admits(Some("Bearer a-token-of-at-least-thirty-two-bytes")));
        assert!(token.admits(Some("bearer a-token-of-at-least-thirty-two-bytes")));
        for refused in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer a-token-of-at-least-thirty-two-byte"),
            Some("Basic a-token-of-at-least-thirty-two-bytes"),
            Some("a-token-of-at-least-thirty-two-bytes"),
        ] {
            assert!(!token.admits(refused), "{refused:?}");
        }
        assert!(!format!("{token:?}").contains("thirty"));
    }
}
