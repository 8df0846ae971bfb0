//! Middleware. Every request passes through, outermost first: path normalisation (both
//! trailing-slash forms are served), CORS, [`record_metrics`] and [`wire_headers`]; every routed
//! request also through [`catch_panics`], mounted per resource by the route table.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use futures::FutureExt;

use crate::error::ApiError;
use crate::metrics::{Metrics, UNMATCHED_ROUTE};

/// Turns a panic anywhere below into a 500 with a JSON body, so one bad request can never take
/// a worker down with it. Panics are bugs: they are logged loudly.
pub async fn catch_panics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request = req.request().clone();
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(response) => response.map(ServiceResponse::map_into_boxed_body),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let error = ApiError::Internal(format!(
                "panic while handling {} {}: {what}",
                request.method(),
                request.path()
            ));
            Ok(ServiceResponse::new(request, error.error_response()))
        }
    }
}

/// Counts each request and its latency under its method and route pattern.
pub async fn record_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let response = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = response.request().match_pattern();
        let route = route.as_deref().unwrap_or(UNMATCHED_ROUTE);
        metrics.observe_request(
            &method,
            route,
            response.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    Ok(response)
}

/// The informational headers of `/api/v1`: `X-API-Version: v1` under `/api/v1/`, and deprecation
/// notices on the legacy unprefixed token, resources and reservations paths.
pub async fn wire_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let path = req.path().to_owned();
    let get_or_post = matches!(req.method().as_str(), "GET" | "POST");
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    if path.starts_with("/api/v1/") || path == "/api/v1" {
        headers.insert(HeaderName::from_static("x-api-version"), HeaderValue::from_static("v1"));
    }
    let successor = match path.as_str() {
        "/token" if get_or_post => Some((
            "</api/v1/token>; rel=\"successor-version\"",
            "Use /api/v1/token instead",
        )),
        "/resources" => Some((
            "</api/v1/resources/>; rel=\"successor-version\"",
            "Use /api/v1/resources instead",
        )),
        "/reservations" => Some((
            "</api/v1/reservations/>; rel=\"successor-version\"",
            "Use /api/v1/reservations instead",
        )),
        _ => None,
    };
    if let Some((link, notice)) = successor {
        headers.insert(HeaderName::from_static("deprecation"), HeaderValue::from_static("true"));
        headers.insert(
            HeaderName::from_static("sunset"),
            HeaderValue::from_static("2025-06-01"),
        );
        headers.insert(HeaderName::from_static("link"), HeaderValue::from_static(link));
        headers.insert(
            HeaderName::from_static("x-deprecation-notice"),
            HeaderValue::from_static(notice),
        );
    }
    Ok(response)
}
