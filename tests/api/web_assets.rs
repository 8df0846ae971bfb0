//! The dashboard's page and files, on SQLite and PostgreSQL (docs/src/dashboard.md): the shell in
//! the negotiated language, assets with their types, ETags and compression, the security headers
//! on every page and asset, no file outside the asset root whatever the path says, and
//! `WEB_ASSETS_DIR` for front-end development. Also: first-run setup the way the browser does it.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both_backends;
use crate::support::response::status_and_body;
use crate::support::{PASSWORD, TestApp};
use crate::web_session::{set_cookie, web_sign_in_response};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

fn assert_security_headers(response: &reqwest::Response, what: &str) {
    let csp = header(response, "content-security-policy");
    assert_eq!(csp, CSP, "{what}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{what}");
    assert_eq!(header(response, "x-frame-options"), "DENY", "{what}");
    assert_eq!(header(response, "referrer-policy"), "same-origin", "{what}");
    assert_eq!(header(response, "x-content-type-options"), "nosniff", "{what}");
}

/// A request written byte by byte, so that no client library normalises its path first:
/// (status, body).
async fn raw_get(app: &TestApp, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
        app.port
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

async fn page_language(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> String {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(!html.contains("{{lang}}"));
    let start = html.find("<html lang=\"").expect("an html element with a language") + 12;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Paths that try to leave the asset root, written as an attacker would send them.
const TRAVERSALS: [&str; 10] = [
    "/assets/../Cargo.toml",
    "/assets/../../../../etc/passwd",
    "/assets/%2e%2e/Cargo.toml",
    "/assets/%2E%2E/src/main.rs",
    "/assets/..%2fCargo.toml",
    "/assets/%2e%2e%2fCargo.toml",
    "/assets/js/..%2f..%2fCargo.toml",
    "/assets/.%2e/.%2e/Cargo.toml",
    "/assets/..%5cCargo.toml",
    "/assets/%252e%252e/Cargo.toml",
];

both_backends! {
    async fn the_shell_is_served_with_its_security_headers(app: TestApp) {
        for path in ["/", "/index.html"] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8");
            assert_eq!(header(&response, "cache-control"), "no-cache");
            assert_security_headers(&response, path);
            let html = response.text().await.unwrap();
            assert!(html.contains("<script type=\"module\" src=\"/assets/js/app.js\">"), "{html}");
        }
    }

    async fn the_language_of_the_page_is_negotiated(app: TestApp) {
        assert_eq!(page_language(&app, "/", &[]).await, "en");
        assert_eq!(page_language(&app, "/", &[("accept-language", "fr-CA,fr;q=0.9,en;q=0.8")]).await, "fr");
        assert_eq!(page_language(&app, "/", &[("accept-language", "de-DE, en;q=0.4, es;q=0.5")]).await, "es");
        assert_eq!(page_language(&app, "/", &[("accept-language", "es;q=0, de")]).await, "en");
        assert_eq!(page_language(&app, "/index.html", &[("accept-language", "ja, es-MX")]).await, "es");
        // The remembered choice wins; an unknown one is ignored, and nothing else reaches the page.
        assert_eq!(page_language(&app, "/", &[("accept-language", "fr"), ("cookie", "rr_lang=es")]).await, "es");
        assert_eq!(page_language(&app, "/", &[("accept-language", "fr"), ("cookie", "rr_lang=\"><script>")]).await, "fr");
        let response = app.get("/").await;
        assert!(header(&response, "vary").contains("Accept-Language"));
    }

    async fn assets_have_their_types_etags_and_security_headers(app: TestApp) {
        for (path, content_type) in [
            ("/assets/js/app.js", "text/javascript; charset=utf-8"),
            ("/assets/js/i18n/core.js", "text/javascript; charset=utf-8"),
            ("/assets/css/app.css", "text/css; charset=utf-8"),
            ("/assets/favicon.svg", "image/svg+xml"),
        ] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(header(&response, "content-type"), content_type, "{path}");
            assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
            assert_security_headers(&response, path);
            let etag = header(&response, "etag").to_owned();
            assert!(etag.starts_with('"') && etag.len() > 10, "{path}: {etag}");
            // Revalidation: the same ETag is a 304 without a body; another one is the file.
            let again = app.client.get(app.url(path)).header("if-none-match", &etag).send().await.unwrap();
            assert_eq!(again.status(), 304, "{path}");
            assert_eq!(header(&again, "etag"), etag);
            assert_security_headers(&again, path);
            assert!(again.bytes().await.unwrap().is_empty());
            let stale = app.client.get(app.url(path)).header("if-none-match", "\"stale\"").send().await.unwrap();
            assert_eq!(stale.status(), 200, "{path}");
        }
        let (status, body) = status_and_body(app.get("/assets/js/missing.js").await).await;
        assert_eq!((status, body), (404, json!({"detail": "Not Found"})));
    }

    async fn assets_and_json_are_gzipped_for_clients_that_accept_it(app: TestApp) {
        let plain = app.get("/assets/js/app.js").await.bytes().await.unwrap();
        let response = app.client.get(app.url("/assets/js/app.js")).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-encoding"), "gzip");
        let compressed = response.bytes().await.unwrap();
        assert_eq!(&compressed[..2], &[0x1f, 0x8b], "a gzip stream");
        assert!(compressed.len() < plain.len(), "{} < {}", compressed.len(), plain.len());
        let json = app.client.get(app.url("/api/v1/setup/status")).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(header(&json, "content-encoding"), "gzip");
        // Clients that do not ask get the plain bytes.
        assert_eq!(header(&app.get("/api/v1/setup/status").await, "content-encoding"), "");
    }

    async fn no_path_leaves_the_asset_root(app: TestApp) {
        for path in TRAVERSALS {
            let (status, body) = raw_get(&app, path).await;
            assert_eq!(status, 404, "{path}: {body}");
            assert!(!body.contains("[package]") && !body.contains("[workspace]") && !body.contains("root:"), "{path}");
        }
        for path in ["/assets/.hidden", "/assets/", "/assets/js/", "/assets/index.html/x"] {
            assert_eq!(raw_get(&app, path).await.0, 404, "{path}");
        }
    }

    #[database]
    async fn web_assets_dir_serves_edited_files_without_a_rebuild(database: TestDatabase) {
        let root = tempfile::tempdir().unwrap();
        let web = root.path().join("web");
        std::fs::create_dir_all(web.join("js")).unwrap();
        std::fs::write(web.join("index.html"), "<html lang=\"{{lang}}\"><body>dev</body></html>").unwrap();
        std::fs::write(web.join("js/app.js"), "export const version = 1;").unwrap();
        std::fs::write(root.path().join("secret.txt"), "outside the root").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.path().join("secret.txt"), web.join("js/link.js")).unwrap();
        let dir = web.display().to_string();
        let app = TestApp::builder(database.backend())
            .database(database)
            .settings(move |args| args.web_assets_dir = Some(dir))
            .spawn()
            .await
            .unwrap();
        assert_eq!(page_language(&app, "/", &[("accept-language", "fr")]).await, "fr");
        let first = app.get("/assets/js/app.js").await;
        assert_eq!(header(&first, "content-type"), "text/javascript; charset=utf-8");
        assert_security_headers(&first, "a file from WEB_ASSETS_DIR");
        let etag = header(&first, "etag").to_owned();
        assert_eq!(first.text().await.unwrap(), "export const version = 1;");
        std::fs::write(web.join("js/app.js"), "export const version = 2;").unwrap();
        let edited = app.client.get(app.url("/assets/js/app.js")).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(edited.status(), 200, "the edit is a new ETag");
        assert_eq!(edited.text().await.unwrap(), "export const version = 2;");
        for path in ["/assets/../secret.txt", "/assets/%2e%2e/secret.txt", "/assets/js/link.js"] {
            let (status, body) = raw_get(&app, path).await;
            assert_eq!(status, 404, "{path}");
            assert!(!body.contains("outside the root"), "{path}");
        }
    }

    async fn setup_and_sign_in_work_from_the_browser_on_this_machine(app: TestApp) {
        // What the dashboard's setup page does on a fresh server opened at 127.0.0.1: no token.
        let (status, body) = status_and_body(app.get("/api/v1/setup/status").await).await;
        assert_eq!((status, body["setup_complete"].clone()), (200, json!(false)));
        let response = app.client.post(app.url("/api/v1/setup/initialize"))
            .header("origin", &app.address)
            .json(&json!({"username": "owner", "password": PASSWORD}))
            .send().await.unwrap();
        let (status, body) = status_and_body(response).await;
        assert_eq!(status, 200, "{body}");
        let signed_in = web_sign_in_response(&app, "owner", PASSWORD, None).await;
        assert_eq!(signed_in.status(), 200);
        assert!(set_cookie(&signed_in, "rr_session").is_some());
        let session: Value = signed_in.json().await.unwrap();
        assert_eq!(session["user"]["is_admin"], true);
        assert!(session["permissions"].as_array().unwrap().contains(&json!("resource:create")));
        let (_, status_now) = status_and_body(app.get("/api/v1/setup/status").await).await;
        assert_eq!(status_now["setup_complete"], true);
    }
}
