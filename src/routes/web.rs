//! The dashboard: its page (`/`, `/index.html`), its assets (`/assets/…`) and the browser
//! session (`/api/v1/web/session`).
//!
//! The session endpoints are the token endpoints of `routes::auth` with cookies instead of
//! tokens in the body: the same sign-in ([`super::auth::sign_in`]: lockout, MFA, audit, and the
//! rate limit of `/api/v1/token`, whose allowance it shares), the same rotation
//! ([`super::auth::rotate`]) and the same sign-out ([`super::auth::sign_out`]). Tokens never
//! appear in their bodies; the body carries the signed-in user, roles, permissions, the CSRF
//! token and when the access cookie expires. How cookies and CSRF tokens work is
//! `crate::web::session`'s.

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, ResponseError, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Credentials, rotate, sign_in, sign_out};
use super::table::RouteTable;
use super::users::own_details;
use crate::auth::authenticate::bearer;
use crate::auth::sessions::Issued;
use crate::auth::{Access, NOT_AUTHENTICATED, Permission, Principal};
use crate::error::ApiError;
use crate::http::Json;
use crate::state::AppState;
use crate::web::assets::{Asset, AssetSource, INDEX, matches_etag};
use crate::web::headers;
use crate::web::lang::{self, LANG_COOKIE};
use crate::web::session::BrowserSessions;
use crate::wire::time::utc;

pub fn declare(table: &mut RouteTable) {
    table
        .get("/", Access::Public, index)
        .get("/index.html", Access::Public, index)
        .get("/assets/{path:.*}", Access::Public, asset)
        .get("/api/v1/web/session", Access::Session, current)
        .route_counted_as(
            Method::POST,
            "/api/v1/web/session",
            Access::Public,
            "/api/v1/token",
            open,
        )
        .route(
            Method::POST,
            "/api/v1/web/session/refresh",
            Access::Public,
            &[],
            refresh,
        )
        .route(Method::DELETE, "/api/v1/web/session", Access::Session, &[], close);
}

fn not_found() -> ApiError {
    ApiError::NotFound("Not Found".into())
}

/// Revalidate every time (cheap with the ETag), so a new release is picked up at once.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// The shell page, in the negotiated language.
async fn index(req: HttpRequest, assets: web::Data<AssetSource>) -> Result<HttpResponse, ApiError> {
    let page = assets.find(INDEX).await?.ok_or_else(not_found)?;
    let chosen = req.cookie(LANG_COOKIE);
    let accept_language = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    let language = lang::negotiate(chosen.as_ref().map(|cookie| cookie.value()), accept_language);
    let html = String::from_utf8_lossy(&page.body).replace("{{lang}}", language);
    let mut response = HttpResponse::Ok()
        .content_type(page.content_type)
        .insert_header((header::CACHE_CONTROL, REVALIDATE))
        .insert_header((header::VARY, HeaderValue::from_static("Accept-Language, Cookie")))
        .body(html);
    headers::apply(response.headers_mut());
    Ok(response)
}

/// A file of the dashboard, revalidated by its ETag.
async fn asset(req: HttpRequest, assets: web::Data<AssetSource>) -> Result<HttpResponse, ApiError> {
    let path = req.match_info().get("path").unwrap_or_default();
    let Asset {
        body,
        content_type,
        etag,
    } = assets.find(path).await?.ok_or_else(not_found)?;
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| matches_etag(tags, &etag));
    let mut response = if unchanged {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, REVALIDATE))
            .finish()
    } else {
        let body = match body {
            std::borrow::Cow::Borrowed(bytes) => web::Bytes::from_static(bytes),
            std::borrow::Cow::Owned(bytes) => web::Bytes::from(bytes),
        };
        HttpResponse::Ok()
            .content_type(content_type)
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, REVALIDATE))
            .body(body)
    };
    headers::apply(response.headers_mut());
    Ok(response)
}

/// The session body: `{user, roles, permissions, csrf_token, expires_at}`.
async fn session_body(
    state: &AppState,
    browser: &BrowserSessions,
    principal: &Principal,
    expires_at: DateTime<Utc>,
) -> Result<Value, ApiError> {
    let sign_in = principal
        .session_id
        .as_deref()
        .ok_or_else(|| ApiError::Unauthorized(NOT_AUTHENTICATED.into()))?;
    let permissions: Vec<String> = Permission::ALL
        .iter()
        .filter(|permission| principal.can(**permission))
        .map(ToString::to_string)
        .collect();
    Ok(json!({
        "user": own_details(state, principal).await?,
        "roles": principal.roles,
        "permissions": permissions,
        "csrf_token": browser.csrf_token(sign_in)?,
        "expires_at": utc(expires_at),
    }))
}

/// A body the browser must not cache.
fn no_store(mut response: HttpResponseBuilder) -> HttpResponseBuilder {
    response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    response
}

/// `GET /api/v1/web/session`: who is signed in (401 when nobody).
async fn current(
    state: web::Data<AppState>,
    browser: web::Data<BrowserSessions>,
    req: HttpRequest,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let token = bearer(req.headers())?
        .or_else(|| BrowserSessions::access_cookie(&req))
        .ok_or_else(|| ApiError::Unauthorized(NOT_AUTHENTICATED.into()))?;
    let expires_at = state.authenticator().expires_at(&token).await?;
    let body = session_body(&state, &browser, &principal, expires_at).await?;
    Ok(no_store(HttpResponse::Ok()).json(body))
}

/// Answers a new sign-in or a rotation: the cookies set, the session in the body.
async fn issued_response(
    state: &AppState,
    browser: &BrowserSessions,
    req: &HttpRequest,
    issued: Issued,
) -> Result<HttpResponse, ApiError> {
    let authenticator = state.authenticator();
    let principal = authenticator.sign_in_principal(&issued.access_token).await?;
    let expires_at = authenticator.expires_at(&issued.access_token).await?;
    let body = session_body(state, browser, &principal, expires_at).await?;
    let mut response = no_store(HttpResponse::Ok());
    for cookie in browser.issued_cookies(req, issued.access_token, issued.refresh_token) {
        response.cookie(cookie);
    }
    Ok(response.json(body))
}

/// An error answer that also clears the cookies (their sign-in is gone).
fn clearing(browser: &BrowserSessions, req: &HttpRequest, error: &ApiError) -> HttpResponse {
    let mut response = error.error_response();
    for cookie in browser.cleared_cookies(req) {
        // A cookie built here always serialises into a header value.
        if let Err(error) = response.add_cookie(&cookie) {
            tracing::warn!(%error, "could not clear a session cookie");
        }
    }
    response
}

/// Derives a schema as every body type does (`openapi::Inputs`), though this route is left
/// out of the document (`openapi::EXCLUDED`).
#[derive(Deserialize, utoipa::ToSchema)]
struct SignIn {
    username: String,
    password: String,
    mfa_code: Option<String>,
}

/// `POST /api/v1/web/session`: signs in, exactly as `POST /api/v1/token` does.
async fn open(
    state: web::Data<AppState>,
    browser: web::Data<BrowserSessions>,
    req: HttpRequest,
    Json(body): Json<SignIn>,
) -> Result<HttpResponse, ApiError> {
    // Signing a victim into the attacker's account (login CSRF) from another site's page.
    browser.refuse_cross_site(&req)?;
    let credentials = Credentials {
        username: &body.username,
        password: &body.password,
        mfa_code: body.mfa_code.as_deref(),
    };
    let issued = sign_in(&state, &req, credentials).await?;
    issued_response(&state, &browser, &req, issued).await
}

/// `POST /api/v1/web/session/refresh`: rotates the refresh cookie (and renews the access
/// cookie); a refusal clears both.
async fn refresh(
    state: web::Data<AppState>,
    browser: web::Data<BrowserSessions>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    browser.refuse_cross_site(&req)?;
    let Some(presented) = BrowserSessions::refresh_cookie(&req) else {
        let error = ApiError::Unauthorized(NOT_AUTHENTICATED.into());
        return Ok(clearing(&browser, &req, &error));
    };
    match rotate(&state, &req, &presented).await {
        Ok(issued) => issued_response(&state, &browser, &req, issued).await,
        Err(error @ ApiError::Unauthorized(_)) => Ok(clearing(&browser, &req, &error)),
        Err(error) => Err(error),
    }
}

/// `DELETE /api/v1/web/session`: signs out (every sign-in of the account, as `/logout`) and
/// clears the cookies.
async fn close(
    state: web::Data<AppState>,
    browser: web::Data<BrowserSessions>,
    req: HttpRequest,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    sign_out(&state, &req, &principal).await?;
    let mut response = HttpResponse::NoContent();
    for cookie in browser.cleared_cookies(&req) {
        response.cookie(cookie);
    }
    Ok(response.finish())
}
