//! Wire conventions of §1 of the original's API description: JSON error bodies, both
//! trailing-slash forms, version headers.

use crate::both_backends;
use serde_json::{Value, json};

both_backends! {
    async fn unknown_paths_are_json_404s(app: TestApp) {
        let response = app.get("/api/v1/does-not-exist").await;
        assert_eq!(response.status(), 404);
        assert_eq!(response.headers()["x-api-version"], "v1");
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"detail": "Not Found"}));
    }

    async fn a_wrong_method_is_a_json_405(app: TestApp) {
        let response = app.client.post(app.url("/health")).send().await.unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"detail": "Method Not Allowed"}));
    }

    async fn a_nul_character_in_a_json_body_is_a_422_on_every_route(app: TestApp) {
        // PostgreSQL cannot store it: a resource's tag with one once answered 500 (found by the
        // contract fuzzing). Refused before any handler, on both backends alike.
        let admin = app.admin().await;
        let room = app.resource(&admin, "Blue Room").await;
        let changed = app
            .put_json_as(&admin, &format!("/api/v1/resources/{room}"), &json!({"name": "Blue", "tags": ["a\u{0}b"]}))
            .await;
        assert_eq!(changed.status(), 422);
        assert_eq!(changed.json::<Value>().await.unwrap(), json!({"detail": "Text values must not contain NUL characters"}));
        let created = app.post_json_as(&admin, "/api/v1/resources", &json!({"name": "Nul\u{0}Room"})).await;
        assert_eq!(created.status(), 422);
        // The text `\u0000` (a backslash, then letters) is no NUL character.
        let literal = app.put_json_as(&admin, &format!("/api/v1/resources/{room}"), &json!({"name": "Blue \\u0000"})).await;
        assert_eq!(literal.status(), 200);
        let stored = app.get_as(&admin, &format!("/api/v1/resources/{room}")).await.json::<Value>().await.unwrap();
        assert_eq!(stored["name"], "Blue \\u0000");
        assert_eq!(stored["tags"], json!([]), "the refused change left nothing behind");
    }

    async fn a_nul_character_in_a_form_a_query_or_a_path_is_a_422(app: TestApp) {
        // The same rule as for JSON bodies, wherever text enters: a sign-in form, a search string,
        // a calendar feed's secret in its path. Each would reach a PostgreSQL query.
        let admin = app.admin().await;
        let refused = json!({"detail": "Text values must not contain NUL characters"});
        let form = app
            .client
            .post(app.url("/api/v1/token"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("username=ad%00min&password=x")
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 422);
        assert_eq!(form.json::<Value>().await.unwrap(), refused);
        let query = app.get_as(&admin, "/api/v1/resources/search?q=Room%00").await;
        assert_eq!(query.status(), 422);
        assert_eq!(query.json::<Value>().await.unwrap(), refused);
        let path = app.get("/api/v1/calendar/feed/abc%00def.ics").await;
        assert_eq!(path.status(), 422);
        assert_eq!(path.json::<Value>().await.unwrap(), refused);
        // A percent sign is text like any other.
        assert_eq!(app.get_as(&admin, "/api/v1/resources/search?q=100%25").await.status(), 200);
    }

    async fn both_trailing_slash_forms_are_served(app: TestApp) {
        assert_eq!(app.get("/health/").await.status(), 200);
        assert_eq!(app.get("/api/versions/").await.status(), 200);
    }

    async fn cors_preflight_allows_the_default_origins(app: TestApp) {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, app.url("/health"))
            .header("Origin", "http://localhost:3000")
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["access-control-allow-origin"], "http://localhost:3000");
        assert_eq!(response.headers()["access-control-max-age"], "600");
    }
}

both_backends! {
    /// Every legacy unprefixed alias answers like its `/api/v1` twin — never a 500 (four of the
    /// original's always were).
    async fn every_legacy_alias_works(app: TestApp) {
        let admin = app.admin().await;
        app.resource(&admin, "Aliased").await;
        let table = resource_reserver::routes::table();
        let aliases: Vec<_> = table.endpoints().filter(|e| e.alias).cloned().collect();
        assert!(aliases.len() >= 20, "the original had 28 aliases: {}", aliases.len());
        for alias in aliases {
            let path = alias.path.replace("{client_id}", "nope").replace(['{', '}'], "");
            let response = app
                .request_as(&admin, reqwest::Method::from_bytes(alias.method.as_str().as_bytes()).unwrap(), &path)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap_or_default();
            assert!(status.as_u16() < 500, "{} {path}: {status}", alias.method);
            assert_ne!(body["detail"], "Not Found", "{} {path} is served", alias.method);
            assert_ne!(status.as_u16(), 405, "{} {path} is served", alias.method);
        }
        for (path, expected) in [("/users/me", 200), ("/resources", 200), ("/resources/search", 200), ("/reservations/my", 200)] {
            assert_eq!(app.get_as(&admin, path).await.status(), expected, "{path} (always a 500 in the original)");
        }
    }
}
