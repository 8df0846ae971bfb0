//! The dashboard's browser session, attacked on SQLite and PostgreSQL (docs/src/security.md,
//! "The web dashboard's session"): cookies that scripts cannot read and other sites do not send,
//! writes that need the sign-in's CSRF token and the server's own origin, sign-out and refresh
//! that really end what they replace, the sign-in rules of `/token` (lockout, MFA, rate limit)
//! on the second door, and `/ws` with the cookie only from the server's own pages.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use reqwest::{Method, Response};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::auth_mfa::{code, enrol};
use crate::both_backends;
use crate::support::response::{status_and_body, status_and_detail};
use crate::support::{PASSWORD, TestApp};

const SESSION: &str = "/api/v1/web/session";
const EVIL: &str = "https://evil.example";

/// A browser signed in through the dashboard's endpoint: its cookies and its CSRF token.
#[derive(Debug, Clone)]
pub(crate) struct Browser {
    pub session: String,
    pub refresh: String,
    pub csrf: String,
    pub body: Value,
}

/// The `Set-Cookie` header of the answer that sets cookie `name`.
pub(crate) fn set_cookie(response: &Response, name: &str) -> Option<String> {
    set_cookie_in(response.headers(), name)
}

fn set_cookie_in(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The value of a `Set-Cookie` header.
fn value_of(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    pair.split_once('=')
        .map(|(_, value)| value.to_owned())
        .unwrap_or_default()
}

/// The attributes of a `Set-Cookie` header, lower-case, without the pair.
fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|part| part.trim().to_ascii_lowercase())
        .collect()
}

impl Browser {
    fn from(headers: &reqwest::header::HeaderMap, body: Value) -> Browser {
        let session = set_cookie_in(headers, "rr_session").expect("the session cookie is set");
        let refresh = set_cookie_in(headers, "rr_refresh").expect("the refresh cookie is set");
        Browser {
            session: value_of(&session),
            refresh: value_of(&refresh),
            csrf: body["csrf_token"].as_str().expect("a CSRF token").to_owned(),
            body,
        }
    }

    /// A request carrying the session cookie (no CSRF header).
    fn request(&self, app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
        app.client
            .request(method, app.url(path))
            .header("cookie", format!("rr_session={}", self.session))
    }

    /// A write with the session cookie and this browser's CSRF token, from the server's origin.
    fn write(&self, app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.request(app, method, path)
            .header("x-csrf-token", &self.csrf)
            .header("origin", &app.address)
    }
}

/// `POST /api/v1/web/session` as the dashboard sends it.
pub(crate) async fn web_sign_in_response(
    app: &TestApp,
    username: &str,
    password: &str,
    mfa_code: Option<&str>,
) -> Response {
    let mut body = json!({"username": username, "password": password});
    if let Some(code) = mfa_code {
        body["mfa_code"] = json!(code);
    }
    app.client
        .post(app.url(SESSION))
        .header("origin", &app.address)
        .json(&body)
        .send()
        .await
        .expect("request failed")
}

pub(crate) async fn web_sign_in(app: &TestApp, username: &str) -> Browser {
    let response = web_sign_in_response(app, username, PASSWORD, None).await;
    assert_eq!(response.status(), 200, "signing {username} in through the dashboard");
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let browser = Browser::from(&headers, serde_json::from_str(&text).unwrap());
    assert!(
        !text.contains(&browser.session) && !text.contains(&browser.refresh),
        "tokens never appear in the body: {text}"
    );
    browser
}

/// The names of the resources the database holds, whatever the API answered.
async fn resource_names(app: &TestApp) -> Vec<String> {
    let db = app.database().connect().await;
    let rows = db
        .query("SELECT name FROM resources ORDER BY id", resource_reserver::params![])
        .await
        .expect("reading the resources");
    db.close().await;
    rows.iter()
        .map(|row| row.get::<String>("name").expect("a name"))
        .collect()
}

async fn open_socket(app: &TestApp, cookie: &str, origin: Option<&str>) -> Result<Box<dyn FnOnce() + Send>, u16> {
    let mut request = format!("ws://127.0.0.1:{}/ws", app.port).into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", format!("rr_session={cookie}").parse().unwrap());
    if let Some(origin) = origin {
        request.headers_mut().insert("origin", origin.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut stream, _)) => {
            // Served: an application ping is answered.
            stream
                .send(Message::text(json!({"type": "ping"}).to_string()))
                .await
                .unwrap();
            let pong = tokio::time::timeout(Duration::from_secs(10), async {
                while let Some(message) = stream.next().await {
                    if let Ok(Message::Text(text)) = message
                        && text.contains("pong")
                    {
                        return true;
                    }
                }
                false
            })
            .await;
            assert_eq!(pong, Ok(true), "the socket answers a ping");
            Ok(Box::new(move || drop(stream)))
        }
        Err(WsError::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
    }
}

both_backends! {
    async fn signing_in_sets_strict_http_only_cookies_and_answers_no_token(app: TestApp) {
        app.user("bob").await;
        let response = web_sign_in_response(&app, "bob", PASSWORD, None).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let session = set_cookie(&response, "rr_session").unwrap();
        let refresh = set_cookie(&response, "rr_refresh").unwrap();
        for (cookie, path, max_age) in [(&session, "path=/", "max-age=1800"), (&refresh, "path=/api/v1/web/session", "max-age=604800")] {
            let attributes = attributes(cookie);
            for expected in ["httponly", "samesite=strict", path, max_age] {
                assert!(attributes.iter().any(|a| a == expected), "{expected} in {cookie}");
            }
            assert!(!attributes.iter().any(|a| a == "secure"), "not Secure over plain HTTP: {cookie}");
        }
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["username"], "bob");
        assert_eq!(body["user"]["is_admin"], false);
        assert_eq!(body["roles"], json!(["user"]));
        let permissions: Vec<&str> = body["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        assert!(permissions.contains(&"reservation:create"), "{permissions:?}");
        assert!(!permissions.contains(&"resource:create"), "{permissions:?}");
        assert_eq!(body["csrf_token"].as_str().unwrap().len(), 64);
        assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
        assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none());
    }

    #[app(settings(|args| args.cookie_secure = Some("true".into())))]
    async fn cookies_are_secure_when_configured(app: TestApp) {
        app.user("bob").await;
        let response = web_sign_in_response(&app, "bob", PASSWORD, None).await;
        for name in ["rr_session", "rr_refresh"] {
            assert!(attributes(&set_cookie(&response, name).unwrap()).contains(&"secure".to_owned()), "{name}");
        }
    }

    #[app(settings(|args| args.trusted_proxies = Some("127.0.0.1".into())))]
    async fn cookies_are_secure_behind_a_trusted_tls_proxy(app: TestApp) {
        app.user("bob").await;
        let response = app.client.post(app.url(SESSION))
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-for", "203.0.113.7")
            .json(&json!({"username": "bob", "password": PASSWORD}))
            .send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(attributes(&set_cookie(&response, "rr_session").unwrap()).contains(&"secure".to_owned()));
    }

    async fn a_forwarded_proto_from_an_untrusted_peer_is_ignored(app: TestApp) {
        app.user("bob").await;
        let response = app.client.post(app.url(SESSION))
            .header("x-forwarded-proto", "https")
            .json(&json!({"username": "bob", "password": PASSWORD}))
            .send().await.unwrap();
        assert!(!attributes(&set_cookie(&response, "rr_session").unwrap()).contains(&"secure".to_owned()));
    }

    async fn the_cookie_authenticates_reads_and_the_session_endpoint(app: TestApp) {
        app.user("bob").await;
        let browser = web_sign_in(&app, "bob").await;
        let me = browser.request(&app, Method::GET, "/api/v1/users/me").send().await.unwrap();
        let (status, me) = status_and_body(me).await;
        assert_eq!((status, me["username"].as_str()), (200, Some("bob")));
        let (status, session) = status_and_body(browser.request(&app, Method::GET, SESSION).send().await.unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(session["csrf_token"], browser.body["csrf_token"]);
        assert_eq!(session["user"]["username"], "bob");
        // Nobody signed in: 401; a made-up cookie: 401.
        assert_eq!(app.get(SESSION).await.status(), 401);
        let forged = app.client.get(app.url(SESSION)).header("cookie", "rr_session=a.b.c").send().await.unwrap();
        assert_eq!(forged.status(), 401);
    }

    async fn a_cookie_write_needs_the_csrf_token_of_its_own_sign_in(app: TestApp) {
        app.admin().await;
        app.user("bob").await;
        let admin = web_sign_in(&app, "admin").await;
        let admin_elsewhere = web_sign_in(&app, "admin").await;
        let bob = web_sign_in(&app, "bob").await;
        assert_ne!(admin.csrf, admin_elsewhere.csrf, "each sign-in has its own token");
        let create = |browser: &Browser, name: &str| {
            browser.request(&app, Method::POST, "/api/v1/resources").header("origin", &app.address).json(&json!({"name": name}))
        };
        let attempts = [
            ("no token", create(&admin, "no-token")),
            ("a wrong token", create(&admin, "wrong").header("x-csrf-token", "0".repeat(64))),
            ("another sign-in's token", create(&admin, "other-sign-in").header("x-csrf-token", &admin_elsewhere.csrf)),
            ("another user's token", create(&admin, "other-user").header("x-csrf-token", &bob.csrf)),
            ("an empty token", create(&admin, "empty").header("x-csrf-token", "")),
        ];
        for (what, request) in attempts {
            let (status, detail) = status_and_detail(request.send().await.unwrap()).await;
            assert_eq!(status, 403, "{what}");
            assert!(detail.contains("CSRF"), "{what}: {detail}");
        }
        assert!(resource_names(&app).await.is_empty(), "nothing was created");
        // Deleting, with the cookie and without the token, is refused the same way.
        let response = admin.write(&app, Method::POST, "/api/v1/resources").json(&json!({"name": "Room 1"})).send().await.unwrap();
        let (status, created) = status_and_body(response).await;
        assert_eq!(status, 201, "{created}");
        let path = format!("/api/v1/resources/{}", created["id"]);
        assert_eq!(admin.request(&app, Method::DELETE, &path).header("origin", &app.address).send().await.unwrap().status(), 403);
        assert_eq!(resource_names(&app).await, vec!["Room 1".to_owned()], "only the write with its token happened");
    }

    async fn a_cookie_request_from_another_site_is_refused(app: TestApp) {
        app.admin().await;
        let admin = web_sign_in(&app, "admin").await;
        let cross_site = [
            ("origin", EVIL.to_owned()),
            ("origin", "null".to_owned()),
            ("origin", format!("http://127.0.0.1:{}", app.port.wrapping_add(1))),
            ("referer", format!("{EVIL}/page")),
        ];
        for (header, value) in &cross_site {
            let response = admin.request(&app, Method::POST, "/api/v1/resources")
                .header("x-csrf-token", &admin.csrf)
                .header(*header, value)
                .json(&json!({"name": "Hijacked"}))
                .send().await.unwrap();
            let (status, detail) = status_and_detail(response).await;
            assert_eq!(status, 403, "{header}: {value}");
            assert!(detail.contains("Cross-site"), "{detail}");
            // Reads too: an origin that CORS allows must not read the visitor's data with the cookie.
            let read = admin.request(&app, Method::GET, "/api/v1/users/me").header(*header, value).send().await.unwrap();
            assert_eq!(read.status(), 403, "read with {header}: {value}");
        }
        let allowed_by_cors = admin.request(&app, Method::GET, SESSION).header("origin", "http://localhost:3000").send().await.unwrap();
        assert_eq!(allowed_by_cors.status(), 403, "the CSRF token is not handed to another origin");
        assert!(resource_names(&app).await.is_empty());
        // The same request from the server's own page (Origin, or only a Referer) is served.
        let from_page = admin.request(&app, Method::POST, "/api/v1/resources")
            .header("x-csrf-token", &admin.csrf)
            .header("referer", format!("{}/#/admin/resources", app.address))
            .json(&json!({"name": "Room"}))
            .send().await.unwrap();
        assert_eq!(from_page.status(), 201);
    }

    async fn bearer_clients_are_unchanged_and_need_no_csrf_token(app: TestApp) {
        let admin = app.admin().await;
        let response = app.request_as(&admin, Method::POST, "/api/v1/resources")
            .header("origin", EVIL)
            .json(&json!({"name": "By token"}))
            .send().await.unwrap();
        assert_eq!(response.status(), 201);
        // A header wins over a cookie: a bad bearer token is not rescued by a good cookie.
        let browser = web_sign_in(&app, "admin").await;
        let response = browser.write(&app, Method::POST, "/api/v1/resources")
            .bearer_auth("not-a-token")
            .json(&json!({"name": "Mixed"}))
            .send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(resource_names(&app).await, vec!["By token".to_owned()]);
    }

    async fn signing_out_revokes_the_sign_in_and_clears_the_cookies(app: TestApp) {
        app.user("bob").await;
        let browser = web_sign_in(&app, "bob").await;
        // Signing out is a write: the token is needed.
        let refused = browser.request(&app, Method::DELETE, SESSION).send().await.unwrap();
        assert_eq!(refused.status(), 403);
        let response = browser.write(&app, Method::DELETE, SESSION).send().await.unwrap();
        assert_eq!(response.status(), 204);
        for name in ["rr_session", "rr_refresh"] {
            let cleared = set_cookie(&response, name).unwrap();
            assert_eq!(value_of(&cleared), "", "{cleared}");
            assert!(attributes(&cleared).contains(&"max-age=0".to_owned()), "{cleared}");
        }
        // The old cookie replayed, by a thief who copied it: refused.
        let replayed = browser.request(&app, Method::GET, "/api/v1/users/me").send().await.unwrap();
        assert_eq!(replayed.status(), 401);
        assert_eq!(browser.request(&app, Method::GET, SESSION).send().await.unwrap().status(), 401);
        let refresh = app.client.post(app.url("/api/v1/web/session/refresh"))
            .header("cookie", format!("rr_refresh={}", browser.refresh))
            .send().await.unwrap();
        assert_eq!(refresh.status(), 401);
    }

    async fn a_refresh_rotates_the_cookies_and_the_old_refresh_cookie_is_refused(app: TestApp) {
        app.user("bob").await;
        let browser = web_sign_in(&app, "bob").await;
        let refresh = |value: &str| {
            app.client.post(app.url("/api/v1/web/session/refresh"))
                .header("cookie", format!("rr_refresh={value}"))
                .header("origin", &app.address)
                .send()
        };
        let response = refresh(&browser.refresh).await.unwrap();
        assert_eq!(response.status(), 200);
        let new_session = value_of(&set_cookie(&response, "rr_session").unwrap());
        let new_refresh = value_of(&set_cookie(&response, "rr_refresh").unwrap());
        assert_ne!(new_refresh, browser.refresh);
        let text = response.text().await.unwrap();
        assert!(!text.contains(&new_session) && !text.contains(&new_refresh), "{text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["csrf_token"].as_str(), Some(browser.csrf.as_str()), "the sign-in, and so its CSRF token, is kept");
        // The new access cookie works.
        let me = app.client.get(app.url("/api/v1/users/me")).header("cookie", format!("rr_session={new_session}")).send().await.unwrap();
        assert_eq!(me.status(), 200);
        // The old refresh cookie, replayed: refused, and (reuse) the sign-in is revoked, cookies cleared.
        let replayed = refresh(&browser.refresh).await.unwrap();
        assert_eq!(replayed.status(), 401);
        assert_eq!(value_of(&set_cookie(&replayed, "rr_session").unwrap()), "");
        assert_eq!(refresh(&new_refresh).await.unwrap().status(), 401, "the whole sign-in ended");
        // Without any refresh cookie, or from another site: refused.
        let bare = app.client.post(app.url("/api/v1/web/session/refresh")).send().await.unwrap();
        assert_eq!(bare.status(), 401);
        let fresh = web_sign_in(&app, "bob").await;
        let cross = app.client.post(app.url("/api/v1/web/session/refresh"))
            .header("cookie", format!("rr_refresh={}", fresh.refresh))
            .header("origin", EVIL)
            .send().await.unwrap();
        assert_eq!(cross.status(), 403);
        assert_eq!(refresh(&fresh.refresh).await.unwrap().status(), 200, "the refused attempt did not use it up");
    }

    #[app(clock)]
    async fn the_web_sign_in_asks_for_mfa_like_the_token_endpoint(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        let start = reserver_actors::Clock::now(&*clock);
        let (secret, _) = enrol(&app, &bob, start).await;
        let (status, detail) = status_and_detail(web_sign_in_response(&app, "bob", PASSWORD, None).await).await;
        assert_eq!((status, detail.as_str()), (401, "MFA code required"));
        let wrong = web_sign_in_response(&app, "bob", PASSWORD, Some("000000")).await;
        assert_eq!(wrong.status(), 401);
        assert!(set_cookie(&wrong, "rr_session").is_none(), "no cookie without the code");
        clock.advance(Duration::from_secs(30));
        let now = reserver_actors::Clock::now(&*clock);
        let right = web_sign_in_response(&app, "bob", PASSWORD, Some(&code(&secret, now))).await;
        assert_eq!(right.status(), 200);
        assert!(set_cookie(&right, "rr_session").is_some());
    }

    async fn wrong_passwords_lock_the_web_sign_in_as_they_lock_token(app: TestApp) {
        app.user("bob").await;
        let mut last = String::new();
        for _ in 0..5 {
            let (status, detail) = status_and_detail(web_sign_in_response(&app, "bob", "Wrong-passw0rd!", None).await).await;
            assert_eq!(status, 401);
            last = detail;
        }
        assert!(last.starts_with("Account is now locked"), "{last}");
        // Locked for the pair on both doors, even with the right password.
        let (_, detail) = status_and_detail(web_sign_in_response(&app, "bob", PASSWORD, None).await).await;
        assert!(detail.starts_with("Account is locked"), "{detail}");
        let (_, detail) = status_and_detail(app.login("bob", PASSWORD, None).await).await;
        assert!(detail.starts_with("Account is locked"), "{detail}");
    }

    #[app(clock, long_tokens, rate_limited)]
    async fn the_web_sign_in_shares_the_rate_limit_of_token(app: TestApp, _clock: Arc<ManualClock>) {
        for i in 0..30 {
            let response = if i % 2 == 0 {
                app.client.post(app.url(SESSION)).json(&json!({"username": "", "password": ""})).send().await.unwrap()
            } else {
                app.client.post(app.url("/api/v1/token")).form(&[("username", "")]).send().await.unwrap()
            };
            assert_ne!(response.status(), 429, "request {i}");
            assert_eq!(response.headers()["x-ratelimit-limit"], "30");
        }
        let refused = app.client.post(app.url(SESSION)).json(&json!({"username": "bob", "password": PASSWORD})).send().await.unwrap();
        assert_eq!(refused.status(), 429);
        assert_eq!(app.client.post(app.url("/api/v1/token")).form(&[("username", "")]).send().await.unwrap().status(), 429);
    }

    #[app(clock, long_tokens, rate_limited)]
    async fn a_cookie_user_is_counted_as_that_user(app: TestApp, _clock: Arc<ManualClock>) {
        app.user("bob").await;
        let browser = web_sign_in(&app, "bob").await;
        let response = browser.request(&app, Method::GET, "/api/v1/users/me").send().await.unwrap();
        assert_eq!(response.status(), 200);
        // Counted as the user (whose daily quota shows), not as the anonymous address.
        assert_eq!(response.headers()["x-quota-limit"], "5000");
        // The page and its assets are not counted at all.
        let page = app.get("/assets/js/app.js").await;
        assert!(page.headers().get("x-ratelimit-limit").is_none());
    }

    async fn the_socket_takes_the_cookie_only_from_the_servers_own_origin(app: TestApp) {
        app.user("bob").await;
        let browser = web_sign_in(&app, "bob").await;
        assert_eq!(open_socket(&app, &browser.session, Some(EVIL)).await.err(), Some(403), "cross-site WebSocket hijacking");
        assert_eq!(open_socket(&app, &browser.session, None).await.err(), Some(403), "no Origin");
        let port = app.port.wrapping_add(1);
        assert_eq!(open_socket(&app, &browser.session, Some(&format!("http://127.0.0.1:{port}"))).await.err(), Some(403));
        assert_eq!(open_socket(&app, "a.b.c", Some(&app.address)).await.err(), Some(401));
        let socket = open_socket(&app, &browser.session, Some(&app.address)).await;
        assert!(socket.is_ok(), "the dashboard's own page opens its socket");
        if let Ok(close) = socket {
            close();
        }
        // After signing out, the cookie opens nothing.
        assert_eq!(browser.write(&app, Method::DELETE, SESSION).send().await.unwrap().status(), 204);
        assert_eq!(open_socket(&app, &browser.session, Some(&app.address)).await.err(), Some(401));
    }
}
