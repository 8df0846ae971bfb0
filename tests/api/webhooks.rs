//! Webhooks: business events delivered to a real receiver, signed, to the right owners only;
//! retries driven by the clock and surviving a restart; the management API with its owner
//! checks; the SSRF guard.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reserver_actors::ManualClock;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::timers::{clock_start, eventually};
use crate::support::webhook_receiver::{Received, WebhookReceiver, hooked, hooked_app};
use crate::support::{Backend, TestApp, TestUser};

const TEN: &str = "2030-01-01T10:00:00Z";
const ELEVEN: &str = "2030-01-01T11:00:00Z";

/// Creates a webhook of `user` (201) and returns it, secret included.
async fn webhook(app: &TestApp, user: &TestUser, url: &str, events: &[&str]) -> Value {
    let response = app
        .post_json_as(user, "/api/v1/webhooks", &json!({"url": url, "events": events}))
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn deliveries(app: &TestApp, user: &TestUser, webhook: &Value) -> Vec<Value> {
    let response = app
        .get_as(user, &format!("/api/v1/webhooks/{}/deliveries", webhook["id"]))
        .await;
    assert_eq!(response.status(), 200);
    response.json::<Vec<Value>>().await.unwrap()
}

fn event_types(deliveries: &[Value]) -> Vec<&str> {
    deliveries.iter().map(|d| d["event_type"].as_str().unwrap()).collect()
}

/// The newest delivery of `webhook` once `done` holds for it.
async fn newest_when(app: &TestApp, user: &TestUser, webhook: &Value, done: impl Fn(&Value) -> bool) -> Value {
    eventually(&format!("a delivery of webhook {}", webhook["id"]), || async {
        let newest = deliveries(app, user, webhook).await.into_iter().next()?;
        let path = format!("/api/v1/webhooks/{}/deliveries/{}", webhook["id"], newest["id"]);
        let detail: Value = app.get_as(user, &path).await.json().await.unwrap();
        done(&detail).then_some(detail)
    })
    .await
}

both_backends! {
    #[app(clock, webhook_receiver)]
    async fn bookings_and_cancellations_reach_their_owners_signed(app: TestApp, clock: Arc<ManualClock>, receiver: WebhookReceiver) {
        let admin = app.admin().await;
        let (alice, bob) = (app.user("alice").await, app.user("bob").await);
        let booking_events = ["reservation.created", "reservation.cancelled"];
        let alices = webhook(&app, &alice, &receiver.url("/alice"), &booking_events).await;
        let bobs = webhook(&app, &bob, &receiver.url("/bob"), &booking_events).await;
        let admins = webhook(&app, &admin, &receiver.url("/admin"), &["reservation.created"]).await;
        let muted = webhook(&app, &alice, &receiver.url("/muted"), &booking_events).await;
        let path = format!("/api/v1/webhooks/{}", muted["id"]);
        let patched: Value = app.patch_json_as(&alice, &path, &json!({"is_active": false})).await.json().await.unwrap();
        assert_eq!(patched["is_active"], false);
        let catalogue = webhook(&app, &alice, &receiver.url("/resources"), &["resource.created"]).await;

        let room = app.resource(&admin, "Room 1").await;
        let booked: Value = app.book(&alice, room, TEN, ELEVEN).await.json().await.unwrap();
        let created = receiver.wait_for("/alice", 1).await.remove(0);
        assert!(created.signed_with(alices["secret"].as_str().unwrap()), "signatures verify");
        assert_eq!(created.header("X-Webhook-Event"), "reservation.created");
        assert_eq!(created.header("User-Agent"), "ResourceReserver-Webhook/1.0");
        assert_eq!(created.header("Content-Type"), "application/json");
        assert_eq!(created.header("X-Webhook-Timestamp"), clock_start().timestamp().to_string());
        let raw = String::from_utf8(created.body.clone()).unwrap();
        assert!(raw.starts_with(r#"{"event":"reservation.created","timestamp":"2030-01-01T09:00:00Z","data":{"#), "{raw}");
        let data = &created.json()["data"];
        assert_eq!((&data["reservation_id"], &data["resource_id"]), (&booked["id"], &json!(room)));
        assert_eq!((data["user_id"].as_i64(), data["start_time"].as_str()), (Some(alice.id), Some(TEN)));

        app.post_json_as(&alice, &format!("/api/v1/reservations/{}/cancel", booked["id"]), &json!({})).await;
        let cancelled = receiver.wait_for("/alice", 2).await.remove(1);
        assert_eq!(cancelled.json()["event"], "reservation.cancelled");
        assert_eq!(cancelled.json()["data"]["status"], "cancelled");
        assert_eq!(receiver.wait_for("/admin", 1).await[0].json()["data"]["reservation_id"], booked["id"], "an admin's webhook hears of everyone's");
        assert_eq!(receiver.wait_for("/resources", 1).await[0].json()["data"]["name"], "Room 1");

        // Deliveries are written with the change: what is not there now never will be.
        assert_eq!(deliveries(&app, &bob, &bobs).await, Vec::<Value>::new(), "Bob never hears of Alice's bookings");
        assert_eq!(deliveries(&app, &alice, &muted).await, Vec::<Value>::new(), "an inactive webhook gets nothing");
        assert_eq!(event_types(&deliveries(&app, &alice, &catalogue).await), ["resource.created"], "only what it subscribed to");
        assert_eq!(event_types(&deliveries(&app, &admin, &admins).await), ["reservation.created"]);

        let listed = newest_when(&app, &alice, &alices, |d| d["status"] == "delivered").await;
        let all = deliveries(&app, &alice, &alices).await;
        assert_eq!(event_types(&all), ["reservation.cancelled", "reservation.created"], "newest first");
        assert_eq!(created.header("X-Webhook-Delivery"), all[1]["id"].to_string());
        assert_eq!((listed["status_code"].as_i64(), listed["response_body"].as_str()), (Some(200), Some("answered 200")));
        assert_eq!((listed["payload"]["event"].as_str(), listed["next_retry_at"].clone()), (Some("reservation.cancelled"), Value::Null));
        assert!(receiver.received_on("/bob").is_empty() && receiver.received_on("/muted").is_empty());

        eventually("four deliveries counted", || async {
            let metrics = app.get("/metrics").await.text().await.unwrap();
            metrics.contains("webhook_deliveries_sent_total 4").then_some(())
        })
        .await;
        let _ = clock;
    }

    #[app(clock, webhook_receiver)]
    async fn a_failing_receiver_is_retried_on_the_clock_then_given_up(app: TestApp, clock: Arc<ManualClock>, receiver: WebhookReceiver) {
        let admin = app.admin().await;
        let alice = app.user("alice").await;
        receiver.answer_with(500);
        let hook = webhook(&app, &alice, &receiver.url("/alice"), &["reservation.created"]).await;
        let room = app.resource(&admin, "Room 1").await;
        app.book(&alice, room, TEN, ELEVEN).await;
        let first = newest_when(&app, &alice, &hook, |d| d["retry_count"] == 1).await;
        assert_eq!((first["status"].as_str(), first["status_code"].as_i64()), (Some("pending"), Some(500)));
        assert_eq!((first["error_message"].as_str(), first["response_body"].as_str()), (Some("HTTP 500"), Some("answered 500")));
        assert_eq!(first["next_retry_at"], "2030-01-01T09:01:00Z");

        clock.advance(Duration::from_secs(59));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(receiver.received().len(), 1, "not before its time");
        for (seconds, failures) in [(1, 2), (300, 3), (900, 4), (3600, 5)] {
            clock.advance(Duration::from_secs(seconds));
            newest_when(&app, &alice, &hook, |d| d["retry_count"] == failures).await;
        }
        let given_up = newest_when(&app, &alice, &hook, |d| d["status"] == "failed").await;
        assert_eq!(given_up["next_retry_at"], Value::Null);
        clock.advance(Duration::from_secs(3 * 3600));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let attempts = receiver.received();
        assert_eq!(attempts.len(), 5, "five attempts, then no more");
        let id = given_up["id"].to_string();
        assert!(attempts.iter().all(|a| a.body == attempts[0].body && a.header("X-Webhook-Delivery") == id));

        receiver.answer_with(200);
        let retry = format!("/api/v1/webhooks/{}/deliveries/{}/retry", hook["id"], given_up["id"]);
        let retried: Value = app.post_json_as(&alice, &retry, &json!({})).await.json().await.unwrap();
        assert_eq!(retried, json!({"success": true, "message": "Retry successful", "status": "delivered"}));
        let again = app.post_json_as(&alice, &retry, &json!({})).await;
        assert_eq!(again.status(), 400);
        assert_eq!(again.json::<Value>().await.unwrap()["detail"], "Delivery was already successful");
        let unknown = format!("/api/v1/webhooks/{}/deliveries/999999/retry", hook["id"]);
        assert_eq!(app.post_json_as(&alice, &unknown, &json!({})).await.status(), 404);
    }

    #[app(clock, webhook_receiver)]
    async fn a_pending_retry_survives_a_restart(app: TestApp, clock: Arc<ManualClock>, receiver: WebhookReceiver) {
        let admin = app.admin().await;
        let alice = app.user("alice").await;
        receiver.answer_with(503);
        let hook = webhook(&app, &alice, &receiver.url("/alice"), &["reservation.created"]).await;
        let room = app.resource(&admin, "Room 1").await;
        app.book(&alice, room, TEN, ELEVEN).await;
        newest_when(&app, &alice, &hook, |d| d["retry_count"] == 1).await;

        // A new server on the same database and clock: nothing in memory.
        let backend = app.database().backend();
        let database = app.stop().await;
        receiver.answer_with(200);
        let app = hooked_app(backend, Some(database), clock.clone()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(receiver.received().len(), 1, "the retry waits for its time");
        clock.advance(Duration::from_secs(61));
        let delivered = newest_when(&app, &alice, &hook, |d| d["status"] == "delivered").await;
        assert_eq!((delivered["retry_count"].as_i64(), receiver.received().len()), (Some(1), 2));
    }

    #[app(clock, webhook_receiver)]
    async fn webhooks_are_managed_with_the_originals_shapes(app: TestApp, clock: Arc<ManualClock>, receiver: WebhookReceiver) {
        let alice = app.user("alice").await;
        let events: Vec<Value> = app.get("/api/v1/webhooks/events").await.json().await.unwrap();
        assert_eq!(events.len(), 13, "public, the original's thirteen");
        assert_eq!(events[0], json!({"type": "reservation.created", "description": "A new reservation was created"}));

        let body = json!({"url": receiver.url("/hook"), "events": ["reservation.created", "resource.created"], "description": "mine"});
        let response = app.post_json_as(&alice, "/api/v1/webhooks/", &body).await;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        let secret = created["secret"].as_str().unwrap().to_owned();
        assert!(secret.len() == 43 && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!((created["is_active"].as_bool(), created["description"].as_str()), (Some(true), Some("mine")));
        assert_eq!(created["events"], json!(["reservation.created", "resource.created"]));
        let path = format!("/api/v1/webhooks/{}", created["id"]);
        let fetched: Value = app.get_as(&alice, &path).await.json().await.unwrap();
        assert_eq!(fetched.get("secret"), None, "the secret is shown only once");
        let listed: Vec<Value> = app.get_as(&alice, "/api/v1/webhooks").await.json().await.unwrap();
        assert_eq!(listed, vec![fetched.clone()]);

        let patched: Value = app.patch_json_as(&alice, &path, &json!({"events": ["waitlist.offer"], "description": null})).await.json().await.unwrap();
        assert_eq!((patched["events"].clone(), patched["description"].as_str()), (json!(["waitlist.offer"]), Some("mine")));
        let regenerated: Value = app.post_json_as(&alice, &format!("{path}/regenerate-secret"), &json!({})).await.json().await.unwrap();
        let new_secret = regenerated["secret"].as_str().unwrap();
        assert!(new_secret != secret && new_secret.len() == 43);

        // The test event needs no body (the original's frontend sends none).
        let tested = app.request_as(&alice, Method::POST, &format!("{path}/test")).send().await.unwrap();
        assert_eq!(tested.status(), 200);
        let tested: Value = tested.json().await.unwrap();
        assert_eq!((tested["success"].as_bool(), tested["message"].as_str()), (Some(true), Some("Test webhook delivered successfully")));
        let sent = receiver.wait_for("/hook", 1).await.remove(0);
        assert!(sent.signed_with(new_secret));
        assert_eq!(sent.header("X-Webhook-Delivery"), tested["delivery_id"].to_string());
        let sent = sent.json();
        assert_eq!((sent["event"].as_str(), sent["data"]["test"].as_bool()), (Some("resource.created"), Some(true)));
        assert_eq!((sent["data"]["triggered_by"].as_str(), sent["data"]["webhook_id"].clone()), (Some("alice"), created["id"].clone()));
        let chosen: Value = app.post_json_as(&alice, &format!("{path}/test"), &json!({"event_type": "user.created"})).await.json().await.unwrap();
        assert_eq!(chosen["success"], true);
        assert_eq!(receiver.wait_for("/hook", 2).await[1].header("X-Webhook-Event"), "user.created");
        let example: Value = app.get_as(&alice, "/api/v1/webhooks/signature-example").await.json().await.unwrap();
        assert_eq!((example["algorithm"].as_str(), example["header"].as_str()), (Some("HMAC-SHA256"), Some("X-Webhook-Signature")));

        assert_eq!(app.delete_as(&alice, &path).await.status(), 204);
        assert_eq!(app.get_as(&alice, &path).await.status(), 404);
        let _ = clock;
    }

    #[app(clock, webhook_receiver)]
    async fn bad_inputs_are_refused_and_nothing_is_stored(app: TestApp, clock: Arc<ManualClock>, receiver: WebhookReceiver) {
        let alice = app.user("alice").await;
        let hook = webhook(&app, &alice, &receiver.url("/hook"), &["reservation.created"]).await;
        let url = receiver.url("/hook");
        let long = "x".repeat(256);
        for (body, status, field) in [
            (json!({"url": "ftp://example.com/x", "events": ["reservation.created"]}), 422, Some("url")),
            (json!({"url": "not a url", "events": ["reservation.created"]}), 422, Some("url")),
            (json!({"url": url, "events": []}), 422, Some("events")),
            (json!({"url": url, "events": ["reservation.created"], "description": long}), 422, Some("description")),
            (json!({"events": ["reservation.created"]}), 422, Some("url")),
            (json!({"url": url, "events": ["a", "reservation.created", "b"]}), 400, None),
        ] {
            let response = app.post_json_as(&alice, "/api/v1/webhooks", &body).await;
            assert_eq!(response.status(), status, "{body}");
            let detail = response.json::<Value>().await.unwrap()["detail"].clone();
            match field {
                Some(field) => assert_eq!(detail[0]["loc"], json!(["body", field]), "{body}"),
                None => assert_eq!(detail, "Invalid event types: a, b"),
            }
        }
        let path = format!("/api/v1/webhooks/{}", hook["id"]);
        assert_eq!(app.patch_json_as(&alice, &path, &json!({"events": ["x"]})).await.status(), 400);
        assert_eq!(app.patch_json_as(&alice, &path, &json!({"url": "javascript:alert(1)"})).await.status(), 422);
        let test = app.post_json_as(&alice, &format!("{path}/test"), &json!({"event_type": "nope"})).await;
        assert_eq!(test.status(), 400);
        assert_eq!(test.json::<Value>().await.unwrap()["detail"], "Invalid event type: nope");
        for limit in [0, 101] {
            assert_eq!(app.get_as(&alice, &format!("{path}/deliveries?limit={limit}")).await.status(), 422);
        }
        let listed: Vec<Value> = app.get_as(&alice, "/api/v1/webhooks").await.json().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0]["events"].clone(), listed[0]["url"].as_str()), (json!(["reservation.created"]), Some(url.as_str())));
        assert_eq!(deliveries(&app, &alice, &hook).await, Vec::<Value>::new());
        let _ = clock;
    }

    #[app(clock, webhook_receiver)]
    async fn other_users_get_404_on_every_webhook_route(app: TestApp, clock: Arc<ManualClock>, receiver: WebhookReceiver) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let hook = webhook(&app, &bob, &receiver.url("/bob"), &["reservation.created"]).await;
        let tested: Value = app.post_json_as(&bob, &format!("/api/v1/webhooks/{}/test", hook["id"]), &json!({})).await.json().await.unwrap();
        let base = format!("/api/v1/webhooks/{}", hook["id"]);
        let delivery = format!("{base}/deliveries/{}", tested["delivery_id"]);
        for (method, path) in [
            (Method::GET, base.clone()),
            (Method::PATCH, base.clone()),
            (Method::DELETE, base.clone()),
            (Method::POST, format!("{base}/regenerate-secret")),
            (Method::GET, format!("{base}/deliveries")),
            (Method::POST, format!("{base}/test")),
            (Method::GET, delivery.clone()),
            (Method::POST, format!("{delivery}/retry")),
        ] {
            let response = app.send_json_as(&eve, method.clone(), &path, &json!({"is_active": false})).await;
            assert_eq!(response.status(), 404, "{method} {path}");
            assert_eq!(response.json::<Value>().await.unwrap(), json!({"detail": "Webhook not found"}));
        }
        let listed: Vec<Value> = app.get_as(&eve, "/api/v1/webhooks").await.json().await.unwrap();
        assert!(listed.is_empty());
        assert_eq!(app.get_as(&eve, "/api/v1/webhooks?all=true").await.status(), 403);
        // Nothing eve tried changed it, and an administrator may look after it.
        let seen: Value = app.get_as(&admin, &base).await.json().await.unwrap();
        assert_eq!((seen["is_active"].as_bool(), seen["url"].clone()), (Some(true), hook["url"].clone()));
        let everyone: Vec<Value> = app.get_as(&admin, "/api/v1/webhooks?all=true").await.json().await.unwrap();
        assert_eq!(everyone.len(), 1);
        assert_eq!(receiver.received().len(), 1, "only Bob's own test was sent");
        let _ = clock;
    }

    #[app(clock, webhook_receiver)]
    async fn each_event_reaches_the_webhooks_allowed_to_see_it(app: TestApp, clock: Arc<ManualClock>, receiver: WebhookReceiver) {
        let admin = app.admin().await;
        let (alice, bob) = (app.user("alice").await, app.user("bob").await);
        let everything = ["user.created", "resource.unavailable", "resource.available", "waitlist.offer", "waitlist.accepted", "reservation.created"];
        let admins = webhook(&app, &admin, &receiver.url("/admin"), &everything).await;
        let alices = webhook(&app, &alice, &receiver.url("/alice"), &everything).await;
        let room = app.resource(&admin, "Room 1").await;

        let carol = app.user("carol").await;
        let bookings: Value = app.book(&bob, room, TEN, ELEVEN).await.json().await.unwrap();
        let joined = json!({"resource_id": room, "desired_start": TEN, "desired_end": ELEVEN});
        let entry: Value = app.post_json_as(&alice, "/api/v1/waitlist", &joined).await.json().await.unwrap();
        app.post_json_as(&bob, &format!("/api/v1/reservations/{}/cancel", bookings["id"]), &json!({})).await;
        let accepted = app.post_json_as(&alice, &format!("/api/v1/waitlist/{}/accept", entry["id"]), &json!({})).await;
        assert_eq!(accepted.status(), 201);
        app.put_json_as(&admin, &format!("/api/v1/resources/{room}/status/unavailable?auto_reset_hours=1"), &json!({})).await;

        let alice_heard = deliveries(&app, &alice, &alices).await;
        assert_eq!(event_types(&alice_heard), ["resource.unavailable", "waitlist.accepted", "reservation.created", "waitlist.offer"], "her own, and resources'");
        let admin_heard = deliveries(&app, &admin, &admins).await;
        assert_eq!(
            event_types(&admin_heard),
            ["resource.unavailable", "waitlist.accepted", "reservation.created", "waitlist.offer", "reservation.created", "user.created"],
            "everyone's"
        );
        let offer = newest_when(&app, &alice, &alices, |d| d["status"] == "delivered").await;
        assert_eq!(offer["event_type"], "resource.unavailable");
        let received = receiver.wait_for("/admin", 6).await;
        let new_users: Vec<Value> = received.iter().map(Received::json).filter(|b| b["event"] == "user.created").map(|b| b["data"].clone()).collect();
        assert_eq!(new_users, [json!({"user_id": carol.id, "username": "carol"})], "accounts made after the webhook");
        let on_alice = receiver.wait_for("/alice", 4).await;
        let offered = on_alice.iter().map(Received::json).find(|b| b["event"] == "waitlist.offer").unwrap();
        assert_eq!((offered["data"]["waitlist_id"].clone(), offered["data"]["user_id"].as_i64()), (entry["id"].clone(), Some(alice.id)));
        let _ = clock;
    }
}

both_backends! {
    async fn internal_addresses_are_refused_unless_allowed(app: TestApp) {
        let alice = app.user("alice").await;
        let receiver = WebhookReceiver::start().await;
        let literal = app.post_json_as(&alice, "/api/v1/webhooks", &json!({"url": receiver.url("/x"), "events": ["reservation.created"]})).await;
        assert_eq!(literal.status(), 422);
        let detail = literal.json::<Value>().await.unwrap()["detail"][0]["msg"].clone();
        assert!(detail.as_str().unwrap().contains("127.0.0.1 is a loopback address"), "{detail}");
        assert_eq!(app.get_as(&alice, "/api/v1/webhooks").await.json::<Vec<Value>>().await.unwrap().len(), 0);

        // `localhost` is loopback too (issue 11, 11d); a name that resolves to internal
        // addresses only is refused when connecting: `security_retention.rs`.
        let url = format!("http://localhost:{}/x", receiver.port);
        let named = app.post_json_as(&alice, "/api/v1/webhooks", &json!({"url": url, "events": ["reservation.created"]})).await;
        assert_eq!(named.status(), 422);
        assert!(receiver.received().is_empty(), "no request reached the receiver");
    }
}

/// A process that died between committing a booking and claiming its delivery leaves its event
/// and a pending delivery behind. The process that reads that event (another origin's, so not
/// one that wakes its dispatcher at once) looks for such work a moment later and sends it,
/// without a change of its own to wake it.
#[actix_web::test]
async fn a_delivery_left_by_a_process_that_died_is_sent_by_another() {
    let clock = Arc::new(ManualClock::new(clock_start()));
    let Some(app) = hooked_app(Backend::Postgres, None, clock).await else {
        return;
    };
    let receiver = WebhookReceiver::start().await;
    let admin = app.admin().await;
    let alice = app.user("alice").await;
    let hook = webhook(&app, &alice, &receiver.url("/alice"), &["reservation.created"]).await;
    let room = app.resource(&admin, "Room 1").await;
    assert_eq!(app.book(&alice, room, TEN, ELEVEN).await.status(), 201);
    let first = receiver.wait_for("/alice", 1).await.remove(0);

    // What the dead process committed: a delivery and the event of another origin, copied
    // from this process's (one transaction, as the process's group commit writes them).
    let db = app.database().connect().await;
    let mut tx = db.begin().await.unwrap();
    tx.execute(
        "INSERT INTO webhook_deliveries (webhook_id, event_type, payload, status, created_at, due_at)
         SELECT webhook_id, event_type, payload, 'pending', created_at, created_at FROM webhook_deliveries",
        vec![],
    )
    .await
    .unwrap();
    tx.execute(
        "INSERT INTO events (kind, user_id, resource_id, broadcast, availability, payload, created_at, origin)
         SELECT kind, user_id, resource_id, broadcast, availability, payload, created_at, 'a-process-that-died'
         FROM events WHERE kind = 'reservation_created'",
        vec![],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    db.close().await;

    let sent = receiver.wait_for("/alice", 2).await;
    assert_eq!(sent[1].body, first.body, "the delivery the dead process left");
    let recorded = deliveries(&app, &alice, &hook).await;
    assert_eq!(recorded.len(), 2);
    assert!(recorded.iter().all(|d| d["status"] == "delivered"), "{recorded:?}");
}

/// Two servers on one PostgreSQL database, both woken for every delivery and both timing the
/// same retries: each attempt is made by exactly one of them.
#[actix_web::test]
async fn two_servers_on_one_database_send_each_attempt_once() {
    let clock = Arc::new(ManualClock::new(clock_start()));
    let Some(first) = hooked_app(Backend::Postgres, None, clock.clone()).await else {
        return;
    };
    let second = first.sibling_with(hooked).await;
    let receiver = WebhookReceiver::start().await;
    receiver.answer_with(500);
    let admin = first.admin().await;
    let alice = first.user("alice").await;
    let hook = webhook(&first, &alice, &receiver.url("/alice"), &["reservation.created"]).await;
    let room = first.resource(&admin, "Room 1").await;
    for hour in 10..20 {
        let server = if hour % 2 == 0 { &first } else { &second };
        let (start, end) = (
            format!("2030-01-01T{hour}:00:00Z"),
            format!("2030-01-01T{}:00:00Z", hour + 1),
        );
        assert_eq!(server.book(&alice, room, &start, &end).await.status(), 201);
    }
    eventually("ten first attempts recorded", || async {
        let all = deliveries(&first, &alice, &hook).await;
        (all.len() == 10 && all.iter().all(|d| d["retry_count"] == 1)).then_some(())
    })
    .await;
    receiver.answer_with(200);
    clock.advance(Duration::from_secs(60));
    eventually("ten retries delivered", || async {
        let all = deliveries(&first, &alice, &hook).await;
        all.iter().all(|d| d["status"] == "delivered").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sent: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.header("X-Webhook-Delivery").to_owned())
        .collect();
    assert_eq!(
        sent.len(),
        20,
        "one failure and one success per delivery, nothing twice"
    );
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), 10);
}
