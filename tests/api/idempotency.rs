//! `Idempotency-Key` on writes: repeat → first response, nothing more booked.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::booking::at;

fn booking(room: i64, start: &str, end: &str) -> Value {
    json!({"resource_id": room, "start_time": start, "end_time": end})
}

both_backends! {
    async fn a_repeated_write_returns_the_first_response_and_books_once(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let send = |body: Value, key: &'static str| {
            app.request_as(&bob, reqwest::Method::POST, "/api/v1/reservations").header("Idempotency-Key", key).json(&body).send()
        };
        let first = send(booking(room, &at(10, 0), &at(11, 0)), "k-1").await.unwrap();
        assert_eq!(first.status(), 201);
        let first_body: Value = first.json().await.unwrap();
        let again = send(booking(room, &at(10, 0), &at(11, 0)), "k-1").await.unwrap();
        assert_eq!(again.status(), 201, "not a 409: it is the same request");
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert_eq!(again.json::<Value>().await.unwrap(), first_body, "the very same response");
        assert_eq!(app.stored_reservations("active").await, 1);

        let different = send(booking(room, &at(12, 0), &at(13, 0)), "k-1").await.unwrap();
        assert_eq!(different.status(), 422, "same key, different request");
        assert_eq!(app.stored_reservations("active").await, 1);

        // A refused request is remembered too: its retry gets the same 409, not a booking.
        let clash = send(booking(room, &at(10, 30), &at(11, 30)), "k-2").await.unwrap();
        assert_eq!(clash.status(), 409);
        let eve = app.user("eve").await;
        let other_user = app
            .request_as(&eve, reqwest::Method::POST, "/api/v1/reservations")
            .header("Idempotency-Key", "k-1")
            .json(&booking(room, &at(14, 0), &at(15, 0)))
            .send()
            .await
            .unwrap();
        assert_eq!(other_user.status(), 201, "keys belong to their user");
    }

    async fn answers_carrying_secrets_are_never_written_to_the_key_store(app: TestApp) {
        let admin = app.admin().await;
        let send = |path: &'static str, body: Value, key: &'static str| {
            app.request_as(&admin, reqwest::Method::POST, path).header("Idempotency-Key", key).json(&body).send()
        };
        let client = json!({"client_name": "App", "redirect_uris": ["https://app.example/cb"]});
        let created = send("/api/v1/oauth/clients", client, "client-1").await.unwrap();
        assert_eq!(created.status(), 200);
        assert_eq!(created.headers()["cache-control"], "no-store");
        let client_secret = created.json::<Value>().await.unwrap()["client_secret"].as_str().unwrap().to_owned();
        let setup = send("/api/v1/auth/mfa/setup", json!({}), "mfa-1").await.unwrap();
        assert_eq!(setup.status(), 200);
        assert_eq!(setup.headers()["cache-control"], "no-store");
        let totp_secret = setup.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
        let webhook = json!({"url": "https://hooks.example.com/in", "events": ["reservation.created"]});
        let hooked = send("/api/v1/webhooks", webhook, "hook-1").await.unwrap();
        assert_eq!(hooked.status(), 201);
        assert_eq!(hooked.headers()["cache-control"], "no-store");
        let webhook_secret = hooked.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();

        let db = app.database().connect().await;
        let stored = format!("{:?}", db.query("SELECT * FROM idempotency_keys", vec![]).await.unwrap());
        db.close().await;
        assert!(!stored.contains(&client_secret), "the client secret rests in the key store");
        assert!(!stored.contains(&totp_secret), "the TOTP secret rests in the key store");
        assert!(!stored.contains(&webhook_secret), "the webhook secret rests in the key store");
    }

    async fn ten_concurrent_retries_with_one_key_book_once_and_agree(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let body = booking(room, &at(10, 0), &at(11, 0));
        let attempts = (0..10).map(|_| {
            let request = app.request_as(&bob, reqwest::Method::POST, "/api/v1/reservations").header("Idempotency-Key", "same").json(&body);
            async move {
                let response = request.send().await.unwrap();
                (response.status().as_u16(), response.text().await.unwrap())
            }
        });
        let answers = futures::future::join_all(attempts).await;
        assert!(answers.iter().all(|answer| answer == &answers[0]), "{answers:?}");
        assert_eq!(answers[0].0, 201);
        assert_eq!(app.stored_reservations("active").await, 1);
    }

    async fn a_series_is_idempotent_too(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let body = json!({"resource_id": room, "start_time": at(10, 0), "end_time": at(11, 0),
                          "recurrence": {"frequency": "daily", "occurrence_count": 3}});
        for _ in 0..2 {
            let response = app
                .request_as(&bob, reqwest::Method::POST, "/api/v1/reservations/recurring")
                .header("Idempotency-Key", "weekly-sync")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        }
        assert_eq!(app.stored_reservations("active").await, 3);
    }
}

both_backends! {
    #[app(clock)]
    async fn a_retry_after_a_crash_between_commit_and_answer_returns_the_booking(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let body = booking(room, "2030-01-02T10:00:00Z", "2030-01-02T11:00:00Z");
        let send = || app.request_as(&bob, reqwest::Method::POST, "/api/v1/reservations").header("Idempotency-Key", "crash").json(&body).send();
        let first: Value = send().await.unwrap().json().await.unwrap();
        // What a crash after the booking's commit leaves: the claim with the booked ids, no answer.
        let db = app.database().connect().await;
        db.execute("UPDATE idempotency_keys SET response_status = NULL, response_body = NULL", vec![]).await.unwrap();
        db.close().await;
        clock.advance(Duration::from_secs(60));
        let retry = send().await.unwrap();
        assert_eq!(retry.status(), 201);
        let retried: Value = retry.json().await.unwrap();
        assert_eq!(retried["id"], first["id"], "the booking that was made, not a new one");
        assert_eq!(app.stored_reservations("active").await, 1);
    }
}
