//! E-mail through a real SMTP server (`tests/support/smtp.rs`): verifying an address with the
//! mailed code; mail to verified, opted-in owners only, written with the change (none for a
//! refused one); retries after a 451; nothing at all with `EMAIL_ENABLED=false`.

use std::sync::Arc;
use std::time::Duration;

use reserver_actors::ManualClock;
use resource_reserver::params;
use resource_reserver::storage::{Db, Row};
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::booking::at;
use crate::support::smtp::{SmtpServer, mailing};
use crate::support::timers::{clock_start, eventually};
use crate::support::{Backend, TestApp, TestUser};

const CODE_INTRO: &str = "Your verification code is:";

/// The code in a verification message.
pub fn code_in(data: &str) -> String {
    let mut lines = data.lines().skip_while(|line| !line.contains(CODE_INTRO)).skip(1);
    lines
        .find(|line| !line.trim().is_empty())
        .expect("a code after the introduction")
        .trim()
        .to_owned()
}

/// Sets `address` for `user` and returns the code mailed to it.
pub async fn request_code(app: &TestApp, smtp: &SmtpServer, user: &TestUser, address: &str) -> String {
    let before = smtp.to(address).len();
    let response = app
        .put_json_as(user, "/api/v1/users/me/email", &json!({"email": address}))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["email"].as_str(), body["email_verified"].as_bool()),
        (Some(address), Some(false))
    );
    let mails = smtp.wait_for(address, before + 1).await;
    let mail = &mails[before];
    assert_eq!(mail.subject(), "Verify your e-mail address");
    code_in(&mail.data)
}

/// Gives `user` the verified `address`.
pub async fn verified(app: &TestApp, smtp: &SmtpServer, user: &TestUser, address: &str) {
    let code = request_code(app, smtp, user, address).await;
    let response = app
        .post_json_as(user, "/api/v1/users/me/email/verify", &json!({"code": code}))
        .await;
    assert_eq!(response.status(), 200);
}

/// Subjects of the messages the outbox holds for `address`, whatever their state.
async fn outbox(app: &TestApp, address: &str) -> Vec<String> {
    let db = app.database().connect().await;
    let rows = db
        .query(
            "SELECT subject FROM email_outbox WHERE recipient = $1 ORDER BY id",
            params![address],
        )
        .await
        .unwrap();
    db.close().await;
    rows.iter().map(|row| row.get::<String>("subject").unwrap()).collect()
}

/// The outbox row of the booking confirmation, once `ready` accepts it.
async fn confirmation_row(db: &Db, ready: impl Fn(&Row) -> bool) -> Row {
    eventually("the confirmation's outbox row", || async {
        let row = db
            .query_one(
                "SELECT status, attempts, last_error, next_attempt_at, sent_at FROM email_outbox WHERE subject = $1",
                params!["Reservation confirmed"],
            )
            .await
            .unwrap();
        ready(&row).then_some(row)
    })
    .await
}

async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in /metrics"))
}

both_backends! {
    #[app(clock, smtp)]
    async fn an_address_is_verified_with_the_mailed_code_once(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let bob = app.user("bob").await;
        let code = request_code(&app, &smtp, &bob, "bob@example.com").await;
        let wrong = app
            .post_json_as(&bob, "/api/v1/users/me/email/verify", &json!({"code": "not-the-code"}))
            .await;
        assert_eq!(wrong.status(), 400);
        let me: Value = app.get_as(&bob, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(me["email_verified"], false);

        let right = app
            .post_json_as(&bob, "/api/v1/users/me/email/verify", &json!({"code": code}))
            .await;
        assert_eq!(right.status(), 200);
        let me: Value = app.get_as(&bob, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!((me["email"].as_str(), me["email_verified"].as_bool()), (Some("bob@example.com"), Some(true)));
        // One-time: the same code again is refused.
        let again = app
            .post_json_as(&bob, "/api/v1/users/me/email/verify", &json!({"code": code}))
            .await;
        assert_eq!(again.status(), 400);
        // The code was stored only as a hash.
        let db = app.database().connect().await;
        let stored = db.query("SELECT code_hash FROM email_verifications", params![]).await.unwrap();
        assert!(stored.is_empty(), "a used code is deleted");
        db.close().await;
        assert_eq!(metric(&app, "emails_sent_total").await, 1.0);
        let _ = clock;
    }

    #[app(clock, smtp)]
    async fn a_code_expires_after_a_day_and_a_new_address_needs_a_new_one(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let bob = app.user("bob").await;
        let code = request_code(&app, &smtp, &bob, "bob@example.com").await;
        clock.advance(Duration::from_secs(24 * 3600));
        let bob = app.login_again(&bob).await;
        let late = app
            .post_json_as(&bob, "/api/v1/users/me/email/verify", &json!({"code": code}))
            .await;
        assert_eq!(late.status(), 400);
        assert!(late.text().await.unwrap().contains("Invalid or expired verification code"));

        // A verified address that is changed is unverified until the new one is proved.
        verified(&app, &smtp, &bob, "bob@example.com").await;
        let first = request_code(&app, &smtp, &bob, "robert@example.com").await;
        let me: Value = app.get_as(&bob, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!((me["email"].as_str(), me["email_verified"].as_bool()), (Some("robert@example.com"), Some(false)));
        let second = request_code(&app, &smtp, &bob, "robert@example.com").await;
        let replaced = app
            .post_json_as(&bob, "/api/v1/users/me/email/verify", &json!({"code": first}))
            .await;
        assert_eq!(replaced.status(), 400, "a new request replaces the earlier code");
        let ok = app
            .post_json_as(&bob, "/api/v1/users/me/email/verify", &json!({"code": second}))
            .await;
        assert_eq!(ok.status(), 200);
    }

    #[app(clock, smtp)]
    async fn an_address_is_checked_and_belongs_to_one_account(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let bob = app.user("bob").await;
        let eve = app.user("eve").await;
        verified(&app, &smtp, &bob, "bob@example.com").await;
        let taken = app
            .put_json_as(&eve, "/api/v1/users/me/email", &json!({"email": "BOB@example.com"}))
            .await;
        assert_eq!(taken.status(), 409);
        for bad in ["not-an-address", "two@@example.com", ""] {
            let response = app
                .put_json_as(&eve, "/api/v1/users/me/email", &json!({"email": bad}))
                .await;
            assert_eq!(response.status(), 422, "{bad:?}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["detail"][0]["loc"], json!(["body", "email"]));
        }
        let me: Value = app.get_as(&eve, "/api/v1/users/me").await.json().await.unwrap();
        assert_eq!(me["email"], Value::Null, "a refused address is not stored");
        assert!(outbox(&app, "BOB@example.com").await.is_empty());
        let _ = clock;
    }

    #[app(clock, smtp)]
    async fn a_booking_mails_its_verified_owner_and_a_cancellation_by_an_admin_mails_the_owner(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        verified(&app, &smtp, &admin, "admin@example.com").await;
        verified(&app, &smtp, &bob, "bob@example.com").await;
        let room = app.resource(&admin, "Room").await;
        let booked = app.book(&bob, room, &at(10, 0), &at(11, 0)).await;
        assert_eq!(booked.status(), 201);
        let id = booked.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let mails = smtp.wait_for("bob@example.com", 2).await;
        assert_eq!(mails[1].subject(), "Reservation confirmed");
        assert!(mails[1].data.contains("Room booked from"), "{}", mails[1].data);

        let cancelled = app
            .post_json_as(&admin, &format!("/api/v1/reservations/{id}/cancel"), &json!({"reason": "maintenance"}))
            .await;
        assert_eq!(cancelled.status(), 200);
        let mails = smtp.wait_for("bob@example.com", 3).await;
        assert_eq!(mails[2].subject(), "Reservation cancelled");
        // The admin who cancelled is told nothing: only the verification reached them.
        assert_eq!(outbox(&app, "admin@example.com").await, ["Verify your e-mail address"]);
        assert_eq!(smtp.to("admin@example.com").len(), 1);
        let _ = clock;
    }

    #[app(clock, smtp)]
    async fn unverified_or_opted_out_users_get_nothing(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let admin = app.admin().await;
        let carol = app.user("carol").await;
        let dave = app.user("dave").await;
        request_code(&app, &smtp, &carol, "carol@example.com").await;
        verified(&app, &smtp, &dave, "dave@example.com").await;
        let off = app
            .patch_json_as(&dave, "/api/v1/users/me/preferences", &json!({"email_notifications": false}))
            .await;
        assert_eq!(off.status(), 200);
        let room = app.resource(&admin, "Room").await;
        assert_eq!(app.book(&carol, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        assert_eq!(app.book(&dave, room, &at(12, 0), &at(13, 0)).await.status(), 201);
        assert_eq!(outbox(&app, "carol@example.com").await, ["Verify your e-mail address"]);
        assert_eq!(outbox(&app, "dave@example.com").await, ["Verify your e-mail address"]);
        let _ = clock;
    }

    #[app(clock, smtp)]
    async fn a_refused_booking_writes_no_mail(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        verified(&app, &smtp, &bob, "bob@example.com").await;
        let room = app.resource(&admin, "Room").await;
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        assert_eq!(app.book(&bob, room, &at(10, 30), &at(11, 30)).await.status(), 409);
        assert_eq!(
            outbox(&app, "bob@example.com").await,
            ["Verify your e-mail address", "Reservation confirmed"]
        );
        let _ = clock;
    }

    #[app(clock, smtp)]
    async fn a_message_refused_with_451_is_retried_and_delivered_once(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        verified(&app, &smtp, &bob, "bob@example.com").await;
        let room = app.resource(&admin, "Room").await;
        smtp.refuse_next(1);
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        eventually("the SMTP server refused the confirmation", || async { (smtp.refused() == 1).then_some(()) }).await;
        let db = app.database().connect().await;
        let row = confirmation_row(&db, |row| {
            row.get::<i64>("attempts").unwrap() == 1 && row.get::<Option<String>>("last_error").unwrap().is_some()
        })
        .await;
        assert_eq!(row.get::<String>("status").unwrap(), "pending");
        assert_eq!(smtp.to("bob@example.com").len(), 1, "only the verification so far");
        assert_eq!(metric(&app, "emails_failed_total").await, 1.0);

        // The retry is due a minute later, on the server's clock.
        clock.advance(Duration::from_secs(61));
        let mails = smtp.wait_for("bob@example.com", 2).await;
        assert_eq!(mails[1].subject(), "Reservation confirmed");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(smtp.to("bob@example.com").len(), 2, "delivered once");
        let row = confirmation_row(&db, |_| true).await;
        assert_eq!(row.get::<String>("status").unwrap(), "sent");
        assert!(row.get::<Option<chrono::DateTime<chrono::Utc>>>("sent_at").unwrap().is_some());
        db.close().await;
        assert_eq!(metric(&app, "emails_sent_total").await, 2.0);
    }

    #[app(clock, smtp)]
    async fn a_message_refused_with_550_is_given_up_at_once(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        verified(&app, &smtp, &bob, "bob@example.com").await;
        let room = app.resource(&admin, "Room").await;
        smtp.reject_next(1);
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        let db = app.database().connect().await;
        let row = confirmation_row(&db, |row| row.get::<String>("status").unwrap() == "failed").await;
        db.close().await;
        assert_eq!(row.get::<i64>("attempts").unwrap(), 1);
        assert!(row.get::<String>("last_error").unwrap().contains("550"));
        assert!(row.get::<Option<chrono::DateTime<chrono::Utc>>>("next_attempt_at").unwrap().is_none());
        clock.advance(Duration::from_secs(7200));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(smtp.refused(), 1, "not tried again");
        assert_eq!(smtp.to("bob@example.com").len(), 1, "only the verification");
    }

    #[app(clock, smtp)]
    async fn an_approval_and_a_rejection_mail_the_requester(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        verified(&app, &smtp, &bob, "bob@example.com").await;
        let room = app.resource(&admin, "Lab").await;
        let settings = json!({"requires_approval": true, "default_approver_id": admin.id});
        let path = format!("/api/v1/approvals/resources/{room}/settings");
        assert_eq!(app.put_json_as(&admin, &path, &settings).await.status(), 200);
        let mut subjects = vec!["Verify your e-mail address"];
        for (hour, action, subject) in [(10, "approve", "Reservation Approved"), (12, "reject", "Reservation Rejected")] {
            let request = json!({"resource_id": room, "start_time": at(hour, 0), "end_time": at(hour + 1, 0)});
            let requested: Value = app
                .post_json_as(&bob, "/api/v1/approvals/reservations", &request)
                .await
                .json()
                .await
                .unwrap();
            let respond = format!("/api/v1/approvals/{}/respond", requested["approval_id"]);
            let answered = app
                .post_json_as(&admin, &respond, &json!({"action": action, "response_message": "noted"}))
                .await;
            assert_eq!(answered.status(), 200);
            subjects.extend(["Reservation requested", subject]);
        }
        let mails = smtp.wait_for("bob@example.com", 5).await;
        assert_eq!(mails.iter().map(|mail| mail.subject()).collect::<Vec<_>>(), subjects);
        assert!(mails[4].data.contains("Reason: noted"), "{}", mails[4].data);
        let _ = clock;
    }

    #[app(clock, smtp)]
    async fn a_reminder_is_mailed_once_reminder_hours_before_an_active_booking(app: TestApp, clock: Arc<ManualClock>, smtp: SmtpServer) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        verified(&app, &smtp, &bob, "bob@example.com").await;
        let hours = app
            .patch_json_as(&bob, "/api/v1/users/me/preferences", &json!({"reminder_hours": 2}))
            .await;
        assert_eq!(hours.status(), 200);
        let room = app.resource(&admin, "Room").await;
        // 2030-01-07 10:00 and 12:00; the clock is at 2030-01-01 09:00.
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        let cancelled = app.book(&bob, room, &at(12, 0), &at(13, 0)).await;
        let id = cancelled.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let path = format!("/api/v1/reservations/{id}/cancel");
        assert_eq!(app.post_json_as(&bob, &path, &json!({})).await.status(), 200);
        smtp.wait_for("bob@example.com", 4).await;

        // To 2030-01-07 07:59: not yet (the sender's timer passes through its daily re-checks).
        clock.advance(Duration::from_secs(6 * 86400 - 3600 - 60));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!outbox(&app, "bob@example.com").await.iter().any(|s| s.starts_with("Reminder")));
        // 08:00:01: two hours before 10:00.
        clock.advance(Duration::from_secs(61));
        let mails = smtp.wait_for("bob@example.com", 5).await;
        assert_eq!(mails[4].subject(), "Reminder: Room reservation in 2 hour(s)");
        // Later, nothing more: the cancelled booking gets none, the reminded one no second.
        clock.advance(Duration::from_secs(4 * 3600));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let reminders = outbox(&app, "bob@example.com").await.into_iter().filter(|s| s.starts_with("Reminder")).count();
        assert_eq!(reminders, 1);
    }
}

/// Two servers on one PostgreSQL database, both woken for every message and both timing the
/// same retries: each attempt is made by exactly one of them.
#[actix_web::test]
async fn two_servers_on_one_database_send_each_message_once() {
    let clock = Arc::new(ManualClock::new(clock_start()));
    let smtp = SmtpServer::start().await;
    let Some(first) = TestApp::builder(Backend::Postgres)
        .manual_clock(clock.clone())
        .settings(mailing(smtp.port))
        .spawn()
        .await
    else {
        return;
    };
    let second = first.sibling_with(mailing(smtp.port)).await;
    let admin = first.admin().await;
    let bob = first.user("bob").await;
    verified(&first, &smtp, &bob, "bob@example.com").await;
    let room = first.resource(&admin, "Room").await;
    smtp.refuse_next(10);
    for hour in 10..20 {
        let server = if hour % 2 == 0 { &first } else { &second };
        assert_eq!(
            server.book(&bob, room, &at(hour, 0), &at(hour + 1, 0)).await.status(),
            201
        );
    }
    // Settled, not only refused: a failure recorded after the clock moves would be retried a
    // minute after the moved clock, past the end of this test.
    let db = first.database().connect().await;
    eventually("ten first attempts refused and recorded", || async {
        let row = db
            .query_one(
                "SELECT COUNT(*) AS settled FROM email_outbox
                  WHERE subject = $1 AND status = 'pending' AND attempts = 1 AND claim IS NULL",
                params!["Reservation confirmed"],
            )
            .await
            .unwrap();
        (row.get::<i64>("settled").unwrap() == 10).then_some(())
    })
    .await;
    db.close().await;
    assert_eq!(smtp.refused(), 10);
    clock.advance(Duration::from_secs(61));
    smtp.wait_for("bob@example.com", 11).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut bodies: Vec<String> = smtp.to("bob@example.com").into_iter().map(|mail| mail.data).collect();
    assert_eq!(
        bodies.len(),
        11,
        "the verification and ten confirmations, nothing twice"
    );
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 11);
    assert_eq!(smtp.refused(), 10);
}

both_backends! {
    async fn with_email_disabled_nothing_is_written_and_the_address_endpoints_say_so(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let response = app
            .put_json_as(&bob, "/api/v1/users/me/email", &json!({"email": "bob@example.com"}))
            .await;
        assert_eq!(response.status(), 501);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["detail"], "E-mail is not enabled on this server");
        let verify = app
            .post_json_as(&bob, "/api/v1/users/me/email/verify", &json!({"code": "x"}))
            .await;
        assert_eq!(verify.status(), 501);
        // Even a verified, opted-in owner (set directly) gets nothing written.
        let db = app.database().connect().await;
        db.execute(
            "UPDATE users SET email = $1, email_verified = $2 WHERE id = $3",
            params!["bob@example.com", true, bob.id],
        )
        .await
        .unwrap();
        db.close().await;
        let room = app.resource(&admin, "Room").await;
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        assert!(outbox(&app, "bob@example.com").await.is_empty());
        assert_eq!(metric(&app, "emails_sent_total").await, 0.0);
    }
}
