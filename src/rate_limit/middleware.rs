//! The limiter in front of a route (mounted by the route table, outside the access guard).
//!
//! The route table wraps every declared route except the probes, `/metrics`, `/setup/status` and
//! `/ws`. The limit a route counts against (its `Scope`: the caller's general limit, or an endpoint
//! limit) is decided once, when the route is declared, from its canonical path, so legacy aliases
//! share their endpoint's bucket; paths that match no route (404) are never counted. A disabled
//! limiter costs one `Option` check per request. The limiter only reads the authentication outcome
//! ([`crate::auth::authenticate`]); it never puts a `Principal` in the request. It reads the
//! limiter, the clock, the authenticator and `TRUSTED_PROXIES` from the application data.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError, web};
use chrono::{DateTime, Utc};
use reserver_actors::Clock;

use super::{Admission, Caller, RateLimiter, Refusal, Scope, Who};
use crate::auth::authenticate::{self, Authenticator};
use crate::client_ip::{TrustedProxies, client_ip};
use crate::error::ApiError;
use crate::quotas::{ENDPOINT_LIMITS, Limits, day_of};

/// Never limited: probes and metrics (monitoring must see a server under load), the setup
/// status the frontend polls before sign-in, the WebSocket (long-lived, limited by its
/// own rules), and the dashboard's page and static assets (one page load fetches dozens).
const EXEMPT: [&str; 10] = [
    "/health",
    "/ready",
    "/live",
    "/metrics",
    "/setup/status",
    "/api/v1/setup/status",
    "/ws",
    "/",
    "/index.html",
    "/assets/{path:.*}",
];

const RATE_EXCEEDED: &str = "Rate limit exceeded. Please try again later.";
const QUOTA_EXCEEDED: &str = "Daily API quota exceeded. Resets at midnight UTC.";

/// A limited route as the route table declares it: its canonical pattern (legacy aliases are
/// declared with the canonical path, so `/token` counts as `/api/v1/token`) and the limit its
/// requests count against.
#[derive(Debug)]
pub struct LimitedRoute {
    pattern: Arc<str>,
    scope: Scope,
    /// Counted by client address whatever token is presented (see [`BY_ADDRESS`]).
    by_address: bool,
}

/// Routes that take credentials rather than a token: their requests count against the client
/// address even when they carry a valid token, or a guesser holding any account's token would
/// get a bucket of their own next to their address's.
const BY_ADDRESS: [&str; 2] = ["/api/v1/token", "/api/v1/register"];

impl LimitedRoute {
    /// The limiting of the route declared at `canonical`; `None` for an exempt one.
    pub fn of(canonical: &str) -> Option<Arc<LimitedRoute>> {
        if EXEMPT.contains(&canonical) {
            return None;
        }
        let scope = ENDPOINT_LIMITS
            .iter()
            .position(|limit| limit.covers(canonical))
            .map_or(Scope::General, |index| Scope::Endpoint(index as u8));
        Some(Arc::new(LimitedRoute {
            pattern: Arc::from(canonical),
            scope,
            by_address: BY_ADDRESS.contains(&canonical),
        }))
    }

    /// The route declared at `canonical`, counted in the bucket of the route declared at `like`
    /// (its scope, and by address if that one is).
    pub fn like(canonical: &str, like: &str) -> Option<Arc<LimitedRoute>> {
        LimitedRoute::of(like).map(|route| {
            Arc::new(LimitedRoute {
                pattern: Arc::from(canonical),
                scope: route.scope,
                by_address: route.by_address,
            })
        })
    }
}

pub async fn enforce(
    route: Arc<LimitedRoute>,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // No limiter is registered when `RATE_LIMIT_ENABLED=false`.
    let Some(limiter) = req.app_data::<web::Data<RateLimiter>>().cloned() else {
        return next.call(req).await;
    };
    let Some(clock) = req.app_data::<web::Data<dyn Clock>>().cloned() else {
        return next.call(req).await;
    };
    let started = Instant::now();
    let now = clock.now();
    let caller = caller(&req, &route, limiter.limits(), now).await;
    match limiter.admit(&caller, route.scope, now).await {
        Ok(admission) => {
            let mut response = next.call(req).await?;
            write_headers(response.headers_mut(), &admission);
            limiter.count_route(&route.pattern, now, false, started.elapsed());
            Ok(response)
        }
        Err(refusal) => {
            limiter.count_route(&route.pattern, now, true, started.elapsed());
            Ok(req.into_response(refused(refusal)))
        }
    }
}

/// The user of a valid bearer token or session cookie (authenticated once for this request: the
/// route guard reuses the outcome), else — and always on a [`BY_ADDRESS`] route — the client address.
async fn caller(req: &ServiceRequest, route: &LimitedRoute, limits: &Limits, now: DateTime<Utc>) -> Caller {
    if !route.by_address && authenticate::presents_credentials(req.request()) {
        if let Ok(authenticator) = Authenticator::of(req.request()) {
            authenticate::authenticate_once(req.request(), &authenticator).await;
        }
        let user = authenticate::inspect(req.request(), |principal| Caller::User {
            id: principal.user_id,
            limits: principal.quota.effective(principal.is_admin(), limits),
            stored_today: principal.quota.used_on(day_of(now)),
        });
        if let Some(user) = user {
            return user;
        }
    }
    let none = TrustedProxies::default();
    let trusted_proxies = req
        .app_data::<web::Data<TrustedProxies>>()
        .map_or(&none, |data| data.get_ref());
    Caller::Client(Who::client(client_ip(req.request(), trusted_proxies)))
}

fn set(headers: &mut HeaderMap, name: &'static str, value: impl Into<HeaderValue>) {
    headers.insert(HeaderName::from_static(name), value.into());
}

fn write_headers(headers: &mut HeaderMap, admission: &Admission) {
    set(headers, "x-ratelimit-limit", admission.limit);
    set(headers, "x-ratelimit-remaining", admission.remaining);
    set(headers, "x-ratelimit-reset", admission.reset);
    if let Some((quota, remaining)) = admission.quota {
        set(headers, "x-quota-limit", quota);
        set(headers, "x-quota-remaining", remaining);
    }
}

/// The 429s of the `/api/v1` wire format, with `Retry-After`.
fn refused(refusal: Refusal) -> HttpResponse {
    let (detail, retry_after) = match refusal {
        Refusal::Rate { retry_after, .. } => (RATE_EXCEEDED, retry_after),
        Refusal::Quota { retry_after, .. } => (QUOTA_EXCEEDED, retry_after),
    };
    let mut response = ApiError::TooManyRequests {
        detail: detail.into(),
        retry_after_seconds: retry_after,
    }
    .error_response();
    let headers = response.headers_mut();
    match refusal {
        Refusal::Rate { limit, reset, .. } => {
            set(headers, "x-ratelimit-limit", limit);
            set(headers, "x-ratelimit-remaining", 0_u32);
            set(headers, "x-ratelimit-reset", reset);
        }
        Refusal::Quota { quota, .. } => {
            set(headers, "x-quota-limit", quota);
            set(headers, "x-quota-remaining", 0_u32);
        }
    }
    response
}
