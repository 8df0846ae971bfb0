//! `/ws`: authentication, the original's message types and fields, who receives what, client
//! messages, probes and metrics, shutdown. Delivery guarantees are in `ws_delivery`.
//!
//! "No one else receives it" is checked without sleeping: after the event under test, a
//! sentinel event that the socket does receive is made, and it must be the next message.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestUser;
use crate::support::booking::at;
use crate::support::ws::{Ending, WsClient};

/// Makes an event only `socket`'s user receives (a booking of their own) and checks that it is
/// the next message: nothing else reached the socket before it.
async fn assert_nothing_before_own_booking(
    app: &crate::support::TestApp,
    user: &TestUser,
    resource: i64,
    hour: i64,
    socket: &mut WsClient,
) {
    let response = app.book(user, resource, &at(hour, 0), &at(hour + 1, 0)).await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let next = socket.next_json().await;
    assert_eq!(
        (next["type"].as_str(), next["reservation_id"].as_i64()),
        (Some("reservation_created"), Some(id)),
        "{next}"
    );
}

fn without_volatile(mut message: Value) -> Value {
    let object = message.as_object_mut().unwrap();
    assert!(object.remove("seq").unwrap().as_i64().unwrap() > 0);
    assert!(object.remove("timestamp").unwrap().as_str().unwrap().ends_with('Z'));
    message
}

both_backends! {
    async fn the_handshake_is_refused_without_a_valid_token(app: TestApp) {
        let bob = app.user("bob").await;
        assert_eq!(app.ws_refusal("").await, 401);
        assert_eq!(app.ws_refusal("token=").await, 401);
        assert_eq!(app.ws_refusal("token=not.a.jwt").await, 401);
        let mut forged = bob.token.clone();
        forged.pop();
        assert_eq!(app.ws_refusal(&format!("token={forged}")).await, 401);
        // A header is not enough either: browsers cannot send one, so only the query counts.
        let response = app.get_as(&bob, "/ws").await;
        assert_eq!(response.status(), 401);
        // Logged out: the session is revoked.
        let logout = app.post_json_as(&bob, "/api/v1/logout", &json!({})).await;
        assert!(logout.status().is_success());
        assert_eq!(app.ws_refusal(&format!("token={}", bob.token)).await, 401);
    }

    async fn a_booking_reaches_every_socket_of_its_owner_and_of_the_resource_subscribers_only(app: TestApp) {
        let admin = app.admin().await;
        let (bob, alice, carol) = (app.user("bob").await, app.user("alice").await, app.user("carol").await);
        let mut bob_phone = app.ws(&bob).await;
        let mut bob_laptop = app.ws(&bob).await;
        let mut alice_socket = app.ws(&alice).await;
        let mut carol_socket = app.ws(&carol).await;
        let room = app.resource(&admin, "Room 1").await;
        let other = app.resource(&admin, "Room 2").await;
        for socket in [&mut bob_phone, &mut bob_laptop, &mut alice_socket, &mut carol_socket] {
            for resource in [room, other] {
                assert_eq!(socket.next_of("resource_created").await["resource_id"], resource);
            }
        }
        carol_socket.subscribe(json!({"resources": [room]})).await;

        let response = app.book(&bob, room, &at(10, 0), &at(11, 0)).await;
        assert_eq!(response.status(), 201);
        let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let expected = json!({
            "type": "reservation_created",
            "reservation_id": id,
            "resource_id": room,
            "start_time": at(10, 0),
            "end_time": at(11, 0),
        });
        let first = bob_phone.next_json().await;
        assert_eq!(without_volatile(first.clone()), expected);
        assert_eq!(bob_laptop.next_json().await, first, "every socket gets the same message");
        let seen_by_subscriber = carol_socket.next_json().await;
        assert_eq!(seen_by_subscriber, first);
        assert!(!seen_by_subscriber.to_string().contains("bob"), "subscribers see no username");

        assert_nothing_before_own_booking(&app, &alice, other, 12, &mut alice_socket).await;
        // Carol's subscription covers Room 1 only.
        assert_nothing_before_own_booking(&app, &carol, room, 14, &mut carol_socket).await;
    }

    async fn a_cancellation_is_announced_to_the_owner_not_the_canceller(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let mut bob_socket = app.ws(&bob).await;
        let mut admin_socket = app.ws(&admin).await;
        let room = app.resource(&admin, "Room 1").await;
        let booked = app.book(&bob, room, &at(10, 0), &at(11, 0)).await.json::<Value>().await.unwrap();
        let id = booked["id"].as_i64().unwrap();
        assert_eq!(bob_socket.next_json().await["type"], "resource_created");
        assert_eq!(bob_socket.next_json().await["type"], "reservation_created");
        assert_eq!(admin_socket.next_json().await["type"], "resource_created");
        let response = app
            .post_json_as(&admin, &format!("/api/v1/reservations/{id}/cancel"), &json!({"reason": "room needed"}))
            .await;
        assert_eq!(response.status(), 200);
        let message = without_volatile(bob_socket.next_json().await);
        assert_eq!(message["type"], "reservation_cancelled");
        assert_eq!(message["reservation_id"], id);
        assert_eq!(message["resource_id"], room);
        assert_eq!(message["status"], "cancelled");
        assert!(message["cancelled_at"].as_str().unwrap().ends_with('Z'));
        assert_nothing_before_own_booking(&app, &admin, room, 20, &mut admin_socket).await;
    }

    async fn resource_and_tag_changes_go_to_everyone_with_the_original_fields(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let mut socket = app.ws(&bob).await;

        let room = app.create_resource(&admin, json!({"name": "Room 1", "tags": ["quiet"]})).await;
        let created = without_volatile(socket.next_json().await);
        assert_eq!(created["type"], "resource_created");
        assert_eq!(created["resource_id"], room);
        assert_eq!(created["name"], "Room 1");
        assert_eq!(created["tags"], json!(["quiet"]));

        let put = app.put_json_as(&admin, &format!("/api/v1/resources/{room}"), &json!({"description": "Big"})).await;
        assert_eq!(put.status(), 200);
        assert_eq!(
            without_volatile(socket.next_json().await),
            json!({"type": "resource_updated", "resource_id": room, "name": "Room 1", "description": "Big", "tags": ["quiet"], "timezone": "UTC"})
        );

        let unavailable = app
            .put_json_as(&admin, &format!("/api/v1/resources/{room}/status/unavailable?auto_reset_hours=3"), &json!({}))
            .await;
        assert_eq!(unavailable.status(), 200);
        assert_eq!(
            without_volatile(socket.next_json().await),
            json!({"type": "resource_status_changed", "resource_id": room, "status": "unavailable", "available": true, "auto_reset_hours": 3})
        );
        let available = app.put_json_as(&admin, &format!("/api/v1/resources/{room}/status/available"), &json!({})).await;
        assert_eq!(available.status(), 200);
        assert_eq!(
            without_volatile(socket.next_json().await),
            json!({"type": "resource_status_changed", "resource_id": room, "status": "available", "available": true})
        );
        let disabled = app.put_json_as(&admin, &format!("/api/v1/resources/{room}/availability"), &json!({"available": false})).await;
        assert_eq!(disabled.status(), 200);
        assert_eq!(
            without_volatile(socket.next_json().await),
            json!({"type": "resource_status_changed", "resource_id": room, "status": "available", "available": false})
        );

        let renamed = app
            .put_json_as(&admin, "/api/v1/resources/tags/rename", &json!({"old_name": "quiet", "new_name": "silent"}))
            .await;
        assert_eq!(renamed.status(), 200);
        assert_eq!(
            without_volatile(socket.next_json().await),
            json!({"type": "tag_renamed", "old_name": "quiet", "new_name": "silent", "updated_count": 1})
        );
        let deleted = app.delete_as(&admin, "/api/v1/resources/tags/silent").await;
        assert_eq!(deleted.status(), 200);
        assert_eq!(
            without_volatile(socket.next_json().await),
            json!({"type": "tag_deleted", "name": "silent", "updated_count": 1})
        );

        let gone = app.delete_as(&admin, &format!("/api/v1/resources/{room}")).await;
        assert_eq!(gone.status(), 200);
        assert_eq!(without_volatile(socket.next_json().await), json!({"type": "resource_deleted", "resource_id": room}));
    }

    async fn a_csv_import_announces_each_resource(app: TestApp) {
        let admin = app.admin().await;
        let mut socket = app.ws(&admin).await;
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::text("name,tags\nLab A,x\nLab B,\n").file_name("r.csv"),
        );
        let response = app
            .request_as(&admin, reqwest::Method::POST, "/api/v1/resources/upload")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let names: Vec<Value> = vec![socket.next_json().await["name"].clone(), socket.next_json().await["name"].clone()];
        assert_eq!(names, [json!("Lab A"), json!("Lab B")]);
    }

    async fn a_reschedule_and_a_resource_deletion_announce_what_happened_to_the_booking(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let mut socket = app.ws(&bob).await;
        let room = app.resource(&admin, "Room 1").await;
        let id = app.book(&bob, room, &at(10, 0), &at(11, 0)).await.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        assert_eq!(socket.next_json().await["type"], "resource_created");
        assert_eq!(socket.next_json().await["type"], "reservation_created");
        let moved = app
            .patch_json_as(&bob, &format!("/api/v1/reservations/{id}"), &json!({"start_time": at(12, 0), "end_time": at(13, 0)}))
            .await;
        assert_eq!(moved.status(), 200);
        assert_eq!(
            without_volatile(socket.next_json().await),
            json!({
                "type": "reservation_updated", "reservation_id": id, "resource_id": room, "status": "active",
                "start_time": at(12, 0), "end_time": at(13, 0),
                "previous_start_time": at(10, 0), "previous_end_time": at(11, 0),
            })
        );
        let deleted = app.delete_as(&admin, &format!("/api/v1/resources/{room}?cancel_reservations=true")).await;
        assert_eq!(deleted.status(), 200);
        let cancelled = socket.next_json().await;
        assert_eq!((cancelled["type"].as_str(), cancelled["reservation_id"].as_i64()), (Some("reservation_cancelled"), Some(id)));
        assert_eq!(socket.next_json().await["type"], "resource_deleted");
    }

    async fn subscribing_to_availability_shows_every_booking_and_malformed_frames_get_an_error(app: TestApp) {
        let admin = app.admin().await;
        let (bob, carol) = (app.user("bob").await, app.user("carol").await);
        let mut wall = app.ws(&carol).await;
        let room = app.resource(&admin, "Room 1").await;
        assert_eq!(wall.next_json().await["type"], "resource_created");
        for bad in ["hello", "{}", r#"{"type":"subscribe","resources":["x"]}"#] {
            wall.send_text(bad).await;
            let answer = wall.next_json().await;
            assert_eq!(answer["type"], "error", "{bad}: {answer}");
            assert!(answer["detail"].as_str().unwrap().contains("cannot understand"));
        }
        wall.send_binary(b"\x00\x01").await;
        assert_eq!(wall.next_json().await["type"], "error");
        wall.send_json(json!({"type": "ping"})).await;
        assert_eq!(wall.next_json().await["type"], "pong");

        let ack = wall.subscribe(json!({"availability": true})).await;
        assert_eq!((ack["availability"].as_bool(), ack["resources"].clone()), (Some(true), json!([])));
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        let seen = wall.next_json().await;
        assert_eq!((seen["type"].as_str(), seen["resource_id"].as_i64()), (Some("reservation_created"), Some(room)));

        wall.send_json(json!({"type": "unsubscribe", "availability": true})).await;
        let ack = wall.next_json().await;
        assert_eq!((ack["type"].as_str(), ack["availability"].as_bool()), (Some("unsubscribed"), Some(false)));
        assert_eq!(app.book(&bob, room, &at(12, 0), &at(13, 0)).await.status(), 201);
        assert_nothing_before_own_booking(&app, &carol, room, 14, &mut wall).await;
    }

    async fn ready_and_metrics_count_the_sockets(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let first = app.ws(&bob).await;
        let _second = app.ws(&bob).await;
        let ready: Value = app.get("/ready").await.json().await.unwrap();
        assert_eq!(ready["components"]["websocket"], json!({"status": "healthy", "active_connections": 2}));
        first.close().await;
        let room = app.resource(&admin, "Room 1").await;
        let mut third = app.ws(&bob).await;
        app.book(&bob, room, &at(10, 0), &at(11, 0)).await;
        third.next_json().await;
        let metrics = app.get("/metrics").await.text().await.unwrap();
        for line in ["websocket_connections_active 2", "websocket_connections_total 3", "websocket_slow_clients_dropped_total 0"] {
            assert!(metrics.contains(line), "{line} in\n{metrics}");
        }
        let sent: u64 = metrics
            .lines()
            .find_map(|line| line.strip_prefix("websocket_messages_sent_total "))
            .and_then(|value| value.parse().ok())
            .expect("the sent counter");
        assert!(sent >= 2, "the booking reached both open sockets: {metrics}");
    }
}

both_backends! {
    #[app(clock, long_tokens)]
    async fn expiry_and_maintenance_auto_reset_are_announced(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let mut socket = app.ws(&bob).await;
        let room = app.resource(&admin, "Room 1").await;
        let id = app.book(&bob, room, &at(10, 0), &at(11, 0)).await.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        assert_eq!(socket.next_json().await["type"], "resource_created");
        assert_eq!(socket.next_json().await["type"], "reservation_created");
        // 2030-01-01 09:00 → past the booking's end on 2030-01-07 11:00, a day at a time: the
        // socket lives on day-long tokens, renewed over it.
        for _ in 0..6 {
            clock.advance(Duration::from_secs(23 * 3600));
            renew(&app, &bob, &mut socket).await;
        }
        clock.advance(Duration::from_secs(23 * 3600));
        let admin = app.login_again(&admin).await;
        let expired = without_volatile(socket.next_json().await);
        assert_eq!(expired["type"], "reservation_expired");
        assert_eq!(expired["reservation_id"], id);
        assert_eq!(expired["status"], "expired");
        renew(&app, &bob, &mut socket).await;

        let unavailable = app
            .put_json_as(&admin, &format!("/api/v1/resources/{room}/status/unavailable?auto_reset_hours=1"), &json!({}))
            .await;
        assert_eq!(unavailable.status(), 200);
        assert_eq!(socket.next_json().await["status"], "unavailable");
        clock.advance(Duration::from_secs(3601));
        assert_eq!(
            without_volatile(socket.next_json().await),
            json!({"type": "resource_status_changed", "resource_id": room, "status": "available", "available": true})
        );
    }
}

/// Keeps `socket` open past its token's expiry: a fresh token of `user`, sent over it.
async fn renew(app: &crate::support::TestApp, user: &TestUser, socket: &mut WsClient) {
    let fresh = app.login_again(user).await;
    socket
        .send_json(json!({"type": "authenticate", "token": fresh.token}))
        .await;
    assert_eq!(socket.next_json().await["type"], "authenticated");
}

both_backends! {
    async fn stopping_the_server_closes_sockets_with_a_close_frame(app: TestApp) {
        let bob = app.user("bob").await;
        let mut socket = app.ws(&bob).await;
        let stopping = tokio::spawn(async move { app.stop().await });
        match socket.ending().await {
            Ending::Closed(Some(frame)) => {
                assert_eq!(u16::from(frame.code), 1001);
                assert_eq!(frame.reason.as_str(), "server shutting down");
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
        drop(stopping.await);
    }
}
