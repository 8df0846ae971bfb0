//! From an `Authorization` header to a [`Principal`]: a JWT access token of a live session of
//! an active user, or an OAuth2 access token (see [`super::oauth`]). A request without an
//! `Authorization` header may instead present the dashboard's session cookie, which holds such a
//! JWT and authenticates a write only with its sign-in's CSRF token and from the server's own
//! origin (the rules are `crate::web::session`'s); with the header, cookies are never read.
//!
//! Every request re-reads the user's state, session and roles in one indexed query, so that a
//! disabled account, a revoked session or a removed role takes effect at once. The same query
//! reads the user's stored quota (`api_quotas`), so the rate limiter needs no query of its own.
//!
//! A request is authenticated at most once: [`authenticate_once`] keeps the outcome in the
//! request, where the rate limiter (before routing's access guard) and the guard both find it.
//!
//! What authenticating needs — the database, the clock, the token keys and roles — is an
//! [`Authenticator`], which the server registers as application data of its own: the request
//! extractors ([`Principal`]'s, the route guard's, the rate limiter's) read it, not the
//! handlers' whole `AppState`, so that nothing here depends on the state above it.

use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures::future::LocalBoxFuture;
use reserver_actors::Clock;

use super::Auth;
use super::jwt::TokenError;
use super::principal::{Principal, role_names};
use super::{NOT_AUTHENTICATED, bad_credentials};
use crate::error::ApiError;
use crate::params;
use crate::quotas::{StoredQuota, stored_quota_columns};
use crate::storage::Db;
use crate::web::session::BrowserSessions;

/// What authenticating a bearer token reads: the users, sessions and OAuth2 tokens, the time,
/// the token keys and the role policy.
#[derive(Clone)]
pub struct Authenticator {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub auth: Arc<Auth>,
}

impl Authenticator {
    /// The authenticator the server registered as application data.
    pub fn of(req: &HttpRequest) -> Result<web::Data<Authenticator>, ApiError> {
        req.app_data::<web::Data<Authenticator>>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("no authenticator".into()))
    }
}

/// The outcome of authenticating a request's credentials.
struct Outcome(Result<Principal, ApiError>);

/// Authenticates the request's bearer token — or, without an `Authorization` header, its session
/// cookie — unless that was already done for this request.
pub async fn authenticate_once(req: &HttpRequest, authenticator: &Authenticator) {
    if req.extensions().contains::<Outcome>() {
        return;
    }
    let outcome = if req.headers().contains_key(AUTHORIZATION) {
        match bearer(req.headers()) {
            Ok(token) => authenticator.principal(token.as_deref()).await,
            Err(error) => Err(error),
        }
    } else {
        match (browser_sessions(req), BrowserSessions::access_cookie(req)) {
            (Some(browser), Some(token)) => authenticator.cookie_principal(req, &browser, &token).await,
            _ => authenticator.principal(None).await,
        }
    };
    req.extensions_mut().insert(Outcome(outcome));
}

/// Whether a request presents credentials: an `Authorization` header or the session cookie.
pub fn presents_credentials(req: &HttpRequest) -> bool {
    req.headers().contains_key(AUTHORIZATION) || crate::web::session::has_session_cookie(req)
}

/// The browser-session rules the server registered (none on the metrics listener).
fn browser_sessions(req: &HttpRequest) -> Option<web::Data<BrowserSessions>> {
    req.app_data::<web::Data<BrowserSessions>>().cloned()
}

/// The caller of a WebSocket upgrade without a `token` parameter: the session cookie's, and only
/// from the server's own origin (`Origin` is required: cross-site WebSocket hijacking).
pub async fn socket_cookie_principal(req: &HttpRequest, authenticator: &Authenticator) -> Result<Principal, ApiError> {
    let (Some(browser), Some(token)) = (browser_sessions(req), BrowserSessions::access_cookie(req)) else {
        return Err(ApiError::Unauthorized(NOT_AUTHENTICATED.into()));
    };
    let principal = authenticator.sign_in_principal(&token).await?;
    browser.check_socket(req)?;
    Ok(principal)
}

/// The caller of a request, from its credentials (authenticated once per request).
pub async fn request_principal(req: &HttpRequest, authenticator: &Authenticator) -> Result<Principal, ApiError> {
    authenticate_once(req, authenticator).await;
    req.extensions().get::<Outcome>().map_or_else(
        || Err(ApiError::Internal("authentication outcome missing".into())),
        |outcome| outcome.0.clone(),
    )
}

/// Reads the authenticated caller of a request without copying it: `None` unless
/// [`authenticate_once`] found a valid token.
pub fn inspect<T>(req: &HttpRequest, read: impl FnOnce(&Principal) -> T) -> Option<T> {
    req.extensions()
        .get::<Outcome>()
        .and_then(|outcome| outcome.0.as_ref().ok())
        .map(read)
}

/// The bearer token of a request: `Ok(None)` without an `Authorization: Bearer` header.
pub fn bearer(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| bad_credentials())?;
    let mut parts = value.splitn(2, ' ');
    let scheme = parts.next().unwrap_or_default();
    let token = parts.next().unwrap_or_default().trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Ok(None);
    }
    Ok(Some(token.to_owned()))
}

impl Authenticator {
    /// Authenticates a bearer token; `None` is the API's "Not authenticated".
    pub async fn principal(&self, token: Option<&str>) -> Result<Principal, ApiError> {
        let token = token.ok_or_else(|| ApiError::Unauthorized(NOT_AUTHENTICATED.into()))?;
        if token.contains('.') {
            self.jwt_principal(token).await
        } else {
            super::oauth::principal(&self.db, self.clock.as_ref(), &self.auth, token).await
        }
    }

    /// Authenticates a session cookie: only a sign-in's JWT (never an OAuth2 token), and a write
    /// only with the sign-in's CSRF token, from the server's own origin.
    async fn cookie_principal(
        &self,
        req: &HttpRequest,
        browser: &BrowserSessions,
        token: &str,
    ) -> Result<Principal, ApiError> {
        let principal = self.sign_in_principal(token).await?;
        let sign_in = principal.session_id.as_deref().ok_or_else(bad_credentials)?;
        browser.check_request(req, sign_in)?;
        Ok(principal)
    }

    /// Authenticates the access token of a sign-in (a JWT; OAuth2 tokens are refused).
    pub async fn sign_in_principal(&self, token: &str) -> Result<Principal, ApiError> {
        if !token.contains('.') {
            return Err(bad_credentials());
        }
        self.jwt_principal(token).await
    }

    async fn jwt_principal(&self, token: &str) -> Result<Principal, ApiError> {
        let claims = self
            .auth
            .keys
            .verify(token, self.clock.now())
            .map_err(|error: TokenError| {
                tracing::debug!(%error, "access token refused");
                bad_credentials()
            })?;
        let rows = self
            .db
            .query(
                concat!(
                    "SELECT u.username, u.is_active, s.revoked_at, r.name AS role, ",
                    stored_quota_columns!(),
                    " FROM users u
                     JOIN auth_sessions s ON s.user_id = u.id AND s.id = $2
                     LEFT JOIN user_roles ur ON ur.user_id = u.id
                     LEFT JOIN roles r ON r.id = ur.role_id
                     LEFT JOIN api_quotas q ON q.user_id = u.id
                     WHERE u.id = $1"
                ),
                params![claims.uid, claims.sid.as_str()],
            )
            .await?;
        let first = rows.first().ok_or_else(bad_credentials)?;
        let live = first.get::<bool>("is_active")?
            && first
                .get::<Option<chrono::DateTime<chrono::Utc>>>("revoked_at")?
                .is_none()
            && first.get::<String>("username")? == claims.sub;
        if !live {
            return Err(bad_credentials());
        }
        let roles = role_names(&rows)?;
        let permissions = self
            .auth
            .authorizer
            .permissions(roles.iter().map(String::as_str))
            .await?;
        Ok(Principal {
            user_id: claims.uid,
            username: claims.sub,
            roles,
            scopes: None,
            client_id: None,
            session_id: Some(claims.sid),
            permissions,
            quota: StoredQuota::from_row(first)?,
        })
    }

    /// When a bearer token stops being accepted: a JWT's `exp`, an OAuth2 token's stored expiry.
    /// Live sockets opened with the token close then (unless re-authenticated).
    pub async fn expires_at(&self, token: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
        if token.contains('.') {
            let claims = self
                .auth
                .keys
                .verify(token, self.clock.now())
                .map_err(|_| bad_credentials())?;
            return chrono::DateTime::from_timestamp(claims.exp, 0).ok_or_else(bad_credentials);
        }
        let row = self
            .db
            .query_opt(
                "SELECT expires_at FROM oauth2_tokens WHERE access_token_hash = $1",
                params![crate::secret::digest(token)],
            )
            .await?
            .ok_or_else(bad_credentials)?;
        Ok(row.get("expires_at")?)
    }
}

/// A handler's caller: the principal the route guard admitted, or — on a public route that still
/// wants to know its caller — whoever the bearer token names (authenticated now, or reusing what
/// the rate limiter found).
impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Principal, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(principal) = req.extensions().get::<Principal>() {
            let principal = principal.clone();
            return Box::pin(async move { Ok(principal) });
        }
        let req = req.clone();
        Box::pin(async move {
            let authenticator = Authenticator::of(&req)?;
            request_principal(&req, &authenticator).await
        })
    }
}
