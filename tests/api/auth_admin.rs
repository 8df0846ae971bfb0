//! Account administration: listing, disabling (tokens stop at once), password reset.

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::PASSWORD;

async fn detail(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

both_backends! {
    async fn admins_list_users_without_a_500(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let (status, users) = detail(app.get_as(&admin, "/api/v1/auth/admin/users?skip=0&limit=50").await).await;
        assert_eq!(status, 200);
        let users = users.as_array().unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[1]["username"], "bob");
        assert_eq!(users[1]["is_active"], true);
        assert_eq!(users[1]["roles"], json!(["user"]));
        assert!(users[1]["created_at"].as_str().unwrap().ends_with('Z'));
        let (_, page) = detail(app.get_as(&admin, "/api/v1/auth/admin/users?skip=1&limit=1").await).await;
        assert_eq!(page.as_array().unwrap().len(), 1);
        assert_eq!(app.get_as(&admin, "/api/v1/auth/admin/users?limit=0").await.status(), 422);
        assert_eq!(
            detail(app.get_as(&bob, "/api/v1/auth/admin/users").await).await,
            (403, json!({"detail": "Role required: admin"}))
        );
    }

    async fn a_disabled_accounts_tokens_stop_working_at_once(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let response = app.post_json_as(&admin, &format!("/api/v1/auth/admin/users/{}/disable", bob.id), &json!({})).await;
        assert_eq!(response.status(), 200);
        let refused = app.get_as(&bob, "/api/v1/users/me").await;
        assert_eq!(detail(refused).await, (401, json!({"detail": "Could not validate credentials"})));
        assert_eq!(
            detail(app.login("bob", PASSWORD, None).await).await,
            (401, json!({"detail": "Account is disabled"}))
        );
        let refresh = app
            .client
            .post(app.url("/api/v1/token/refresh"))
            .json(&json!({"refresh_token": bob.refresh_token}))
            .send()
            .await
            .unwrap();
        assert_eq!(refresh.status(), 401);
        // Re-enabled: new sign-ins work, the old token stays dead.
        let response = app.post_json_as(&admin, &format!("/api/v1/auth/admin/users/{}/enable", bob.id), &json!({})).await;
        assert_eq!(response.status(), 200);
        assert_eq!(app.get_as(&bob, "/api/v1/users/me").await.status(), 401);
        assert_eq!(app.login("bob", PASSWORD, None).await.status(), 200);
        assert_eq!(
            detail(app.post_json_as(&admin, &format!("/api/v1/auth/admin/users/{}/disable", admin.id), &json!({})).await).await.0,
            400
        );
        assert_eq!(app.post_json_as(&admin, "/api/v1/auth/admin/users/999999/disable", &json!({})).await.status(), 404);
    }

    async fn password_reset_applies_the_policy_and_ends_sessions(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let reset = |password: &str| json!({"username": "bob", "new_password": password});
        let (status, body) = detail(app.post_json_as(&admin, "/api/v1/auth/admin/reset-password", &reset("longenough")).await).await;
        assert_eq!(status, 422, "the original accepted any 8 characters");
        assert_eq!(body["detail"][0]["loc"], json!(["body", "new_password"]));
        assert_eq!(
            detail(app.post_json_as(&admin, "/api/v1/auth/admin/reset-password", &json!({"username": "nobody", "new_password": "N3w-Passw0rd!"})).await).await,
            (404, json!({"detail": "User 'nobody' not found"}))
        );
        assert_eq!(
            detail(app.post_json_as(&admin, "/api/v1/auth/admin/reset-password", &json!({"username": "admin", "new_password": "N3w-Passw0rd!"})).await).await.0,
            400
        );
        assert_eq!(
            detail(app.post_json_as(&admin, "/api/v1/auth/admin/reset-password", &reset("N3w-Passw0rd!")).await).await,
            (200, json!({"message": "Password for user 'bob' has been reset successfully"}))
        );
        assert_eq!(app.get_as(&bob, "/api/v1/users/me").await.status(), 401);
        assert_eq!(app.login("bob", PASSWORD, None).await.status(), 401);
        assert_eq!(app.login("bob", "N3w-Passw0rd!", None).await.status(), 200);
    }
}
