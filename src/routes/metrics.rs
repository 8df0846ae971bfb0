//! `GET /api/v1/metrics/summary`: a JSON digest of the server's metrics, for any signed-in user,
//! read from the same counters as `/metrics` (HTTP requests, database statements, WebSocket
//! sessions). Only the cache figures are zero, because this server has no cache.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::table::RouteTable;
use crate::auth::Access;
use crate::error::ApiError;
use crate::state::AppState;

pub fn declare(table: &mut RouteTable) {
    table.route(
        Method::GET,
        "/api/v1/metrics/summary",
        Access::Authenticated,
        &[],
        summary,
    );
}

fn two_decimals(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// `total / count`, or 0 before anything was counted.
fn per(total: f64, count: u64) -> f64 {
    if count == 0 { 0.0 } else { total / count as f64 }
}

async fn summary(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let requests = state.metrics.request_summary();
    let pool = state.db.pool_state();
    let queries = state.db.query_counts();
    let sockets = &state.events.metrics;
    Ok(HttpResponse::Ok().json(json!({
        "uptime_seconds": two_decimals(state.metrics.uptime_seconds()),
        "requests": {
            "total": requests.total,
            "errors": requests.errors,
            "avg_duration_ms": two_decimals(per(requests.seconds * 1000.0, requests.total)),
            "error_rate": two_decimals(per(requests.errors as f64 * 100.0, requests.total)),
        },
        // Nothing is cached (`/health` says `"cache": "disabled"`), so these are truly zero.
        "cache": { "hits": 0, "misses": 0, "hit_rate": 0.0, "sets": 0, "deletes": 0, "errors": 0 },
        "database": {
            "queries": queries.statements,
            "avg_query_duration_ms": two_decimals(per(queries.seconds * 1000.0, queries.statements)),
            "errors": queries.faults,
            "pool_size": pool.size,
            "pool_checked_out": pool.in_use,
        },
        "websocket": {
            "active_connections": sockets.active.get(),
            "total_connections": sockets.opened.get(),
            "messages_sent": sockets.sent.get(),
            "messages_received": sockets.received.get(),
        },
    })))
}
