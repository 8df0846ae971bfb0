//! Attacks on auth, performed on SQLite and PostgreSQL (docs/src/security.md): second-factor
//! guessing from many addresses, forged forwarding headers on a fresh server, OAuth2 grants
//! outliving a password reset, and over-long usernames at sign-in.

use std::net::Ipv4Addr;
use std::time::Duration;

use reserver_actors::{Clock, ManualClock};
use resource_reserver::params;
use serde_json::{Value, json};

use crate::auth_mfa::{code, enrol};
use crate::auth_oauth::{REDIRECT, VERIFIER, client, code_for, token};
use crate::both_backends;
use crate::support::response::client_from;
use crate::support::response::status_and_detail as detail;
use crate::support::{PASSWORD, TestApp, TestUser};

async fn login_from(client: &reqwest::Client, app: &TestApp, code: &str) -> reqwest::Response {
    client
        .post(app.url("/api/v1/token"))
        .form(&[("username", "bob"), ("password", PASSWORD), ("mfa_code", code)])
        .send()
        .await
        .unwrap()
}

/// A six-digit code valid neither in the step of `now` nor the steps beside it.
fn wrong_code(secret: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let near: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|s| code(secret, now + chrono::Duration::seconds(*s)))
        .collect();
    (0..)
        .map(|n: u32| format!("{:06}", 123_457 + n))
        .find(|c| !near.contains(c))
        .unwrap()
}

async fn count(app: &TestApp, sql: &str, params: Vec<resource_reserver::storage::Value>) -> i64 {
    let db = app.database().connect().await;
    let n = db.query_one(sql, params).await.unwrap().get::<i64>("n").unwrap();
    db.close().await;
    n
}

/// Bob, enrolled in MFA and holding a verified address: his TOTP secret.
async fn enrolled_bob(app: &TestApp, clock: &ManualClock) -> (TestUser, String) {
    let bob = app.user("bob").await;
    let (secret, _) = enrol(app, &bob, clock.now()).await;
    let db = app.database().connect().await;
    db.execute(
        "UPDATE users SET email = $1, email_verified = $2 WHERE id = $3",
        params!["bob@example.com", true, bob.id],
    )
    .await
    .unwrap();
    db.close().await;
    // The enrolment's code is spent; the next step's is fresh.
    clock.advance(Duration::from_secs(30));
    (bob, secret)
}

both_backends! {
    #[app(clock, smtp)]
    async fn mfa_guessing_from_twelve_addresses_is_stopped(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let (_bob, secret) = enrolled_bob(&app, &clock).await;
        let wrong = wrong_code(&secret, clock.now());
        let mut answers = Vec::new();
        for i in 2..=12_u8 {
            let client = client_from(Ipv4Addr::new(127, 0, 0, i));
            answers.push(detail(login_from(&client, &app, &wrong).await).await);
        }
        // Five wrong codes are checked, from whatever addresses; the fifth locks the step.
        let invalid = (401, "Invalid MFA code.".to_owned());
        assert_eq!(answers[..4], vec![invalid; 4][..], "{answers:?}");
        for (status, message) in &answers[4..] {
            assert_eq!(*status, 429, "{answers:?}");
            assert!(message.starts_with("Too many wrong MFA codes"), "{message}");
        }
        // The 12th try, from a 12th address, has the right code: still refused.
        let client = client_from(Ipv4Addr::new(127, 0, 0, 13));
        let response = login_from(&client, &app, &code(&secret, clock.now())).await;
        assert_eq!(response.headers()["retry-after"], "900");
        let (status, message) = detail(response).await;
        assert_eq!(status, 429);
        assert_eq!(
            message,
            "Too many wrong MFA codes: the second factor of this account is locked. Try again in 15 minutes."
        );

        // The owner is told: an audit event, and a mail written with the lock.
        let sql = "SELECT COUNT(*) AS n FROM audit_logs WHERE action = $1 AND entity_name = $2";
        assert_eq!(count(&app, sql, params!["mfa_locked", "bob"]).await, 1);
        let mails = smtp.wait_for("bob@example.com", 1).await;
        assert_eq!(mails[0].subject(), "Second-factor sign-in locked");

        // The lock ends after MFA_LOCKOUT_MINUTES; then the right code signs in again.
        clock.advance(Duration::from_secs(15 * 60));
        let client = client_from(Ipv4Addr::new(127, 0, 0, 14));
        assert_eq!(
            login_from(&client, &app, &code(&secret, clock.now())).await.status(),
            200
        );
    }
}

both_backends! {
    #[app(clock, smtp)]
    async fn reauthentication_guards_backup_codes_and_disabling_mfa(app: TestApp, clock: Arc<ManualClock>) {
        let (bob, secret) = enrolled_bob(&app, &clock).await;
        let send = |path: &'static str, body: Value| {
            let (app, bob) = (&app, &bob);
            async move { app.post_json_as(bob, path, &body).await }
        };
        // A stolen session alone neither mints backup codes nor switches MFA off.
        let (status, body) = {
            let response = send("/api/v1/auth/mfa/backup-codes", json!({})).await;
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        };
        assert_eq!(status, 422, "{body}");
        let missing: Vec<&str> = body["detail"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["loc"][1].as_str().unwrap())
            .collect();
        assert_eq!(missing, ["password", "code"]);
        let response = send("/api/v1/auth/mfa/disable", json!({"password": PASSWORD})).await;
        assert_eq!(response.status(), 422, "the original's body alone is not enough");

        // With the password and a current code (as `code` or `mfa_code`), it works.
        let now = clock.now();
        let response = send(
            "/api/v1/auth/mfa/backup-codes",
            json!({"password": PASSWORD, "mfa_code": code(&secret, now)}),
        )
        .await;
        assert_eq!(response.status(), 200);

        // Failures count against the account: four wrong codes and a wrong password lock it.
        clock.advance(Duration::from_secs(30));
        let wrong = wrong_code(&secret, clock.now());
        for _ in 0..2 {
            let response = send("/api/v1/auth/mfa/disable", json!({"password": PASSWORD, "code": wrong})).await;
            assert_eq!(detail(response).await, (400, "Invalid MFA code".into()));
            let response = send(
                "/api/v1/auth/mfa/backup-codes",
                json!({"password": PASSWORD, "code": wrong}),
            )
            .await;
            assert_eq!(detail(response).await, (400, "Invalid MFA code".into()));
        }
        let right = code(&secret, clock.now());
        let response = send(
            "/api/v1/auth/mfa/disable",
            json!({"password": "Wrong-Passw0rd!", "code": right}),
        )
        .await;
        assert_eq!(detail(response).await.0, 429, "the fifth failure locks");
        let response = send("/api/v1/auth/mfa/disable", json!({"password": PASSWORD, "code": right})).await;
        assert_eq!(detail(response).await.0, 429);
        assert_eq!(
            detail(app.login("bob", PASSWORD, Some(&right)).await).await.0,
            429,
            "sign-in too"
        );
        let me: Value = app.get_as(&bob, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(me["mfa_enabled"], true);
    }
}

both_backends! {
    #[app(settings(|args| args.trusted_proxies = Some("127.0.0.1".into())))]
    /// Behind a trusted proxy on loopback, clients of one IPv6 /64 are one client.
    async fn sign_in_lockout_keys_ipv6_clients_by_their_64(app: TestApp) {
        app.user("bob").await;
        let login = |client: String| {
            let app = &app;
            async move {
                let response = app
                    .client
                    .post(app.url("/api/v1/token"))
                    .header("X-Forwarded-For", client)
                    .form(&[("username", "bob"), ("password", "Wrong-Passw0rd!")])
                    .send()
                    .await
                    .unwrap();
                detail(response).await
            }
        };
        for i in 1..=5 {
            assert_eq!(login(format!("2001:db8:1:2::{i}")).await.0, 401);
        }
        let (status, message) = login("2001:db8:1:2:ffff::6".into()).await;
        assert_eq!(
            (status, message.as_str()),
            (401, "Account is locked. Try again in 15 minutes.")
        );
        let (_, message) = login("2001:db8:1:3::1".into()).await;
        assert_eq!(
            message, "Invalid username or password.",
            "another /64 is another client"
        );
    }
}

both_backends! {
    #[app(clock, long_tokens, rate_limited)]
    async fn a_valid_token_gives_sign_in_no_bucket_of_its_own(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        let guesser = client_from(Ipv4Addr::new(127, 0, 0, 20));
        let guess = |with_token: bool| {
            let (app, guesser, bob) = (&app, &guesser, &bob);
            async move {
                let mut request = guesser.post(app.url("/api/v1/token")).form(&[("username", "carol"), ("password", "Wrong-Passw0rd!")]);
                if with_token {
                    request = request.bearer_auth(&bob.token);
                }
                request.send().await.unwrap().status().as_u16()
            }
        };
        // The /token allowance of this address (30 a minute) is spent with bob's token shown...
        for _ in 0..30 {
            assert_eq!(guess(true).await, 401);
        }
        // ...so the address has none left, with or without it.
        assert_eq!(guess(false).await, 429);
        assert_eq!(guess(true).await, 429);
        let _ = clock;
    }
}

/// Reads the setup token file of `app`'s data directory, checking it is private.
fn token_file(app: &TestApp) -> Option<String> {
    let path = app.database().data_dir.path().join("setup-token");
    let token = std::fs::read_to_string(&path).ok()?;
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    Some(token)
}

const FORWARDING: [(&str, &str); 3] = [
    ("Forwarded", "for=203.0.113.9"),
    ("X-Forwarded-For", "203.0.113.9"),
    ("X-Real-IP", "203.0.113.9"),
];

both_backends! {
    async fn a_forwarded_visitor_cannot_take_over_a_fresh_server(app: TestApp) {
        let token = token_file(&app).expect("the setup token is kept in the data directory");
        assert_eq!(Some(token.clone()), app.setup_token);
        for (name, value) in FORWARDING {
            // A reverse proxy on the same host connects from loopback for a remote visitor.
            let response = app.client.post(app.url("/api/v1/register")).header(name, value)
                .json(&json!({"username": "mallory", "password": PASSWORD})).send().await.unwrap();
            let (status, message) = detail(response).await;
            assert_eq!(status, 403, "{name}: {message}");
            assert!(message.starts_with("Setup token is required.") && message.contains("X-Setup-Token"), "{message}");
            let response = app.client.post(app.url("/api/v1/setup/initialize")).header(name, value)
                .json(&json!({"username": "mallory", "password": PASSWORD})).send().await.unwrap();
            assert_eq!(detail(response).await.0, 403, "{name}");
            let response = app.client.post(app.url("/api/v1/register")).header(name, value).header("X-Setup-Token", "guess")
                .json(&json!({"username": "mallory", "password": PASSWORD})).send().await.unwrap();
            assert_eq!(detail(response).await, (403, "Invalid setup token.".into()));
        }
        let status: Value = app.get("/api/v1/setup/status").await.json().await.unwrap();
        assert_eq!(status, json!({"setup_complete": false, "setup_reopened": false, "user_count": 0}));

        // The operator, through the proxy, with the token from the file: the first admin.
        let response = app.client.post(app.url("/api/v1/register")).header("X-Forwarded-For", "198.51.100.1")
            .header("X-Setup-Token", token.trim()).json(&json!({"username": "owner", "password": PASSWORD})).send().await.unwrap();
        assert_eq!(response.status(), 201);
        let owner = app.sign_in("owner", PASSWORD).await;
        let me: Value = app.get_as(&owner, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(me["is_admin"], true);
        assert_eq!(token_file(&app), None, "the file goes once setup is complete");
        // Registration is open again, for ordinary accounts.
        let response = app.client.post(app.url("/api/v1/register")).header("X-Real-IP", "203.0.113.9")
            .json(&json!({"username": "mallory", "password": PASSWORD})).send().await.unwrap();
        assert_eq!(response.status(), 201);
    }

    async fn setup_from_the_machine_itself_needs_no_token(app: TestApp) {
        let response = app.client.post(app.url("/api/v1/setup/initialize"))
            .json(&json!({"username": "root", "password": PASSWORD})).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(token_file(&app), None);
    }

    async fn oauth_grants_end_with_a_password_reset_or_logout(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let (client_id, secret) = client(&app, &bob, "read write").await;
        let grant = |bob: TestUser| {
            let (app, client_id, secret) = (&app, client_id.clone(), secret.clone());
            async move {
                let code = code_for(app, &bob, &client_id, "read").await;
                let (status, body) = token(app, &[("grant_type", "authorization_code"), ("client_id", &client_id), ("client_secret", &secret),
                    ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]).await;
                assert_eq!(status, 200, "{body}");
                let unused = code_for(app, &bob, &client_id, "read").await;
                let (status, body) = token(app, &[("grant_type", "client_credentials"), ("client_id", &client_id), ("client_secret", &secret)]).await;
                assert_eq!(status, 200, "{body}");
                let as_token = |t: &Value| TestUser { token: t["access_token"].as_str().unwrap().into(), ..bob.clone() };
                (as_token(&body), unused)
            }
        };
        let code_token = |bob: &TestUser| {
            let (app, client_id, secret) = (&app, client_id.clone(), secret.clone());
            let bob = bob.clone();
            async move {
                let code = code_for(app, &bob, &client_id, "read").await;
                let (_, body) = token(app, &[("grant_type", "authorization_code"), ("client_id", &client_id), ("client_secret", &secret),
                    ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]).await;
                TestUser { token: body["access_token"].as_str().unwrap().into(), ..bob }
            }
        };
        let redeem = |code: String| {
            let (app, client_id, secret) = (&app, client_id.clone(), secret.clone());
            async move {
                token(app, &[("grant_type", "authorization_code"), ("client_id", &client_id), ("client_secret", &secret),
                    ("code", &code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)]).await.0
            }
        };

        // An admin resets bob's password (say, it leaked): every grant bob gave ends with it.
        let delegated = code_token(&bob).await;
        let (client_token, unused) = grant(bob.clone()).await;
        assert_eq!(app.get_as(&delegated, "/api/v1/users/me").await.status(), 200);
        let response = app.post_json_as(&admin, "/api/v1/auth/admin/reset-password", &json!({"username": "bob", "new_password": "N3w-Passw0rd!x"})).await;
        assert_eq!(response.status(), 200);
        assert_eq!(app.get_as(&delegated, "/api/v1/users/me").await.status(), 401, "authorization-code token");
        assert_eq!(app.get_as(&client_token, "/api/v1/oauth/protected").await.status(), 401, "client-credentials token");
        assert_eq!(redeem(unused).await, 400, "an unused code");

        // Logging out everywhere ends them too.
        let bob = app.sign_in("bob", "N3w-Passw0rd!x").await;
        let delegated = code_token(&bob).await;
        let (client_token, unused) = grant(bob.clone()).await;
        assert_eq!(app.post_json_as(&bob, "/api/v1/logout", &json!({})).await.status(), 200);
        assert_eq!(app.get_as(&delegated, "/api/v1/users/me").await.status(), 401);
        assert_eq!(app.get_as(&client_token, "/api/v1/oauth/protected").await.status(), 401);
        assert_eq!(redeem(unused).await, 400);
    }

    async fn a_disabled_owners_client_gets_and_keeps_no_tokens(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let (client_id, secret) = client(&app, &bob, "read").await;
        let form = [("grant_type", "client_credentials"), ("client_id", client_id.as_str()), ("client_secret", secret.as_str())];
        let (status, body) = token(&app, &form).await;
        assert_eq!(status, 200);
        let client_token = TestUser { token: body["access_token"].as_str().unwrap().into(), ..bob.clone() };
        let response = app.post_json_as(&admin, &format!("/api/v1/auth/admin/users/{}/disable", bob.id), &json!({})).await;
        assert_eq!(response.status(), 200);
        assert_eq!(app.get_as(&client_token, "/api/v1/oauth/protected").await.status(), 401);
        assert_eq!(token(&app, &form).await, (401, json!({"detail": "Invalid client credentials"})));
        // Enabling bob again does not revive the old token.
        let response = app.post_json_as(&admin, &format!("/api/v1/auth/admin/users/{}/enable", bob.id), &json!({})).await;
        assert_eq!(response.status(), 200);
        assert_eq!(app.get_as(&client_token, "/api/v1/oauth/protected").await.status(), 401);
        assert_eq!(token(&app, &form).await.0, 200);
    }

    async fn overlong_usernames_are_refused_at_sign_in_before_anything_is_stored(app: TestApp) {
        app.admin().await;
        let long = "a".repeat(51);
        let response = app.login(&long, PASSWORD, None).await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["detail"][0]["loc"], json!(["body", "username"]));
        let huge = "b".repeat(100_000);
        assert_eq!(app.login(&huge, PASSWORD, None).await.status(), 422);
        let sql = "SELECT COUNT(*) AS n FROM login_attempts WHERE username = $1 OR username = $2";
        assert_eq!(count(&app, sql, params![long.as_str(), huge.as_str()]).await, 0);
        let sql = "SELECT COUNT(*) AS n FROM audit_logs WHERE username = $1";
        assert_eq!(count(&app, sql, params![long.as_str()]).await, 0);
        // The longest possible name is still checked as usual.
        assert_eq!(app.login(&"c".repeat(50), PASSWORD, None).await.status(), 401);
    }
}

both_backends! {
    #[app(clock)]
    async fn a_parallel_burst_of_codes_gets_no_more_checks(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        let (secret, _) = enrol(&app, &bob, clock.now()).await;
        clock.advance(Duration::from_secs(30));
        let wrong = wrong_code(&secret, clock.now());
        let guesses = (0..20_u8).map(|i| {
            let (app, wrong) = (&app, wrong.clone());
            async move {
                let client = client_from(Ipv4Addr::new(127, 0, 1, 10 + i));
                detail(login_from(&client, app, &wrong).await).await.0
            }
        });
        let statuses = futures::future::join_all(guesses).await;
        // Each attempt is counted before its code is checked, so at most five codes are checked
        // (the one whose failure sets the lock answers 429, unless a refused guess set it first).
        let wrong_answers = statuses.iter().filter(|s| **s == 401).count();
        assert!((1..=5).contains(&wrong_answers), "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 20 - wrong_answers, "{statuses:?}");
        let right = code(&secret, clock.now());
        assert_eq!(detail(app.login("bob", PASSWORD, Some(&right)).await).await.0, 429);
    }

    #[app(clock)]
    async fn mfa_failures_from_one_session_and_sign_in_share_one_count(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        let (secret, _) = enrol(&app, &bob, clock.now()).await;
        clock.advance(Duration::from_secs(30));
        let wrong = wrong_code(&secret, clock.now());
        for _ in 0..3 {
            assert_eq!(detail(app.login("bob", PASSWORD, Some(&wrong)).await).await.0, 401);
        }
        // A right code resets the count.
        assert_eq!(app.login("bob", PASSWORD, Some(&code(&secret, clock.now()))).await.status(), 200);
        for _ in 0..4 {
            assert_eq!(detail(app.login("bob", PASSWORD, Some(&wrong)).await).await.0, 401);
        }
        let response = app.post_json_as(&bob, "/api/v1/auth/mfa/disable", &json!({"password": PASSWORD, "code": wrong})).await;
        assert_eq!(detail(response).await.0, 429, "the fifth in a row, wherever it was tried");
    }
}

#[test]
fn a_short_setup_reopen_token_refuses_to_start() {
    use resource_reserver::config::{Settings, SettingsArgs};
    let args = SettingsArgs {
        setup_reopen_token: Some("reopen-secret".into()),
        ..SettingsArgs::default()
    };
    let error = Settings::from_args_and_env(&args, &|_| None).unwrap_err();
    assert!(error.0.contains("SETUP_REOPEN_TOKEN"), "{error}");
}
