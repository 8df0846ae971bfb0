//! The waitlist: offers made by the resource's actor when a slot frees, held for their period,
//! passed on at expiry, accepted without any possible conflict, re-armed after a restart; a slot
//! freed out of the actor's sight is offered when the actor next loads.

use std::sync::Arc;
use std::time::Duration;

use reserver_actors::ManualClock;
use resource_reserver::params;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;
use crate::support::timers::eventually;

const TEN: &str = "2030-01-01T10:00:00Z";
const ELEVEN: &str = "2030-01-01T11:00:00Z";

async fn join(app: &TestApp, user: &crate::support::TestUser, room: i64, flexible: bool) -> Value {
    let body = json!({"resource_id": room, "desired_start": TEN, "desired_end": ELEVEN, "flexible_time": flexible});
    let response = app.post_json_as(user, "/api/v1/waitlist", &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// A new server on `app`'s database and clock, with nothing in memory (`app` is stopped).
async fn restarted(app: TestApp, clock: &Arc<ManualClock>) -> TestApp {
    let database = app.stop().await;
    TestApp::builder(database.backend())
        .database(database)
        .manual_clock(clock.clone())
        .settings(|args| args.access_token_expire_minutes = Some("1440".into()))
        .spawn()
        .await
        .unwrap()
}

async fn entry(app: &TestApp, user: &crate::support::TestUser, id: &Value) -> Value {
    app.get_as(user, &format!("/api/v1/waitlist/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

async fn wait_for_status(app: &TestApp, user: &crate::support::TestUser, id: &Value, status: &str) -> Value {
    eventually(&format!("entry {id} {status}"), || async {
        let entry = entry(app, user, id).await;
        (entry["status"] == status).then_some(entry)
    })
    .await
}

both_backends! {
    #[app(clock, long_tokens)]
    async fn a_freed_slot_is_offered_held_and_passed_on_at_expiry(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (alice, bob, carol, dave) = (app.user("alice").await, app.user("bob").await, app.user("carol").await, app.user("dave").await);
        let room = app.resource(&admin, "Room 1").await;
        let booked: Value = app.book(&alice, room, TEN, ELEVEN).await.json().await.unwrap();
        let bobs = join(&app, &bob, room, false).await;
        assert_eq!((bobs["status"].as_str(), bobs["position"].as_i64()), (Some("waiting"), Some(1)));
        let carols = join(&app, &carol, room, false).await;
        assert_eq!(carols["position"], 2);
        let duplicate = app.post_json_as(&bob, "/api/v1/waitlist", &json!({"resource_id": room, "desired_start": TEN, "desired_end": ELEVEN})).await;
        assert_eq!(duplicate.status(), 400);

        let cancel = app.post_json_as(&alice, &format!("/api/v1/reservations/{}/cancel", booked["id"]), &json!({})).await;
        assert_eq!(cancel.status(), 200);
        let offered = entry(&app, &bob, &bobs["id"]).await;
        assert_eq!(offered["status"], "offered", "the cancellation and the offer are one step");
        assert_eq!(offered["offer_expires_at"], "2030-01-01T09:30:00Z", "30 minutes to accept");
        assert_eq!(app.book(&dave, room, TEN, ELEVEN).await.status(), 409, "the offered slot is held");
        assert_eq!(entry(&app, &carol, &carols["id"]).await["status"], "waiting");

        clock.advance(Duration::from_secs(31 * 60));
        wait_for_status(&app, &carol, &carols["id"], "offered").await;
        assert_eq!(entry(&app, &bob, &bobs["id"]).await["status"], "expired");
        let late = app.post_json_as(&bob, &format!("/api/v1/waitlist/{}/accept", bobs["id"]), &json!({})).await;
        assert_eq!(late.status(), 410, "an expired offer is gone");

        let accepted = app.post_json_as(&carol, &format!("/api/v1/waitlist/{}/accept", carols["id"]), &json!({})).await;
        assert_eq!(accepted.status(), 201);
        let reservation: Value = accepted.json().await.unwrap();
        assert_eq!((reservation["status"].as_str(), reservation["user_id"].as_i64()), (Some("active"), Some(carol.id)));
        assert_eq!(entry(&app, &carol, &carols["id"]).await["status"], "fulfilled");
        assert_eq!(app.stored_reservations("active").await, 1);
        // Nobody else can see, leave or accept Carol's entry.
        assert_eq!(app.get_as(&dave, &format!("/api/v1/waitlist/{}", carols["id"])).await.status(), 404);
    }

    #[app(clock, long_tokens)]
    async fn accepting_never_loses_to_a_racing_booking(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (alice, bob) = (app.user("alice").await, app.user("bob").await);
        let mut others = Vec::new();
        for i in 0..8 {
            others.push(app.user(&format!("other{i}")).await);
        }
        let room = app.resource(&admin, "Room 1").await;
        let booked: Value = app.book(&alice, room, TEN, ELEVEN).await.json().await.unwrap();
        let bobs = join(&app, &bob, room, false).await;
        app.post_json_as(&alice, &format!("/api/v1/reservations/{}/cancel", booked["id"]), &json!({})).await;
        let app = &app;
        let accept = async { app.post_json_as(&bob, &format!("/api/v1/waitlist/{}/accept", bobs["id"]), &json!({})).await.status().as_u16() };
        let grabs = others.iter().map(|other| async move { app.book(other, room, TEN, ELEVEN).await.status().as_u16() });
        let (accepted, grabbed) = futures::join!(accept, futures::future::join_all(grabs));
        assert_eq!(accepted, 201);
        assert!(grabbed.iter().all(|s| *s == 409), "{grabbed:?}");
        assert_eq!(app.stored_reservations("active").await, 1);
        let _ = clock;
    }

    #[app(clock, long_tokens)]
    async fn an_offer_survives_a_restart_and_still_expires_on_time(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
        let room = app.resource(&admin, "Room 1").await;
        let booked: Value = app.book(&alice, room, TEN, ELEVEN).await.json().await.unwrap();
        let bobs = join(&app, &bob, room, false).await;
        let carols = join(&app, &carol, room, false).await;
        app.post_json_as(&alice, &format!("/api/v1/reservations/{}/cancel", booked["id"]), &json!({})).await;
        assert_eq!(entry(&app, &bob, &bobs["id"]).await["status"], "offered");

        // Restart: a new server on the same database and clock, nothing in memory.
        let app = restarted(app, &clock).await;
        clock.advance(Duration::from_secs(29 * 60));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(entry(&app, &bob, &bobs["id"]).await["status"], "offered", "not before its time");
        clock.advance(Duration::from_secs(2 * 60));
        wait_for_status(&app, &carol, &carols["id"], "offered").await;
        assert_eq!(entry(&app, &bob, &bobs["id"]).await["status"], "expired");
    }

    #[app(clock, long_tokens)]
    /// Another node's cancellation this server's actor never saw (changed in the database, no
    /// outbox row): a server that starts loads the resources with someone waiting, and the
    /// waiting entry is offered the free slot before any request touches the room.
    async fn a_slot_freed_out_of_the_actors_sight_is_offered_when_the_server_starts(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (alice, bob) = (app.user("alice").await, app.user("bob").await);
        let room = app.resource(&admin, "Room 1").await;
        let booked: Value = app.book(&alice, room, TEN, ELEVEN).await.json().await.unwrap();
        let bobs = join(&app, &bob, room, false).await;
        assert_eq!(bobs["status"], "waiting");
        let cancel = "UPDATE reservations SET status = 'cancelled' WHERE id = $1";
        app.behind_the_servers_back(cancel, params![booked["id"].as_i64().unwrap()]).await;
        assert_eq!(entry(&app, &bob, &bobs["id"]).await["status"], "waiting", "nothing has offered it yet");

        // Restart: nobody reads the room, yet its actor loads and offers what is free.
        let app = restarted(app, &clock).await;
        let stored = "SELECT status FROM waitlist WHERE id = $1";
        let entry_id = bobs["id"].as_i64().unwrap();
        eventually("the entry offered in the database", || async {
            let row = app.stored_row(stored, params![entry_id]).await;
            (row.get::<String>("status").unwrap() == "offered").then_some(())
        })
        .await;
        let offered = entry(&app, &bob, &bobs["id"]).await;
        assert_eq!(offered["status"], "offered");
        assert_eq!((offered["offered_start"].as_str(), offered["offered_end"].as_str()), (Some(TEN), Some(ELEVEN)));
        assert_eq!(offered["offer_expires_at"], "2030-01-01T09:30:00Z");
        // Announced: Bob's socket, opened afterwards, finds the offer in the replay.
        let mut bobs_socket = app.ws_with(&bob, "since=0").await;
        let announced = bobs_socket.next_of("waitlist_offer").await;
        assert_eq!(announced["waitlist_id"], bobs["id"]);
        let accepted = app.post_json_as(&bob, &format!("/api/v1/waitlist/{}/accept", bobs["id"]), &json!({})).await;
        assert_eq!(accepted.status(), 201);
        assert_eq!(app.stored_reservations("active").await, 1);
    }

    #[app(clock, long_tokens)]
    async fn leaving_releases_an_offer_to_the_next_person(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
        let room = app.resource(&admin, "Room 1").await;
        let booked: Value = app.book(&alice, room, TEN, ELEVEN).await.json().await.unwrap();
        let bobs = join(&app, &bob, room, false).await;
        let carols = join(&app, &carol, room, true).await;
        app.post_json_as(&alice, &format!("/api/v1/reservations/{}/cancel", booked["id"]), &json!({})).await;
        let left = app.delete_as(&bob, &format!("/api/v1/waitlist/{}", bobs["id"])).await;
        assert_eq!(left.status(), 200);
        assert_eq!(left.json::<Value>().await.unwrap()["status"], "cancelled");
        let offered = entry(&app, &carol, &carols["id"]).await;
        assert_eq!(offered["status"], "offered");
        assert_eq!((offered["offered_start"].as_str(), offered["offered_end"].as_str()), (Some(TEN), Some(ELEVEN)));
        assert_eq!(app.delete_as(&bob, &format!("/api/v1/waitlist/{}", bobs["id"])).await.status(), 400, "no longer active");
        let queue: Value = app.get_as(&bob, &format!("/api/v1/waitlist/resource/{room}")).await.json().await.unwrap();
        assert_eq!(queue[0]["user_id"], Value::Null, "others' places show no user");
        let _ = clock;
    }

    async fn a_join_for_a_slot_booked_elsewhere_a_moment_before_waits_in_line(app: TestApp) {
        let admin = app.admin().await;
        let (alice, bob) = (app.user("alice").await, app.user("bob").await);
        let room = app.resource(&admin, "Room 1").await;
        // This server's actor of the room is loaded, with the slot free ...
        assert_eq!(app.get_as(&bob, &format!("/api/v1/resources/{room}/availability")).await.status(), 200);
        // ... when Alice books it through another server.
        let (ten, eleven): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
            (TEN.parse().unwrap(), ELEVEN.parse().unwrap());
        app.behind_the_servers_back(
            "INSERT INTO reservations (user_id, resource_id, start_time, end_time, status, created_at)
             VALUES ($1, $2, $3, $4, 'active', $5)",
            params![alice.id, room, ten, eleven, ten - chrono::Duration::days(1)],
        )
        .await;
        // Bob's join, planned on the stale copy, would be offered the slot at once: the database
        // refuses that hold, the server reloads and puts him in line.
        let joined = join(&app, &bob, room, false).await;
        assert_eq!(joined["status"], "waiting", "{joined}");
        assert_eq!(app.stored_reservations("held").await, 0, "nothing was offered");
    }

    async fn a_slot_freed_for_someone_who_left_elsewhere_is_freed_without_an_offer(app: TestApp) {
        let admin = app.admin().await;
        let (alice, bob) = (app.user("alice").await, app.user("bob").await);
        let room = app.resource(&admin, "Room 1").await;
        let booked: Value = app.book(&alice, room, TEN, ELEVEN).await.json().await.unwrap();
        let bobs = join(&app, &bob, room, false).await;
        // Bob leaves through another server: this one's actor still has him waiting, and would
        // offer him the slot Alice frees.
        let entry_id = bobs["id"].as_i64().unwrap();
        app.behind_the_servers_back("UPDATE waitlist SET status = 'cancelled' WHERE id = $1", params![entry_id]).await;

        let path = format!("/api/v1/reservations/{}/cancel", booked["id"]);
        // The store refuses the offer to Bob's closed entry, and with it the cancellation it came
        // with; the server reloads and cancels again, with no one to offer the slot to.
        assert_eq!(app.post_json_as(&alice, &path, &json!({})).await.status(), 200);
        assert_eq!(app.stored_reservations("active").await, 0, "cancelled");
        assert_eq!(entry(&app, &bob, &bobs["id"]).await["status"], "cancelled", "not offered after leaving");
        assert_eq!(app.stored_reservations("held").await, 0, "nothing was offered");
    }

    #[app(clock, long_tokens)]
    async fn joining_for_a_free_slot_is_an_offer_at_once(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let joined = join(&app, &bob, room, false).await;
        assert_eq!(joined["status"], "offered");
        let accepted = app.post_json_as(&bob, &format!("/api/v1/waitlist/{}/accept", joined["id"]), &json!({})).await;
        assert_eq!(accepted.status(), 201);
        let past = json!({"resource_id": room, "desired_start": "2029-01-01T10:00:00Z", "desired_end": "2029-01-01T11:00:00Z"});
        assert_eq!(app.post_json_as(&bob, "/api/v1/waitlist", &past).await.status(), 422);
        let unknown = json!({"resource_id": 9999, "desired_start": TEN, "desired_end": ELEVEN});
        assert_eq!(app.post_json_as(&bob, "/api/v1/waitlist", &unknown).await.status(), 404);
        let _ = clock;
    }
}
