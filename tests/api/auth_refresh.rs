//! Refresh tokens: rotation, reuse detection that ends the whole login, expiry.

use std::time::Duration;

use serde_json::json;

use crate::both_backends;
use crate::support::response::status_and_body as detail;
use crate::support::{TestApp, TestUser};

async fn refresh_by_query(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/token/refresh?refresh_token={token}")))
        .send()
        .await
        .unwrap()
}

async fn refresh_by_body(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/token/refresh"))
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap()
}

both_backends! {
    async fn refresh_rotates_and_a_replay_revokes_the_whole_login(app: TestApp) {
        let bob = app.user("bob").await;
        let (status, first) = detail(refresh_by_query(&app, &bob.refresh_token).await).await;
        assert_eq!(status, 200);
        assert_eq!(first["token_type"], "bearer");
        assert_ne!(first["refresh_token"], json!(bob.refresh_token));
        let (status, second) = detail(refresh_by_body(&app, first["refresh_token"].as_str().unwrap()).await).await;
        assert_eq!(status, 200);
        let current = TestUser { token: second["access_token"].as_str().unwrap().into(), ..bob.clone() };
        assert_eq!(app.get_as(&current, "/api/v1/users/me").await.status(), 200);

        // The first refresh token, stolen and replayed: refused, and the login is over.
        assert_eq!(
            detail(refresh_by_query(&app, &bob.refresh_token).await).await,
            (401, json!({"detail": "Refresh token has been revoked"}))
        );
        assert_eq!(app.get_as(&current, "/api/v1/users/me").await.status(), 401);
        assert_eq!(
            detail(refresh_by_body(&app, second["refresh_token"].as_str().unwrap()).await).await,
            (401, json!({"detail": "Refresh token has been revoked"}))
        );
        // Another login of the same user is not affected.
        assert_eq!(app.login("bob", &bob.password, None).await.status(), 200);
    }

    async fn a_refresh_token_used_concurrently_is_exchanged_once(app: TestApp) {
        let bob = app.user("bob").await;
        let attempts = (0..8).map(|_| refresh_by_body(&app, &bob.refresh_token));
        let statuses: Vec<u16> = futures::future::join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 401), "{statuses:?}");
    }

    async fn refresh_input_errors_are_the_originals(app: TestApp) {
        assert_eq!(
            detail(refresh_by_query(&app, "unknown").await).await,
            (401, json!({"detail": "Invalid refresh token"}))
        );
        let (status, body) = detail(app.client.post(app.url("/api/v1/token/refresh")).send().await.unwrap()).await;
        assert_eq!(status, 422);
        assert_eq!(body["detail"][0]["loc"], json!(["query", "refresh_token"]));
    }
}

both_backends! {
    #[app(clock)]
    async fn refresh_tokens_expire(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        clock.advance(Duration::from_secs(7 * 24 * 3600 + 1));
        assert_eq!(
            detail(refresh_by_query(&app, &bob.refresh_token).await).await,
            (401, json!({"detail": "Refresh token has expired"}))
        );
    }
}
