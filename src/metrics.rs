//! Prometheus metrics, served as text at `/metrics`.
//!
//! Each [`Metrics`] owns its own registry (not the process-global one), so several servers in
//! one process (the test suite) never mix their counts. HTTP series are labelled by the route
//! *pattern* (`/api/v1/resources/{resource_id}`), never the raw path, which keeps their
//! cardinality bounded whatever clients request.

use std::time::Instant;

use std::sync::Mutex;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use reserver_actors::resource::SupervisorStats;

use crate::storage::PoolState;

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
    pub fn render(&self, pool: PoolState, actors: SupervisorStats) -> String {
        self.uptime.set(self.uptime_seconds());
        self.actors.follow(actors);
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

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
