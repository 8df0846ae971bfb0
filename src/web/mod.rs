//! The web dashboard's server side: the embedded assets of `web/` and the shell page, the
//! browser session's cookies and CSRF protection, the security headers of pages and assets,
//! and the negotiation of the page's language. The routes are in `routes::web`.
//!
//! What it guarantees:
//! - [`assets`]: only files under the asset root are ever served (a path is a list of plain
//!   segments of a small alphabet; `..`, `.`, dotfiles, encoded characters are a 404); every
//!   asset has its content type, an ETag and `Cache-Control: no-cache`.
//! - [`headers`]: every page and asset carries the Content-Security-Policy (no `unsafe-inline`),
//!   `X-Frame-Options: DENY`, `Referrer-Policy: same-origin` and `X-Content-Type-Options: nosniff`.
//! - [`session`]: the browser's tokens live only in `HttpOnly`, `SameSite=Strict` cookies (`Secure`
//!   over TLS); a cookie authenticates a write only with the sign-in's CSRF token and from the
//!   server's own origin ([`session::BrowserSessions::check_request`]); the CSRF token is an HMAC of
//!   the sign-in's id, compared in constant time.
//! - [`lang`]: the language of the page is one of [`lang::LANGUAGES`], never the raw input.
//!
//! Nothing here knows users or tokens beyond their text: `auth` uses this module to read the
//! cookie credential, not the other way round.

pub mod assets;
pub mod headers;
pub mod lang;
pub mod origin;
pub mod session;
