//! Whether a request comes from the server's own pages: its `Origin` (or, without one, its
//! `Referer`) against the origin the request was addressed to.
//!
//! "The server's origin" is the authority (`host[:port]`, as browsers write it in both
//! headers) of the request's `Host` — or of the public URL (`API_URL`), when a reverse proxy
//! rewrites `Host` — or the `X-Forwarded-Host` a trusted proxy (`TRUSTED_PROXIES`) sends.
//! `Origin: null` (sandboxed frames, some redirects) is cross-site.

use actix_web::HttpRequest;
use actix_web::http::header::{HOST, ORIGIN, REFERER};

use crate::client_ip::TrustedProxies;

/// Where a request says it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// The server's own origin.
    Same,
    /// Another origin, or one that cannot be read.
    Cross,
    /// Neither `Origin` nor `Referer`: a client that is not a browser page, or a browser told
    /// not to say.
    Unknown,
}

/// The authority of an `http(s)` URL, lower-case, with the port only when it is not the
/// scheme's default (as browsers write `Origin` and `Host`).
pub fn authority(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// The authorities the request may come from.
fn own_authorities(req: &HttpRequest, public_authority: Option<&str>, trusted: &TrustedProxies) -> Vec<String> {
    let mut own = Vec::with_capacity(3);
    let host = req
        .headers()
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|authority| authority.to_string()));
    own.extend(host.map(|host| host.trim().to_ascii_lowercase()));
    own.extend(public_authority.map(str::to_owned));
    let from_trusted_proxy = req.peer_addr().is_some_and(|peer| trusted.contains(peer.ip()));
    if from_trusted_proxy {
        let forwarded = req
            .headers()
            .get("x-forwarded-host")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .map(|host| host.trim().to_ascii_lowercase());
        own.extend(forwarded);
    }
    own
}

/// Where `req` comes from, by its `Origin`, else its `Referer`.
pub fn site(req: &HttpRequest, public_authority: Option<&str>, trusted: &TrustedProxies) -> Site {
    let header = |name| req.headers().get(name).map(|value| value.to_str().unwrap_or_default());
    let Some(claimed) = header(ORIGIN).or_else(|| header(REFERER)) else {
        return Site::Unknown;
    };
    match authority(claimed.trim()) {
        Some(claimed) if own_authorities(req, public_authority, trusted).contains(&claimed) => Site::Same,
        _ => Site::Cross,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr("10.0.0.2:4000".parse().unwrap());
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        req.to_http_request()
    }

    #[test]
    fn origins_and_referers_are_compared_with_the_host() {
        let none = TrustedProxies::default();
        let host = ("host", "127.0.0.1:8000");
        let site_of = |headers: &[(&str, &str)]| site(&request(headers), None, &none);
        assert_eq!(site_of(&[host, ("origin", "http://127.0.0.1:8000")]), Site::Same);
        assert_eq!(site_of(&[host, ("origin", "http://evil.test")]), Site::Cross);
        assert_eq!(site_of(&[host, ("origin", "null")]), Site::Cross);
        assert_eq!(site_of(&[host, ("origin", "http://127.0.0.1:8001")]), Site::Cross);
        assert_eq!(
            site_of(&[host, ("referer", "http://127.0.0.1:8000/#/mine")]),
            Site::Same
        );
        assert_eq!(site_of(&[host, ("referer", "https://evil.test/x")]), Site::Cross);
        assert_eq!(site_of(&[host]), Site::Unknown);
        assert_eq!(
            site_of(&[("host", "rooms.example.com"), ("origin", "https://Rooms.example.com")]),
            Site::Same
        );
    }

    #[test]
    fn a_proxy_rewriting_the_host_needs_the_public_url_or_trust() {
        let req = request(&[
            ("host", "127.0.0.1:8000"),
            ("origin", "https://rooms.example.com"),
            ("x-forwarded-host", "rooms.example.com"),
        ]);
        assert_eq!(site(&req, None, &TrustedProxies::default()), Site::Cross);
        assert_eq!(
            site(&req, Some("rooms.example.com"), &TrustedProxies::default()),
            Site::Same
        );
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(site(&req, None, &trusted), Site::Same);
    }
}
