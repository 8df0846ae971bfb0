//! Password login: the original's form and messages, and a lockout that an attacker cannot
//! turn against the account's owner.

use std::net::Ipv4Addr;
use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::response::client_from;
use crate::support::response::status_and_detail as detail;
use crate::support::{PASSWORD, TestApp};

async fn login_from(app: &TestApp, client: &reqwest::Client, username: &str, password: &str) -> reqwest::Response {
    client
        .post(app.url("/api/v1/token"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
}

both_backends! {
    async fn login_answers_like_the_original(app: TestApp) {
        let bob = app.user("bob").await;
        let response = app.login("BOB", PASSWORD, None).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "bearer");
        assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
        assert_eq!(body["refresh_token"].as_str().unwrap().len(), 43);
        let me: Value = app.get_as(&bob, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(
            me,
            json!({"id": bob.id, "username": "bob", "email": null, "email_verified": false, "mfa_enabled": false,
                   "email_notifications": true, "reminder_hours": 24, "is_admin": false})
        );
        // The legacy alias answers the same (the original's always failed with a 500).
        assert_eq!(app.get_as(&bob, "/users/me").await.json::<Value>().await.unwrap(), me);

        let response = app.login("bob", "Wrong-Passw0rd!", None).await;
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_eq!(detail(response).await, (401, "Invalid username or password.".into()));
        let response = app.login("nobody", PASSWORD, None).await;
        assert_eq!(detail(response).await, (401, "Invalid username or password.".into()));
        // JSON is not the password form.
        let response = app.client.post(app.url("/api/v1/token")).json(&json!({"username": "bob", "password": PASSWORD})).send().await.unwrap();
        assert_eq!(response.status(), 422);
    }

    async fn the_legacy_root_aliases_run_the_same_handlers(app: TestApp) {
        let response = app.client.post(app.url("/register")).json(&json!({"username": "old", "password": PASSWORD})).send().await.unwrap();
        assert_eq!(response.status(), 201);
        let response = app.client.post(app.url("/token")).form(&[("username", "old"), ("password", PASSWORD)]).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["deprecation"], "true");
        assert_eq!(response.headers()["link"], "</api/v1/token>; rel=\"successor-version\"");
        let token = response.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
        let me = app.client.get(app.url("/users/me")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(me.json::<Value>().await.unwrap()["username"], "old");
        let roles = app.client.get(app.url("/roles/my-roles/")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(roles.status(), 200);
    }

    async fn preferences_update_and_validate(app: TestApp) {
        let bob = app.user("bob").await;
        let response = app.patch_json_as(&bob, "/api/v1/users/me/preferences", &json!({"reminder_hours": 2})).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!((body["reminder_hours"].clone(), body["email_notifications"].clone()), (json!(2), json!(true)));
        let response = app.patch_json_as(&bob, "/api/v1/users/me/preferences", &json!({"email_notifications": false})).await;
        let body: Value = response.json().await.unwrap();
        assert_eq!((body["reminder_hours"].clone(), body["email_notifications"].clone()), (json!(2), json!(false)));
        for hours in [0, 169] {
            let response = app.patch_json_as(&bob, "/api/v1/users/me/preferences", &json!({"reminder_hours": hours})).await;
            assert_eq!(response.status(), 422);
        }
    }
}

both_backends! {
    #[app(clock)]
    async fn lockout_counts_down_locks_and_expires(app: TestApp, clock: Arc<ManualClock>) {
        app.user("bob").await;
        let wrong = "Wrong-Passw0rd!";
        assert_eq!(detail(app.login("bob", wrong, None).await).await.1, "Invalid username or password.");
        assert_eq!(detail(app.login("bob", wrong, None).await).await.1, "Invalid username or password.");
        assert_eq!(
            detail(app.login("bob", wrong, None).await).await.1,
            "Invalid username or password. 2 attempt(s) remaining before lockout."
        );
        assert_eq!(
            detail(app.login("bob", wrong, None).await).await.1,
            "Invalid username or password. 1 attempt(s) remaining before lockout."
        );
        assert_eq!(
            detail(app.login("bob", wrong, None).await).await,
            (401, "Account is now locked due to too many failed attempts. Try again in 15 minutes.".into())
        );
        // Locked: even the right password is refused, and refusals do not extend the lock.
        clock.advance(Duration::from_secs(5 * 60));
        assert_eq!(detail(app.login("bob", PASSWORD, None).await).await.1, "Account is locked. Try again in 11 minutes.");
        clock.advance(Duration::from_secs(9 * 60 + 30));
        assert_eq!(detail(app.login("bob", PASSWORD, None).await).await.1, "Account is locked. Try again in 1 minutes.");
        clock.advance(Duration::from_secs(31));
        assert_eq!(app.login("bob", PASSWORD, None).await.status(), 200);
        // A success clears the count.
        assert_eq!(detail(app.login("bob", wrong, None).await).await.1, "Invalid username or password.");
    }

    #[app(clock)]
    async fn parallel_guesses_get_no_more_checks_than_sequential_ones(app: TestApp, clock: Arc<ManualClock>) {
        app.user("bob").await;
        let checked = |answers: &[(u16, String)]| {
            answers
                .iter()
                .filter(|(_, m)| m.starts_with("Invalid username or password") || m.starts_with("Account is now locked"))
                .count()
        };
        let guesses = (0..20).map(|i| {
            let app = &app;
            async move { detail(app.login("bob", &format!("Wrong-Passw0rd-{i}!"), None).await).await }
        });
        let burst = futures::future::join_all(guesses).await;
        assert!(burst.iter().all(|(status, _)| *status == 401));
        let mut later = Vec::new();
        for i in 0..10 {
            later.push(detail(app.login("bob", &format!("Again-Wr0ng-{i}!"), None).await).await);
        }
        // Five guesses are checked in the window, however they are sent; then the pair is locked.
        assert_eq!(checked(&burst) + checked(&later), 5, "{burst:?} {later:?}");
        clock.advance(Duration::from_secs(60));
        assert!(detail(app.login("bob", PASSWORD, None).await).await.1.starts_with("Account is locked"));
    }

    #[app(clock)]
    async fn an_attacker_cannot_lock_the_owner_out(app: TestApp, clock: Arc<ManualClock>) {
        app.user("bob").await;
        let attacker = client_from(Ipv4Addr::new(127, 0, 0, 2));
        for _ in 0..12 {
            login_from(&app, &attacker, "bob", "Wrong-Passw0rd!").await;
            clock.advance(Duration::from_secs(10));
        }
        let (status, message) = detail(login_from(&app, &attacker, "bob", PASSWORD).await).await;
        assert_eq!(status, 401);
        assert!(message.starts_with("Account is locked"), "{message}");
        // The owner, from their own address, is not affected.
        assert_eq!(app.login("bob", PASSWORD, None).await.status(), 200);
    }
}
