//! The browser session: two cookies and a CSRF token.
//!
//! - `rr_session` holds the access token (a JWT naming its sign-in), `Path=/`, lifetime of the
//!   access token; `rr_refresh` holds the refresh token, `Path=/api/v1/web/session` (so it is
//!   sent only to the session endpoints), lifetime of the refresh token. Both are `HttpOnly`
//!   (no script reads them), `SameSite=Strict` (no other site's page sends them) and `Secure`
//!   when the page is served over TLS ([`CookieSecure`]).
//! - The CSRF token of a sign-in is `HMAC-SHA256(key, sign-in id)` with a key derived from
//!   `SECRET_KEY`: it needs no storage, survives refreshes (they keep the sign-in) and is
//!   useless for another sign-in. It is handed out in the body of the session endpoints; the
//!   dashboard keeps it in memory and sends it as `X-CSRF-Token` on every write.
//! - A cookie authenticates a write (any method but GET, HEAD, OPTIONS) only if the request
//!   does not come from another site (`Origin`, else `Referer`; see [`super::origin`]; this holds
//!   for reads too) and carries the sign-in's CSRF token ([`BrowserSessions::check_request`]); a
//!   WebSocket upgrade
//!   authenticated by the cookie needs a same-origin `Origin`
//!   ([`BrowserSessions::check_socket`]). Requests with an `Authorization` header never look at
//!   the cookies.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::Method;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::origin::{self, Site};
use crate::client_ip::TrustedProxies;
use crate::error::ApiError;
use crate::secret;

/// The cookie holding the access token.
pub const SESSION_COOKIE: &str = "rr_session";
/// The cookie holding the refresh token.
pub const REFRESH_COOKIE: &str = "rr_refresh";
/// The only path the refresh cookie is sent to (and its sub-paths).
pub const REFRESH_COOKIE_PATH: &str = "/api/v1/web/session";
/// The header a cookie-authenticated write carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The refusal of a cookie-authenticated write without the right CSRF token.
pub const CSRF_REFUSED: &str = "CSRF token missing or invalid";
/// The refusal of a cookie-authenticated request from another site.
pub const CROSS_SITE_REFUSED: &str =
    "Cross-site request refused: the session cookie is only accepted from this server's own pages";

/// When the cookies get the `Secure` attribute (`COOKIE_SECURE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieSecure {
    /// When the page is served over TLS: the connection itself, the public URL (`API_URL`) being
    /// `https://`, or a trusted proxy's `X-Forwarded-Proto: https`.
    Auto,
    Always,
    Never,
}

impl CookieSecure {
    pub fn parse(raw: &str) -> Result<CookieSecure, String> {
        match raw.to_ascii_lowercase().as_str() {
            "auto" => Ok(CookieSecure::Auto),
            "true" | "always" | "1" | "yes" => Ok(CookieSecure::Always),
            "false" | "never" | "0" | "no" => Ok(CookieSecure::Never),
            _ => Err("expected auto, true or false".into()),
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

/// Derives CSRF tokens from sign-in ids.
struct CsrfKey([u8; 32]);

impl CsrfKey {
    const CONTEXT: &'static [u8] = b"resource-reserver/web-csrf/v1\0";

    fn derive(secret_key: &str) -> CsrfKey {
        let mut hash = Sha256::new();
        hash.update(Self::CONTEXT);
        hash.update(secret_key.as_bytes());
        CsrfKey(hash.finalize().into())
    }

    fn token(&self, sign_in: &str) -> Result<String, ApiError> {
        let mut mac = HmacSha256::new_from_slice(&self.0).map_err(ApiError::internal)?;
        mac.update(sign_in.as_bytes());
        Ok(secret::hex(&mac.finalize().into_bytes()))
    }
}

/// Everything the browser session needs, registered as application data (the authenticator
/// and the session routes read it).
pub struct BrowserSessions {
    csrf: CsrfKey,
    secure: CookieSecure,
    /// The authority of `API_URL`, when set.
    public_authority: Option<String>,
    public_https: bool,
    trusted_proxies: TrustedProxies,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

/// What [`BrowserSessions::new`] is built from (the settings, in `startup`).
pub struct BrowserSessionSettings<'a> {
    pub secret_key: &'a str,
    pub secure: CookieSecure,
    pub public_url: Option<&'a str>,
    pub trusted_proxies: TrustedProxies,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl BrowserSessions {
    pub fn new(settings: BrowserSessionSettings<'_>) -> BrowserSessions {
        BrowserSessions {
            csrf: CsrfKey::derive(settings.secret_key),
            secure: settings.secure,
            public_authority: settings.public_url.and_then(origin::authority),
            public_https: settings.public_url.is_some_and(|url| url.starts_with("https://")),
            trusted_proxies: settings.trusted_proxies,
            access_ttl: settings.access_ttl,
            refresh_ttl: settings.refresh_ttl,
        }
    }

    /// The CSRF token of a sign-in.
    pub fn csrf_token(&self, sign_in: &str) -> Result<String, ApiError> {
        self.csrf.token(sign_in)
    }

    /// The access token in the request's `rr_session` cookie.
    pub fn access_cookie(req: &HttpRequest) -> Option<String> {
        cookie_value(req, SESSION_COOKIE)
    }

    /// The refresh token in the request's `rr_refresh` cookie.
    pub fn refresh_cookie(req: &HttpRequest) -> Option<String> {
        cookie_value(req, REFRESH_COOKIE)
    }

    /// Where the request comes from.
    pub fn site(&self, req: &HttpRequest) -> Site {
        origin::site(req, self.public_authority.as_deref(), &self.trusted_proxies)
    }

    /// Refuses a request that says it comes from another site (one that does not say passes).
    pub fn refuse_cross_site(&self, req: &HttpRequest) -> Result<(), ApiError> {
        match self.site(req) {
            Site::Cross => Err(ApiError::Forbidden(CROSS_SITE_REFUSED.into())),
            Site::Same | Site::Unknown => Ok(()),
        }
    }

    /// May the cookie of sign-in `sign_in` authenticate `req`? Never from another site's page
    /// (a read either: an origin allowed by CORS must not read the visitor's data with the
    /// cookie); a write also needs the sign-in's CSRF token.
    pub fn check_request(&self, req: &HttpRequest, sign_in: &str) -> Result<(), ApiError> {
        self.refuse_cross_site(req)?;
        if is_safe(req.method()) {
            return Ok(());
        }
        let presented = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if secret::same(presented, &self.csrf_token(sign_in)?) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(CSRF_REFUSED.into()))
        }
    }

    /// May the cookie authenticate a WebSocket upgrade? Only with a same-origin `Origin`
    /// (browsers always send one; a page of another site could otherwise open a socket that
    /// carries the cookie — cross-site WebSocket hijacking).
    pub fn check_socket(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let has_origin = req.headers().contains_key(actix_web::http::header::ORIGIN);
        match self.site(req) {
            Site::Same if has_origin => Ok(()),
            _ => Err(ApiError::Forbidden(CROSS_SITE_REFUSED.into())),
        }
    }

    /// Whether the cookies of `req`'s answer get `Secure`.
    fn secure(&self, req: &HttpRequest) -> bool {
        match self.secure {
            CookieSecure::Always => true,
            CookieSecure::Never => false,
            CookieSecure::Auto => {
                let forwarded_https = || {
                    req.peer_addr()
                        .is_some_and(|peer| self.trusted_proxies.contains(peer.ip()))
                        && req
                            .headers()
                            .get("x-forwarded-proto")
                            .and_then(|value| value.to_str().ok())
                            .and_then(|value| value.split(',').next())
                            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
                };
                self.public_https || req.app_config().secure() || forwarded_https()
            }
        }
    }

    fn cookie(
        &self,
        req: &HttpRequest,
        name: &'static str,
        value: String,
        path: &'static str,
        max_age: Duration,
    ) -> Cookie<'static> {
        let max_age = actix_web::cookie::time::Duration::seconds(i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX));
        Cookie::build(name, value)
            .path(path)
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure(req))
            .max_age(max_age)
            .finish()
    }

    /// The two cookies of a new sign-in or a rotation.
    pub fn issued_cookies(&self, req: &HttpRequest, access: String, refresh: String) -> [Cookie<'static>; 2] {
        [
            self.cookie(req, SESSION_COOKIE, access, "/", self.access_ttl),
            self.cookie(req, REFRESH_COOKIE, refresh, REFRESH_COOKIE_PATH, self.refresh_ttl),
        ]
    }

    /// The two cookies cleared (empty values that expire at once).
    pub fn cleared_cookies(&self, req: &HttpRequest) -> [Cookie<'static>; 2] {
        [
            self.cookie(req, SESSION_COOKIE, String::new(), "/", Duration::ZERO),
            self.cookie(req, REFRESH_COOKIE, String::new(), REFRESH_COOKIE_PATH, Duration::ZERO),
        ]
    }
}

/// Whether the request's headers carry the session cookie (so it may be authenticated by it).
pub fn has_session_cookie(req: &HttpRequest) -> bool {
    cookie_value(req, SESSION_COOKIE).is_some()
}

fn cookie_value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_bound_to_the_sign_in_and_the_key() {
        let key = CsrfKey::derive("k");
        let token = |key: &CsrfKey, sign_in| key.token(sign_in).unwrap();
        assert_eq!(token(&key, "a"), token(&key, "a"));
        assert_ne!(token(&key, "a"), token(&key, "b"));
        assert_ne!(token(&key, "a"), token(&CsrfKey::derive("other"), "a"));
        assert_eq!(token(&key, "a").len(), 64);
    }

    #[test]
    fn cookie_secure_parses() {
        assert_eq!(CookieSecure::parse("AUTO"), Ok(CookieSecure::Auto));
        assert_eq!(CookieSecure::parse("true"), Ok(CookieSecure::Always));
        assert_eq!(CookieSecure::parse("false"), Ok(CookieSecure::Never));
        assert!(CookieSecure::parse("maybe").is_err());
    }
}
