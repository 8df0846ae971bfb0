//! First-run setup: the start-up token, reopening, and exactly one first admin under races.

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::response::status_and_body as detail;
use crate::support::{Backend, PASSWORD, TestApp};

/// An operator's `SETUP_REOPEN_TOKEN` (at least 32 bytes).
const REOPEN: &str = "reopen-secret-of-at-least-32-bytes";

/// `POST /setup/initialize` as a remote client sends it, through a reverse proxy on this host
/// (a local request without a forwarding header needs no token: `security_auth`).
async fn initialize(app: &TestApp, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url("/api/v1/setup/initialize"))
        .header("X-Forwarded-For", "203.0.113.9")
        .json(&body);
    if let Some(token) = token {
        request = request.header("X-Setup-Token", token);
    }
    detail(request.send().await.unwrap()).await
}

both_backends! {
    async fn initialize_needs_the_start_up_token(app: TestApp) {
        let token = app.setup_token.clone().expect("a fresh server logs a setup token");
        let body = json!({"username": "root", "password": PASSWORD});
        let (status, refused) = initialize(&app, None, body.clone()).await;
        assert_eq!(status, 403);
        assert!(refused["detail"].as_str().unwrap().starts_with("Setup token is required."), "{refused}");
        assert_eq!(initialize(&app, Some("guess"), body.clone()).await, (403, json!({"detail": "Invalid setup token."})));
        let (status, created) = initialize(&app, Some(&token), body.clone()).await;
        assert_eq!(status, 200);
        assert_eq!(created["message"], "Setup completed successfully");
        assert_eq!(created["admin_username"], "root");
        assert_eq!(initialize(&app, Some(&token), body).await, (400, json!({"detail": "Setup already completed"})));
        let status: Value = app.get("/api/v1/setup/status").await.json().await.unwrap();
        assert_eq!(status, json!({"setup_complete": true, "setup_reopened": false, "user_count": 1}));
        // Registration after setup gives an ordinary user.
        let bob = app.register_and_login("bob", PASSWORD).await;
        let me: Value = app.get_as(&bob, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(me["is_admin"], false);
        let root = app.sign_in("root", PASSWORD).await;
        let me: Value = app.get_as(&root, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(me["is_admin"], true);
    }

    async fn initialize_validates_its_input(app: TestApp) {
        let token = app.setup_token.clone().unwrap();
        assert_eq!(initialize(&app, Some(&token), json!({})).await, (400, json!({"detail": "Username and password are required"})));
        assert_eq!(initialize(&app, Some(&token), json!({"username": "root", "password": "weak"})).await.0, 422);
        assert_eq!(initialize(&app, Some(&token), json!({"existing_username": "ghost"})).await, (404, json!({"detail": "User not found"})));
        // Setup stays open after failures: the first registration is not consumed by them.
        let status: Value = app.get("/setup/status").await.json().await.unwrap();
        assert_eq!(status["setup_complete"], false);
    }

    async fn racing_setup_and_registrations_make_exactly_one_admin(app: TestApp) {
        let token = app.setup_token.clone().unwrap();
        let racers = (0..16).map(|i| {
            let (app, token) = (&app, token.clone());
            async move {
                if i % 2 == 0 {
                    initialize(app, Some(&token), json!({"username": format!("init{i}"), "password": PASSWORD})).await.0
                } else {
                    app.register(&format!("reg{i}"), PASSWORD).await.status().as_u16()
                }
            }
        });
        let statuses = futures::future::join_all(racers).await;
        assert!(statuses.iter().filter(|s| **s == 200).count() <= 1, "{statuses:?}");
        let mut admins = 0;
        for i in 0..16 {
            let name = if i % 2 == 0 { format!("init{i}") } else { format!("reg{i}") };
            let response = app.login(&name, PASSWORD, None).await;
            if response.status() != 200 {
                continue; // a losing initialize created no account
            }
            let token = response.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
            let me: Value = app.client.get(app.url("/api/v1/users/me")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
            if me["is_admin"] == true {
                admins += 1;
            }
        }
        assert_eq!(admins, 1, "{statuses:?}");
    }

    async fn the_metrics_summary_needs_a_user(app: TestApp) {
        let bob = app.user("bob").await;
        let (status, summary) = detail(app.get_as(&bob, "/api/v1/metrics/summary").await).await;
        assert_eq!(status, 200);
        assert!(summary["requests"]["total"].as_u64().unwrap() >= 2);
        assert!(summary["database"]["pool_size"].is_number());
    }
}

mod reopening {
    use super::*;

    async fn body(backend: Backend) {
        let Some(app) = TestApp::builder(backend)
            .settings(|args| args.setup_reopen_token = Some(REOPEN.into()))
            .spawn()
            .await
        else {
            return;
        };
        let unlock = |token: Option<&'static str>| {
            let app = &app;
            async move {
                let mut request = app.client.post(app.url("/setup/unlock"));
                if let Some(token) = token {
                    request = request.header("X-Setup-Token", token);
                }
                detail(request.send().await.unwrap()).await
            }
        };
        assert_eq!(unlock(None).await, (200, json!({"message": "Setup is already open"})));
        app.admin().await;
        assert_eq!(
            unlock(None).await,
            (403, json!({"detail": "Setup reopen token is required."}))
        );
        assert_eq!(
            unlock(Some("nope")).await,
            (403, json!({"detail": "Invalid setup reopen token."}))
        );
        assert_eq!(unlock(Some(REOPEN)).await, (200, json!({"message": "Setup reopened"})));
        // While reopened, registering does not make admins; initialize needs the reopen token.
        let carol = app.register_and_login("carol", PASSWORD).await;
        let me: Value = app.get_as(&carol, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(me["is_admin"], false);
        let startup = app.setup_token.clone().unwrap();
        assert_eq!(
            initialize(&app, Some(&startup), json!({"existing_username": "carol"})).await,
            (403, json!({"detail": "Invalid setup reopen token."}))
        );
        let (status, promoted) = initialize(&app, Some(REOPEN), json!({"existing_username": "Carol"})).await;
        assert_eq!((status, promoted["admin_user_id"].clone()), (200, json!(carol.id)));
        let me: Value = app.get_as(&carol, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(me["is_admin"], true);
        let status: Value = app.get("/api/v1/setup/status").await.json().await.unwrap();
        assert_eq!(
            (status["setup_complete"].clone(), status["setup_reopened"].clone()),
            (json!(true), json!(false))
        );
    }

    #[actix_web::test]
    async fn setup_can_be_reopened_with_the_operators_token_sqlite() {
        body(Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn setup_can_be_reopened_with_the_operators_token_postgres() {
        body(Backend::Postgres).await;
    }

    async fn without_token(backend: Backend) {
        let Some(app) = TestApp::spawn(backend).await else {
            return;
        };
        app.admin().await;
        let response = app
            .client
            .post(app.url("/api/v1/setup/unlock"))
            .header("X-Setup-Token", "x")
            .send()
            .await
            .unwrap();
        assert_eq!(
            detail(response).await,
            (403, json!({"detail": "Setup reopen token is not configured."}))
        );
    }

    #[actix_web::test]
    async fn without_a_reopen_token_setup_cannot_be_reopened_sqlite() {
        without_token(Backend::Sqlite).await;
    }

    #[actix_web::test]
    async fn without_a_reopen_token_setup_cannot_be_reopened_postgres() {
        without_token(Backend::Postgres).await;
    }
}
