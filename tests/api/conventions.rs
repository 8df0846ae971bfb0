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
