//! `GET /api/v1/metrics/summary`: the original's JSON digest of the server's metrics, for any
//! signed-in user. Counters the server does not have (a cache, WebSocket traffic before that
//! feature lands) are reported as zero, as the original's always were.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::ApiError;
use crate::http::{Access, RouteTable};
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

async fn summary(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let requests = state.metrics.request_summary();
    let pool = state.db.pool_state();
    let per_request = |total: f64| {
        if requests.total == 0 {
            0.0
        } else {
            total / requests.total as f64
        }
    };
    Ok(HttpResponse::Ok().json(json!({
        "uptime_seconds": two_decimals(state.metrics.uptime_seconds()),
        "requests": {
            "total": requests.total,
            "errors": requests.errors,
            "avg_duration_ms": two_decimals(per_request(requests.seconds * 1000.0)),
            "error_rate": two_decimals(per_request(requests.errors as f64 * 100.0)),
        },
        "cache": { "hits": 0, "misses": 0, "hit_rate": 0.0, "sets": 0, "deletes": 0, "errors": 0 },
        "database": {
            "queries": 0, "avg_query_duration_ms": 0.0, "errors": 0,
            "pool_size": pool.size, "pool_checked_out": pool.in_use,
        },
        "websocket": { "active_connections": 0, "total_connections": 0, "messages_sent": 0, "messages_received": 0 },
    })))
}
