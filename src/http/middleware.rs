//! Middleware. Every request passes through, outermost first: [`trace_requests`] (the request's
//! span and id), path normalisation (both trailing-slash forms are served), CORS,
//! [`record_metrics`] and [`wire_headers`]; every routed request also through [`catch_panics`],
//! mounted per resource by the route table.
//!
//! Following a request: its span (`request`) carries `request_id`, `method`, `route` (the
//! pattern, recorded once routed) and `user_id` (recorded by the access guard once it
//! authenticated someone). The id is also the request's [`RequestId`] for its task, which the
//! resource actors and the outbox pick up, so a booking can be followed from the handler
//! through its actor to the commit and the event frame.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError, web};
use futures::FutureExt;
use reserver_actors::fault::Fault;
use reserver_actors::request::RequestId;
use tracing::Instrument;

use crate::error::ApiError;
use crate::metrics::{Metrics, UNMATCHED_ROUTE};

/// The header a request id arrives in (from a client or a proxy) and is answered in.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client; longer ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Runs the request in its span and as its [`RequestId`], answers the id in `X-Request-Id`, and
/// logs the request's end (status and time) in its span.
pub async fn trace_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = client_request_id(req.headers()).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        route = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    let header = HeaderValue::from_str(&id).ok();
    let started = Instant::now();
    let mut response = RequestId::scope(Some(RequestId::new(id)), next.call(req))
        .instrument(span.clone())
        .await?;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "request served"
        );
    });
    if let Some(header) = header {
        response.headers_mut().insert(REQUEST_ID_HEADER, header);
    }
    Ok(response)
}

/// The client's `X-Request-Id`, if it is one we can log and echo as it is: 1 to 64 ASCII
/// letters, digits, `-`, `_`, `.` or `:`. Anything else is replaced by a generated id.
fn client_request_id(headers: &HeaderMap) -> Option<String> {
    let id = headers.get(REQUEST_ID_HEADER)?.to_str().ok()?;
    let acceptable = (1..=MAX_REQUEST_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    acceptable.then(|| id.to_owned())
}

/// Turns a panic anywhere below into a 500 with a JSON body, so one bad request can never take
/// a worker down with it. Panics are bugs: they are logged loudly. Being the first thing that
/// runs once a request is routed, it also records the route pattern in the request's span.
pub async fn catch_panics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Some(route) = req.match_pattern() {
        tracing::Span::current().record("route", route.as_str());
    }
    let request = req.request().clone();
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(response) => response.map(ServiceResponse::map_into_boxed_body),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let error = ApiError::Internal(Fault::new(format!(
                "panic while handling {} {}: {what}",
                request.method(),
                request.path()
            )));
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
