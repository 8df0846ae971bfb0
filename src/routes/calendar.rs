//! `/api/v1/calendar`: iCalendar feeds of one's reservations and single-reservation exports.
//!
//! The feed at `/feed/<token>.ics` is public: calendar apps cannot sign in, so its secret URL is
//! the credential (see `crate::calendar::tokens`). It opens that feed only — it is no API token.

use actix_web::http::Method;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::admin::out_of_range;
use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::audit::Event;
use crate::auth::principal::FIRST_PARTY_ONLY;
use crate::auth::{Permission, Principal};
use crate::calendar::feed::{self, FEED_STATUSES};
use crate::calendar::{FeedToken, Kind, Window, tokens};
use crate::error::ApiError;
use crate::http::{Path, Query, secret_json};
use crate::reservations::access::{not_found, visible};
use crate::reservations::queries;
use crate::state::AppState;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Permission as Needs, Public};
    use Permission::CalendarRead;
    table
        .route(Method::GET, "/api/v1/calendar/feed/{token}.ics", Public, &[], feed)
        .route(Method::GET, "/api/v1/calendar/subscription-url", Needs(CalendarRead), &[], subscription_url)
        .route(Method::POST, "/api/v1/calendar/regenerate-token", Needs(CalendarRead), &[], regenerate_token)
        .route(Method::GET, "/api/v1/calendar/export/{reservation_id}.ics", Needs(CalendarRead), &[], export)
        .route(Method::GET, "/api/v1/calendar/my-feed", Needs(CalendarRead), &[], my_feed);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct WindowParams {
    #[serde(default = "default_days_back")]
    days_back: i64,
    #[serde(default = "default_days_ahead")]
    days_ahead: i64,
}

fn default_days_back() -> i64 {
    Window::DEFAULT_DAYS_BACK
}

fn default_days_ahead() -> i64 {
    Window::DEFAULT_DAYS_AHEAD
}

impl WindowParams {
    fn window(&self) -> Result<Window, ApiError> {
        Window::new(self.days_back, self.days_ahead).map_err(|e| out_of_range(e.name, e.value, e.min, e.max))
    }
}

/// `text/calendar` as a download named `filename`, never served from a cache unchecked.
fn ics(filename: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((CONTENT_DISPOSITION, format!("attachment; filename={filename}")))
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-cache, must-revalidate")))
        .body(body)
}

/// The feed of `user`'s reservations starting within `window`.
async fn user_feed(state: &AppState, user: i64, window: Window) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let (from, to) = window.bounds(now);
    let reservations = queries::scheduled_of_user(&state.db, user, FEED_STATUSES, from, to).await?;
    Ok(ics("reservations.ics", feed::render(Kind::Feed, &reservations, now)))
}

#[derive(Deserialize)]
struct TokenPath {
    token: String,
}

async fn feed(
    state: web::Data<AppState>,
    Path(path): Path<TokenPath>,
    Query(params): Query<WindowParams>,
) -> Result<HttpResponse, ApiError> {
    let window = params.window()?;
    let invalid = || ApiError::NotFound("Invalid calendar token".into());
    let token = FeedToken::parse(&path.token).ok_or_else(invalid)?;
    let owner = tokens::owner(&state.db, &token).await?.ok_or_else(invalid)?;
    user_feed(&state, owner.user_id, window).await
}

async fn my_feed(
    state: web::Data<AppState>,
    principal: Principal,
    Query(params): Query<WindowParams>,
) -> Result<HttpResponse, ApiError> {
    user_feed(&state, principal.user_id, params.window()?).await
}

#[derive(Deserialize)]
struct ReservationId {
    reservation_id: i64,
}

/// One reservation, any status, as a calendar file: the owner's, or anyone's for a role that
/// reads anyone's reservations.
async fn export(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<ReservationId>,
) -> Result<HttpResponse, ApiError> {
    visible(&state.db, &principal, path.reservation_id).await?;
    let reservation = queries::scheduled_one(&state.db, path.reservation_id)
        .await?
        .ok_or_else(not_found)?;
    let body = feed::render(Kind::Single, std::slice::from_ref(&reservation), state.clock.now());
    Ok(ics(&format!("reservation-{}.ics", reservation.id), body))
}

/// The wire format's key order for each answer.
#[derive(Serialize)]
struct Subscription {
    url: String,
    token: String,
}

#[derive(Serialize)]
struct Regenerated {
    token: String,
    url: String,
}

/// The public feed URL of `token`: under `API_URL` when configured, else under the scheme and
/// host the request came to.
fn feed_url(state: &AppState, req: &HttpRequest, token: &FeedToken) -> String {
    let base = state.settings.api_url.clone().unwrap_or_else(|| {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    });
    format!("{base}/api/v1/calendar/feed/{}.ics", token.as_str())
}

/// A feed token outlives any access token, so only the user's own sign-in may obtain one: a
/// delegated OAuth2 token would otherwise turn into a read credential that never expires.
fn first_party(principal: &Principal) -> Result<(), ApiError> {
    if principal.is_first_party() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(FIRST_PARTY_ONLY.into()))
    }
}

async fn subscription_url(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    first_party(&principal)?;
    let token = tokens::current(&state.db, &state.feed_key, principal.user_id, state.clock.now()).await?;
    Ok(secret_json(Subscription {
        url: feed_url(&state, &req, &token),
        token: token.as_str().to_owned(),
    }))
}

async fn regenerate_token(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    first_party(&principal)?;
    let token = tokens::regenerate(&state.db, &state.feed_key, principal.user_id, state.clock.now()).await?;
    Event::new("calendar_token_regenerated", "user")
        .by_principal(&principal)
        .on(Some(principal.user_id), &principal.username)
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(secret_json(Regenerated {
        url: feed_url(&state, &req, &token),
        token: token.as_str().to_owned(),
    }))
}
