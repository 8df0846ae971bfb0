//! Probes and operational endpoints: `/health`, `/ready`, `/live`, `/metrics`, `/api/versions`.
//! All cheap, for load balancers, orchestrators and Prometheus. The probes are public and say
//! nothing of the database's errors; `/metrics` can be restricted (`METRICS_TOKEN`,
//! `METRICS_ADDRESS`).

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::SecondsFormat;
use serde_json::json;

use super::table::RouteTable;
use crate::auth::Access;
use crate::error::ApiError;
use crate::state::AppState;

pub fn declare(table: &mut RouteTable) {
    table
        .get("/health", Access::Public, health)
        .get("/ready", Access::Public, ready)
        .get("/live", Access::Public, live)
        .get("/metrics", Access::Public, metrics)
        .get("/api/versions", Access::Public, versions);
}

fn timestamp(state: &AppState) -> String {
    state.clock.now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// What `/health` says in `api` when the database fails. Fixed: the error itself (SQL, table
/// and database names, addresses) goes to the log only, since `/health` is public.
const DATABASE_FAILED: &str = "error: database unavailable";

/// Overall health. Always 200 (probes read the body), with `status` saying whether the database
/// answers.
async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let count = crate::resources::record::count(&state.db).await;
    if let Err(error) = &count {
        tracing::error!(%error, "health check: the database query failed");
    }
    let healthy = count.is_ok();
    let status = if healthy { "healthy" } else { "unhealthy" };
    Ok(HttpResponse::Ok().json(json!({
        "status": status,
        "timestamp": timestamp(&state),
        "version": env!("CARGO_PKG_VERSION"),
        "database": status,
        "database_backend": state.db.kind().as_str(),
        "api": if healthy { "healthy" } else { DATABASE_FAILED },
        "cache": "disabled",
        "resources_count": count.unwrap_or(0),
        "rate_limiting": { "enabled": state.settings.rate_limit_enabled },
    })))
}

/// Readiness: 503 while the database does not answer, and from the start of a graceful stop
/// (while the process still serves during `SHUTDOWN_DRAIN_SECONDS`), so traffic goes elsewhere.
async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let database = state.db.ping().await;
    let draining = state.draining.load(std::sync::atomic::Ordering::Relaxed);
    let ready = database.is_ok() && !draining;
    let body = json!({
        "ready": ready,
        "draining": draining,
        "components": {
            "database": { "status": if database.is_ok() { "healthy" } else { "unhealthy" } },
            "cache": { "status": "disabled", "enabled": false },
            "websocket": { "status": "healthy", "active_connections": state.events.metrics.active.get() },
        },
        "timestamp": timestamp(&state),
    });
    Ok(if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    })
}

/// Liveness: the process answers.
async fn live(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let uptime = (state.metrics.uptime_seconds() * 100.0).round() / 100.0;
    Ok(HttpResponse::Ok().json(json!({ "alive": true, "timestamp": timestamp(&state), "uptime_seconds": uptime })))
}

/// Marks the requests of the separate metrics listener (`METRICS_ADDRESS`).
#[derive(Debug, Clone, Copy)]
pub struct MetricsListener;

/// The routes of the separate metrics listener: `/metrics` only.
pub fn metrics_listener_table() -> RouteTable {
    let mut table = RouteTable::new();
    table.get("/metrics", Access::Public, metrics);
    table
}

/// The Prometheus text. Declared `Public` in the route table because its credential is not a
/// user's: with `METRICS_TOKEN` set it needs that bearer token (401 otherwise); with
/// `METRICS_ADDRESS` set it is served only there (404 on the main port).
async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let config = &state.settings.metrics;
    if config.address.is_some() && req.app_data::<MetricsListener>().is_none() {
        return Err(ApiError::NotFound("Not Found".into()));
    }
    if let Some(token) = &config.token {
        let authorization = req.headers().get(AUTHORIZATION).and_then(|value| value.to_str().ok());
        if !token.admits(authorization) {
            return Err(ApiError::Unauthorized("A valid metrics token is required".into()));
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(
            state
                .metrics
                .render(state.db.pool_state(), state.db.query_counts(), state.resources.stats()),
        ))
}

/// API versions. Only v1 exists, so only v1 is listed.
async fn versions() -> Result<HttpResponse, ApiError> {
    let deprecated = |method: &str, path: &str, alternative: &str| json!({ "method": method, "path": path, "deprecated_since": "1.0.0", "sunset_date": "2025-06-01", "alternative": alternative });
    Ok(HttpResponse::Ok().json(json!({
        "current_version": "v1",
        "versions": { "v1": { "status": "current", "deprecated": false, "sunset_date": null, "message": null } },
        "deprecated_endpoints": [
            deprecated("GET", "^/token$", "/api/v1/token"),
            deprecated("POST", "^/token$", "/api/v1/token"),
            deprecated("GET", "^/resources$", "/api/v1/resources"),
            deprecated("GET", "^/reservations$", "/api/v1/reservations"),
        ],
    })))
}
