//! Attacks on retention, performed on SQLite and PostgreSQL (docs/src/security.md, "Retention and
//! bounded growth"): tables that grow without bound, webhook caps and fair shares, verification
//! mail floods, addresses claimed by someone else, loopback names and resolved addresses in
//! webhook errors.

use std::time::Duration;

use resource_reserver::config::SettingsArgs;
use resource_reserver::params;
use resource_reserver::storage::Db;
use serde_json::{Value, json};

use crate::both_backends;
use crate::email::{code_in, request_code, verified};
use crate::support::booking::at;
use crate::support::timers::{clock_start, eventually};
use crate::support::webhook_receiver::hooked;
use crate::support::{Backend, TestApp, TestUser};

const DAY: Duration = Duration::from_secs(24 * 3600);

async fn count(db: &Db, sql: &str, params: Vec<resource_reserver::storage::Value>) -> i64 {
    db.query_one(sql, params).await.unwrap().get("n").unwrap()
}

/// Waits until `sql` counts `expected` rows (the pruner runs on the server's own loop).
async fn until_count(
    app: &TestApp,
    what: &str,
    sql: &str,
    params: Vec<resource_reserver::storage::Value>,
    expected: i64,
) {
    let db = app.database().connect().await;
    eventually(what, || async {
        (count(&db, sql, params.clone()).await == expected).then_some(())
    })
    .await;
    db.close().await;
}

async fn webhook_of(app: &TestApp, user: &TestUser, url: &str, events: &[&str]) -> reqwest::Response {
    app.post_json_as(user, "/api/v1/webhooks", &json!({"url": url, "events": events}))
        .await
}

async fn created_webhook(app: &TestApp, user: &TestUser, url: &str, events: &[&str]) -> Value {
    let response = webhook_of(app, user, url, events).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

both_backends! {
    #[app(clock, long_tokens)]
    async fn dead_sessions_and_attempts_for_unknown_usernames_are_pruned(app: TestApp, clock: Arc<ManualClock>) {
        let bob = app.user("bob").await;
        // Someone tries usernames that do not exist: each try used to stay for ever.
        for guess in ["ghost1", "ghost2", "ghost3"] {
            assert_eq!(app.login(guess, "wrong-password", None).await.status(), 401);
        }
        assert_eq!(app.login("bob", "wrong-password", None).await.status(), 401);
        let ghosts = "SELECT COUNT(*) AS n FROM login_attempts WHERE username LIKE 'ghost%'";
        let bobs = "SELECT COUNT(*) AS n FROM login_attempts WHERE username = 'bob'";
        let db = app.database().connect().await;
        assert_eq!(count(&db, ghosts, params![]).await, 3);
        let bob_attempts = count(&db, bobs, params![]).await;
        assert!(bob_attempts > 0);
        let sessions = "SELECT COUNT(*) AS n FROM auth_sessions WHERE user_id = $1";
        let before = count(&db, sessions, params![bob.id]).await;
        assert!(before >= 1);
        db.close().await;

        // A day later the unknown names' attempts go; an account's stay for its lockout.
        clock.advance(DAY + Duration::from_secs(60));
        until_count(&app, "attempts for unknown usernames pruned", ghosts, params![], 0).await;
        let db = app.database().connect().await;
        assert_eq!(count(&db, bobs, params![]).await, bob_attempts);
        db.close().await;

        // A session signed out, and one whose refresh token expired (7 days) a week ago, go
        // with their tokens; a live one stays.
        let bob = app.login_again(&bob).await;
        assert_eq!(app.post_json_as(&bob, "/api/v1/logout", &json!({})).await.status(), 200);
        clock.advance(DAY * 14);
        let bob = app.login_again(&bob).await;
        clock.advance(Duration::from_secs(60));
        until_count(&app, "dead sessions pruned", sessions, params![bob.id], 1).await;
        until_count(
            &app,
            "expired refresh tokens pruned",
            "SELECT COUNT(*) AS n FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id WHERE s.user_id = $1",
            params![bob.id],
            1,
        )
        .await;
        assert_eq!(app.get_as(&bob, "/api/v1/users/me").await.status(), 200, "the live session works");
    }

    #[app(clock, long_tokens)]
    async fn expired_and_revoked_oauth_grants_are_pruned(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let now = clock_start();
        let hour = chrono::Duration::hours(1);
        let db = app.database().connect().await;
        db.execute(
            "INSERT INTO oauth2_clients (client_id, client_secret_hash, client_name, redirect_uris, grant_types, scope, owner_id, created_at)
             VALUES ('c', 'h', 'n', '[]', 'authorization_code', 'read', $1, $2)",
            params![admin.id, now],
        )
        .await
        .unwrap();
        db.execute(
            "INSERT INTO oauth2_authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, expires_at, created_at)
             VALUES ('code', 'c', $1, 'https://x.example/cb', 'read', 'x', $2, $3)",
            params![admin.id, now + chrono::Duration::minutes(10), now],
        )
        .await
        .unwrap();
        let token = "INSERT INTO oauth2_tokens (client_id, user_id, access_token_hash, refresh_token_hash, scope, expires_at, revoked, created_at)
                     VALUES ('c', $1, $2, $3, 'read', $4, $5, $6)";
        // Revoked; access-only and expired; with a refresh token still usable (7 days).
        db.execute(token, params![admin.id, "a1", Some("r1"), now + hour, true, now]).await.unwrap();
        db.execute(token, params![admin.id, "a2", None::<String>, now + hour, false, now]).await.unwrap();
        db.execute(token, params![admin.id, "a3", Some("r3"), now + hour, false, now]).await.unwrap();
        db.close().await;

        clock.advance(DAY * 8);
        until_count(&app, "expired codes pruned", "SELECT COUNT(*) AS n FROM oauth2_authorization_codes", params![], 0)
            .await;
        until_count(&app, "dead tokens pruned", "SELECT COUNT(*) AS n FROM oauth2_tokens", params![], 1).await;
        let db = app.database().connect().await;
        let left = "SELECT COUNT(*) AS n FROM oauth2_tokens WHERE access_token_hash = 'a3'";
        assert_eq!(count(&db, left, params![]).await, 1, "a refresh token still usable stays");
        db.close().await;
        // Once its refresh token expired a week ago, it goes too.
        clock.advance(DAY * 7);
        until_count(&app, "expired refresh grants pruned", "SELECT COUNT(*) AS n FROM oauth2_tokens", params![], 0).await;
    }
}

both_backends! {
    #[app(clock, webhook_receiver)]
    async fn old_webhook_deliveries_are_pruned(app: TestApp, clock: Arc<ManualClock>, receiver: WebhookReceiver) {
        let admin = app.admin().await;
        created_webhook(&app, &admin, &receiver.url("/hook"), &["resource.created"]).await;
        app.resource(&admin, "Room").await;
        receiver.wait_for("/hook", 1).await;
        let all = "SELECT COUNT(*) AS n FROM webhook_deliveries";
        until_count(&app, "the delivery recorded", "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'delivered'", params![], 1).await;
        clock.advance(DAY * 29);
        let admin = app.login_again(&admin).await;
        app.resource(&admin, "Hall").await;
        receiver.wait_for("/hook", 2).await;
        clock.advance(DAY * 2);
        // 31 days old: gone; 2 days old: kept.
        until_count(&app, "old deliveries pruned", all, params![], 1).await;
    }

    #[app(clock, webhook_receiver)]
    async fn one_owners_silent_receiver_does_not_hold_up_anothers_deliveries(app: TestApp, clock: Arc<ManualClock>, receiver: WebhookReceiver) {
        let admin = app.admin().await;
        let alice = app.user("alice").await;
        let bob = app.user("bob").await;
        // Alice's receiver never answers (until the end), and she has many deliveries pending:
        // more than the 16 sending slots.
        receiver.hold();
        created_webhook(&app, &alice, &receiver.url("/alice"), &["resource.created"]).await;
        let bobs = WebhookReceiver::start().await;
        created_webhook(&app, &bob, &bobs.url("/bob"), &["reservation.created"]).await;
        let mut room = 0;
        for n in 0..20 {
            room = app.resource(&admin, &format!("Room {n}")).await;
        }
        receiver.wait_for("/alice", 4).await;
        // Bob's delivery still goes out at once.
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        let delivered = bobs.wait_for("/bob", 1).await;
        assert_eq!(delivered[0].json()["event"], "reservation.created");
        assert!(receiver.received_on("/alice").len() <= 4, "one owner holds at most 4 slots");
        receiver.release();
        let _ = clock;
    }
}

both_backends! {
    #[app(clock, smtp)]
    async fn an_address_claimed_without_proof_does_not_block_its_owner(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let bob = app.user("bob").await;
        let eve = app.user("eve").await;
        // Eve claims Bob's address first; she cannot prove it.
        let claimed = app.put_json_as(&eve, "/api/v1/users/me/email", &json!({"email": "bob@example.com"})).await;
        assert_eq!(claimed.status(), 200);
        let eves_code = code_in(&smtp.wait_for("bob@example.com", 1).await[0].data);
        // Bob sets and proves his address all the same.
        verified(&app, &smtp, &bob, "BOB@example.com").await;
        let me: Value = app.get_as(&bob, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!((me["email"].as_str(), me["email_verified"].as_bool()), (Some("BOB@example.com"), Some(true)));
        // Eve's claim is dropped with its code, and she cannot claim the address again.
        let me: Value = app.get_as(&eve, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(me["email"], Value::Null);
        let late = app.post_json_as(&eve, "/api/v1/users/me/email/verify", &json!({"code": eves_code})).await;
        assert_eq!(late.status(), 400);
        let again = app.put_json_as(&eve, "/api/v1/users/me/email", &json!({"email": "bob@example.com"})).await;
        assert_eq!(again.status(), 409);
        let body: Value = again.json().await.unwrap();
        assert_eq!(body["detail"], "Email already registered");
        let _ = clock;
    }

    #[app(clock, smtp)]
    async fn verification_codes_never_rest_in_the_outbox_and_sent_bodies_are_wiped(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let code = request_code(&app, &smtp, &bob, "bob@example.com").await;
        let db = app.database().connect().await;
        let rows = db.query("SELECT subject, body FROM email_outbox", params![]).await.unwrap();
        assert!(!rows.is_empty());
        for row in &rows {
            let (subject, body): (String, String) = (row.get("subject").unwrap(), row.get("body").unwrap());
            assert!(!subject.contains(&code) && !body.contains(&code), "the code is in the outbox: {body}");
        }
        let hashes = db.query("SELECT code_hash FROM email_verifications", params![]).await.unwrap();
        assert!(hashes.iter().all(|row| row.get::<String>("code_hash").unwrap() != code));
        // The code works, and a sent message keeps no body.
        let ok = app.post_json_as(&bob, "/api/v1/users/me/email/verify", &json!({"code": code})).await;
        assert_eq!(ok.status(), 200);
        let room = app.resource(&admin, "Room").await;
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        smtp.wait_for("bob@example.com", 2).await;
        let sent = "SELECT COUNT(*) AS n FROM email_outbox WHERE status = 'sent' AND body = ''";
        eventually("both sent rows wiped", || async { (count(&db, sent, params![]).await == 2).then_some(()) }).await;
        // Sent rows go after EMAIL_OUTBOX_RETENTION_DAYS (7).
        clock.advance(DAY * 8);
        let old = "SELECT COUNT(*) AS n FROM email_outbox WHERE created_at <= $1";
        eventually("sent rows pruned", || async {
            (count(&db, old, params![clock_start()]).await == 0).then_some(())
        })
        .await;
        db.close().await;
    }

    #[app(clock, smtp)]
    async fn verification_mail_is_throttled_per_account_and_per_recipient(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let bob = app.user("bob").await;
        let set = |user: TestUser, address: String| {
            let app = &app;
            async move { app.put_json_as(&user, "/api/v1/users/me/email", &json!({"email": address})).await }
        };
        // One account floods: five an hour (EMAIL_VERIFICATIONS_PER_USER_PER_HOUR).
        for n in 0..5 {
            assert_eq!(set(bob.clone(), format!("bob{n}@example.com")).await.status(), 200);
        }
        let refused = set(bob.clone(), "bob5@example.com".into()).await;
        assert_eq!(refused.status(), 429);
        let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=3600).contains(&wait), "{wait}");
        let body: Value = refused.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains("at most 5 per hour"), "{body}");
        // Many accounts flood one victim: three an hour (…_PER_RECIPIENT_PER_HOUR).
        for name in ["eve", "mallory", "trudy"] {
            let user = app.user(name).await;
            assert_eq!(set(user, "victim@example.com".into()).await.status(), 200);
        }
        let oscar = app.user("oscar").await;
        let refused = set(oscar.clone(), "Victim@example.com".into()).await;
        assert_eq!(refused.status(), 429);
        assert!(refused.headers().contains_key("retry-after"));
        smtp.wait_for("victim@example.com", 3).await;
        // An hour later both may ask again.
        clock.advance(Duration::from_secs(3601));
        let oscar = app.login_again(&oscar).await;
        assert_eq!(set(oscar, "victim@example.com".into()).await.status(), 200);
        let bob = app.login_again(&bob).await;
        assert_eq!(set(bob, "bob5@example.com".into()).await.status(), 200);
    }
}

/// Webhooks may reach `allowed` only, with `max` webhooks per user.
fn webhook_limits(allowed: &str, max: &str) -> impl FnOnce(&mut SettingsArgs) {
    let (allowed, max) = (allowed.to_owned(), max.to_owned());
    move |args| {
        hooked(args);
        args.webhook_allowed_hosts = Some(allowed);
        args.webhook_max_per_user = Some(max);
    }
}

/// A server with [`webhook_limits`].
async fn webhook_app(backend: Backend, allowed: &str, max: &str) -> Option<TestApp> {
    TestApp::builder(backend)
        .settings(webhook_limits(allowed, max))
        .spawn()
        .await
}

both_backends! {
    #[app(settings(webhook_limits("127.0.0.1", "2")))]
    async fn a_user_cannot_create_webhooks_past_the_cap(app: TestApp) {
        let bob = app.user("bob").await;
        for n in 0..2 {
            created_webhook(&app, &bob, &format!("https://hooks.example/{n}"), &["resource.created"]).await;
        }
        let refused = webhook_of(&app, &bob, "https://hooks.example/2", &["resource.created"]).await;
        assert_eq!(refused.status(), 409);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["detail"], "Webhook limit reached: at most 2 webhooks per user");
        let listed: Vec<Value> = app.get_as(&bob, "/api/v1/webhooks").await.json().await.unwrap();
        assert_eq!(listed.len(), 2, "nothing was stored");
        // Another user has a cap of their own.
        let eve = app.user("eve").await;
        created_webhook(&app, &eve, "https://hooks.example/eve", &["resource.created"]).await;
    }

    #[app(settings(webhook_limits("", "25")))]
    async fn localhost_is_refused_like_a_loopback_address(app: TestApp, backend: Backend) {
        let bob = app.user("bob").await;
        for url in [
            "http://localhost:8080/x",
            "http://LocalHost./x",
            "http://metadata.localhost/x",
        ] {
            let refused = webhook_of(&app, &bob, url, &["resource.created"]).await;
            assert_eq!(refused.status(), 422, "{url}");
            let body: Value = refused.json().await.unwrap();
            assert_eq!(body["detail"][0]["loc"], json!(["body", "url"]));
            assert!(
                body["detail"][0]["msg"]
                    .as_str()
                    .unwrap()
                    .contains("loopback host name"),
                "{body}"
            );
        }
        // Allow-listed like any loopback target.
        let Some(app) = webhook_app(backend, "localhost", "25").await else {
            return;
        };
        let bob = app.user("bob").await;
        created_webhook(&app, &bob, "http://localhost:8080/x", &["resource.created"]).await;
    }

    #[app(settings(webhook_limits("127.0.0.2", "25")))]
    async fn webhook_errors_do_not_tell_what_names_resolve_to(app: TestApp) {
        // A loopback address is allowed, so `localhost` may be registered; it resolves to others.
        let bob = app.user("bob").await;
        let hook = created_webhook(&app, &bob, "http://localhost:9/x", &["resource.created"]).await;
        let tested = app
            .post_json_as(&bob, &format!("/api/v1/webhooks/{}/test", hook["id"]), &json!({}))
            .await;
        assert_eq!(tested.status(), 200);
        let body: Value = tested.json().await.unwrap();
        assert_eq!(body["success"], false);
        let deliveries: Vec<Value> = app
            .get_as(&bob, &format!("/api/v1/webhooks/{}/deliveries", hook["id"]))
            .await
            .json()
            .await
            .unwrap();
        for told in [
            body["message"].as_str().unwrap(),
            deliveries[0]["error_message"].as_str().unwrap(),
        ] {
            assert!(
                told.contains("localhost does not resolve to an address webhooks may reach"),
                "{told}"
            );
            assert!(!told.contains("127.0.0.1") && !told.contains("::1"), "{told}");
        }
        assert_eq!(
            (
                deliveries[0]["status_code"].clone(),
                deliveries[0]["retry_count"].as_i64()
            ),
            (Value::Null, Some(1))
        );
        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert!(metrics.contains("webhook_deliveries_failed_total 1"), "{metrics}");
    }
}

/// Two servers on one PostgreSQL prune a backlog larger than a batch together: batches go in
/// turn (an advisory lock), and everything dead goes while live rows stay.
#[actix_web::test]
async fn two_servers_prune_one_database_in_bounded_batches() {
    let clock = std::sync::Arc::new(reserver_actors::ManualClock::new(clock_start()));
    let Some(first) = TestApp::builder(Backend::Postgres)
        .manual_clock(clock.clone())
        .settings(hooked)
        .spawn()
        .await
    else {
        return;
    };
    let _second = first.sibling_with(hooked).await;
    let bob = first.user("bob").await;
    assert_eq!(first.login("bob", "wrong-password", None).await.status(), 401);
    let db = first.database().connect().await;
    db.execute(
        "INSERT INTO login_attempts (username, ip_address, success, attempt_time, failure_reason)
         SELECT 'ghost' || n, '203.0.113.9', FALSE, $1, 'unknown user' FROM generate_series(1, 12000) AS n",
        params![clock_start()],
    )
    .await
    .unwrap();
    db.close().await;
    clock.advance(DAY * 2);
    let ghosts = "SELECT COUNT(*) AS n FROM login_attempts WHERE username LIKE 'ghost%'";
    until_count(&first, "12,000 attempts pruned", ghosts, params![], 0).await;
    let kept = "SELECT COUNT(*) AS n FROM login_attempts WHERE username = $1";
    until_count(
        &first,
        "an account's attempts kept",
        kept,
        params![bob.username.as_str()],
        2,
    )
    .await;
}
