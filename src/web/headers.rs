//! The security headers of the dashboard's pages and assets.
//!
//! The policy allows scripts, styles, fetches and WebSockets from the server's own origin only,
//! images also as `data:` URLs (the MFA QR code), and nothing inline: no `unsafe-inline` and no
//! `unsafe-eval` anywhere, so injected markup cannot run or style anything. Framing is refused
//! twice (`frame-ancestors 'none'` and `X-Frame-Options: DENY`, for older browsers).

use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// The Content-Security-Policy of every page and asset.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'; object-src 'none'";

/// The headers, as (name, value) pairs.
pub const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

/// Sets the security headers on a response's headers.
pub fn apply(headers: &mut HeaderMap) {
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_inline_is_allowed() {
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
    }
}
