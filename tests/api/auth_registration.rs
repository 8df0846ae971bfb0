//! Registration: the original's rules and messages, the `user` role, and the first account
//! becoming the administrator exactly once, however many race for it.

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::{PASSWORD, TestApp};

async fn roles_of(app: &TestApp, username: &str) -> Vec<String> {
    let user = app.sign_in(username, PASSWORD).await;
    let roles: Value = app.get_as(&user, "/api/v1/roles/my-roles").await.json().await.unwrap();
    roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

both_backends! {
    async fn registration_validates_like_the_original(app: TestApp) {
        let response = app.register("a b", "short").await;
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        let errors = body["detail"].as_array().unwrap();
        assert_eq!(errors[0]["loc"], json!(["body", "username"]));
        assert_eq!(errors[0]["msg"], "Value error, Username can only contain letters, numbers, hyphens and underscores");
        assert_eq!(errors[1]["loc"], json!(["body", "password"]));
        assert_eq!(
            errors[1]["msg"],
            "Value error, Password must be at least 8 characters; Password must contain an uppercase letter; \
             Password must contain a number; Password must contain a special character"
        );
        let response = app.register("Carol", "Carol-Secret-99").await;
        assert_eq!(response.json::<Value>().await.unwrap()["detail"][0]["msg"], "Value error, Password cannot contain your username");
    }

    async fn usernames_are_lower_cased_and_unique_case_insensitively(app: TestApp) {
        let response = app.register("Alice", PASSWORD).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["username"], "alice");
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
        let again = app.register("ALICE", PASSWORD).await;
        assert_eq!(again.status(), 400);
        assert_eq!(again.json::<Value>().await.unwrap(), json!({"detail": "Username already registered"}));
        assert_eq!(app.login("ALICE", PASSWORD, None).await.status(), 200);
    }

    async fn the_first_account_is_admin_and_later_ones_are_users(app: TestApp) {
        let status: Value = app.get("/api/v1/setup/status").await.json().await.unwrap();
        assert_eq!(status, json!({"setup_complete": false, "setup_reopened": false, "user_count": 0}));
        assert_eq!(app.register("first", PASSWORD).await.status(), 201);
        assert_eq!(app.register("second", PASSWORD).await.status(), 201);
        assert_eq!(roles_of(&app, "first").await, ["admin", "user"]);
        assert_eq!(roles_of(&app, "second").await, ["user"]);
        let first = app.sign_in("first", PASSWORD).await;
        let me: Value = app.get_as(&first, "/users/me").await.json().await.unwrap();
        assert_eq!(me["is_admin"], true);
        let status: Value = app.get("/setup/status").await.json().await.unwrap();
        assert_eq!(status, json!({"setup_complete": true, "setup_reopened": false, "user_count": 2}));
    }

    async fn racing_first_registrations_make_exactly_one_admin(app: TestApp) {
        let registrations = (0..16).map(|i| {
            let app = &app;
            async move { app.register(&format!("racer{i}"), PASSWORD).await.status() }
        });
        let statuses = futures::future::join_all(registrations).await;
        assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
        let mut admins = 0;
        for i in 0..16 {
            if roles_of(&app, &format!("racer{i}")).await.contains(&"admin".to_owned()) {
                admins += 1;
            }
        }
        assert_eq!(admins, 1);
    }
}
