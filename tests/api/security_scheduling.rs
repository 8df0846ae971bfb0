//! Attacks on scheduling, performed on SQLite and PostgreSQL (docs/src/security.md).
//!
//! - Approval: every path to a booking on a resource that requires approval (a confirmed hold,
//!   an accepted waitlist offer, a moved booking) waits for the approver, as a booking does.
//! - Privacy: anonymous callers see busy intervals without names; with
//!   `RESERVATION_NAMES_VISIBLE=privileged` a signed-in stranger sees none either; a rejection's
//!   reason reaches the requester only, not the resource's subscribers.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::booking::at;
use crate::support::{TestApp, TestUser};

const TEN: &str = "2030-01-01T10:00:00Z";
const ELEVEN: &str = "2030-01-01T11:00:00Z";

/// A resource whose bookings wait for `approver`.
async fn approval_room(app: &TestApp, admin: &TestUser, approver: &TestUser) -> i64 {
    let room = app.resource(admin, "Board room").await;
    let settings = json!({"requires_approval": true, "default_approver_id": approver.id});
    let response = app
        .put_json_as(
            admin,
            &format!("/api/v1/approvals/resources/{room}/settings"),
            &settings,
        )
        .await;
    assert_eq!(response.status(), 200);
    room
}

/// The approver's pending request for `reservation`, if any.
async fn pending_request(app: &TestApp, approver: &TestUser, reservation: i64) -> Option<Value> {
    let pending: Value = app
        .get_as(approver, "/api/v1/approvals/pending")
        .await
        .json()
        .await
        .unwrap();
    pending["pending_approvals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|request| request["reservation_id"] == reservation)
        .cloned()
}

/// Answers the pending request for `reservation`; `reason` rejects it.
async fn answer(app: &TestApp, approver: &TestUser, reservation: i64, reason: Option<&str>) {
    let request = pending_request(app, approver, reservation)
        .await
        .expect("a pending request");
    let body = match reason {
        None => json!({"action": "approve"}),
        Some(reason) => json!({"action": "reject", "response_message": reason}),
    };
    let path = format!("/api/v1/approvals/{}/respond", request["id"]);
    assert_eq!(app.post_json_as(approver, &path, &body).await.status(), 200);
}

fn instant(time: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(time.as_str().expect("a time")).expect("RFC 3339")
}

/// The reservation as its owner reads it.
async fn reservation(app: &TestApp, owner: &TestUser, id: i64) -> Value {
    app.get_as(owner, &format!("/api/v1/reservations/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

both_backends! {
    async fn confirming_a_hold_on_an_approval_resource_waits_for_the_approver(app: TestApp) {
        let admin = app.admin().await;
        let (approver, bob) = (app.user("mia").await, app.user("bob").await);
        let room = approval_room(&app, &admin, &approver).await;
        let hold = json!({"resource_id": room, "start_time": at(10, 0), "end_time": at(11, 0)});
        let placed = app.post_json_as(&bob, "/api/v1/holds", &hold).await;
        assert_eq!(placed.status(), 201);
        let id = placed.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

        let confirmed = app.post_json_as(&bob, &format!("/api/v1/holds/{id}/confirm"), &json!({})).await;
        assert_eq!(confirmed.status(), 201);
        assert_eq!(confirmed.json::<Value>().await.unwrap()["status"], "pending_approval");
        assert_eq!(app.stored_reservations("active").await, 0, "no active booking without approval");
        assert!(pending_request(&app, &approver, id).await.is_some(), "the approver is asked");

        answer(&app, &approver, id, None).await;
        assert_eq!(reservation(&app, &bob, id).await["status"], "active");
    }

    async fn accepting_a_waitlist_offer_on_an_approval_resource_waits_for_the_approver(app: TestApp) {
        let admin = app.admin().await;
        let (approver, bob) = (app.user("mia").await, app.user("bob").await);
        let room = approval_room(&app, &admin, &approver).await;
        // The slot is free: joining its waitlist is an offer at once.
        let entry = json!({"resource_id": room, "desired_start": at(10, 0), "desired_end": at(11, 0)});
        let joined: Value = app.post_json_as(&bob, "/api/v1/waitlist", &entry).await.json().await.unwrap();
        assert_eq!(joined["status"], "offered");

        let accepted = app.post_json_as(&bob, &format!("/api/v1/waitlist/{}/accept", joined["id"]), &json!({})).await;
        assert_eq!(accepted.status(), 201);
        let booking: Value = accepted.json().await.unwrap();
        assert_eq!(booking["status"], "pending_approval");
        assert_eq!(app.stored_reservations("active").await, 0, "no active booking without approval");
        let id = booking["id"].as_i64().unwrap();
        assert!(pending_request(&app, &approver, id).await.is_some(), "the approver is asked");
        let fulfilled: Value = app.get_as(&bob, &format!("/api/v1/waitlist/{}", joined["id"])).await.json().await.unwrap();
        assert_eq!(fulfilled["status"], "fulfilled");
    }

    async fn moving_an_approved_booking_waits_for_the_approver_again(app: TestApp) {
        let admin = app.admin().await;
        let (approver, bob) = (app.user("mia").await, app.user("bob").await);
        let room = approval_room(&app, &admin, &approver).await;
        let booked = app.book(&bob, room, &at(10, 0), &at(11, 0)).await;
        assert_eq!(booked.status(), 201);
        let id = booked.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        answer(&app, &approver, id, None).await;
        assert_eq!(reservation(&app, &bob, id).await["status"], "active");

        // Another slot, and another length: each is a new claim the approver has not seen.
        for (start, end) in [(at(14, 0), at(15, 0)), (at(14, 0), at(18, 0))] {
            let moved = app
                .patch_json_as(&bob, &format!("/api/v1/reservations/{id}"), &json!({"start_time": &start, "end_time": &end}))
                .await;
            assert_eq!(moved.status(), 200);
            let moved: Value = moved.json().await.unwrap();
            assert_eq!(moved["status"], "pending_approval");
            assert_eq!(instant(&moved["end_time"]), instant(&json!(end)), "moved");
            assert_eq!(app.stored_reservations("active").await, 0, "no active booking without approval");
            answer(&app, &approver, id, None).await;
            assert_eq!(reservation(&app, &bob, id).await["status"], "active");
        }
    }

    async fn a_rejection_reason_reaches_the_requester_only(app: TestApp) {
        let admin = app.admin().await;
        let (approver, bob, eve) = (app.user("mia").await, app.user("bob").await, app.user("eve").await);
        let room = approval_room(&app, &admin, &approver).await;
        let mut bobs = app.ws(&bob).await;
        let mut eves = app.ws_with(&eve, &format!("resources={room}")).await;

        let booked = app.book(&bob, room, &at(10, 0), &at(11, 0)).await;
        let id = booked.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let created = eves.next_of("reservation_created").await;
        assert_eq!(created["reservation_id"], id);
        for identity in ["user_id", "username", "user_name", "requester"] {
            assert!(created.get(identity).is_none(), "a subscriber learns no names: {created}");
        }
        answer(&app, &approver, id, Some("Bob misused the room last time")).await;

        let told = bobs.next_of("reservation_rejected").await;
        assert_eq!((told["reservation_id"].as_i64(), told["reason"].as_str()), (Some(id), Some("Bob misused the room last time")));
        let watched = eves.next_of("reservation_rejected").await;
        assert_eq!((watched["reservation_id"].as_i64(), watched["status"].as_str()), (Some(id), Some("rejected")));
        assert!(watched.get("reason").is_none() && watched.get("owner_only").is_none(), "{watched}");

        // Resuming replays the event from the outbox by the same rule.
        let mut replayed = app.ws_with(&eve, &format!("resources={room}&since=0")).await;
        let again = replayed.next_of("reservation_rejected").await;
        assert_eq!(again["seq"], watched["seq"]);
        assert!(again.get("reason").is_none() && again.get("owner_only").is_none(), "{again}");
        let mut bobs_replay = app.ws_with(&bob, "since=0").await;
        assert_eq!(bobs_replay.next_of("reservation_rejected").await["reason"], "Bob misused the room last time");
        let notices: Value = app.get_as(&bob, "/api/v1/notifications").await.json().await.unwrap();
        assert!(notices.to_string().contains("Bob misused the room last time"), "the requester's notice keeps it: {notices}");
    }
}

/// What an anonymous caller or a stranger reads about `room` while `owner`'s booking is in
/// progress: the `user_id` and `user_name` of the schedule entries (both schedule reads), the
/// current user of the list, search, the resource and its status.
async fn names_shown(app: &TestApp, caller: Option<&TestUser>, room: i64) -> Vec<Value> {
    let get = |path: String| async move {
        let response = match caller {
            Some(user) => app.get_as(user, &path).await,
            None => app.get(&path).await,
        };
        assert_eq!(response.status(), 200, "{path}");
        response.json::<Value>().await.unwrap()
    };
    let mut shown = Vec::new();
    for read in ["schedule", "availability"] {
        let body = get(format!("/api/v1/resources/{room}/{read}")).await;
        let entry = &body["data"]["reservations"][0];
        assert_eq!(entry["start_time"], TEN, "the busy interval is shown: {body}");
        shown.push(entry["user_id"].clone());
        shown.push(entry["user_name"].clone());
    }
    for path in [
        "/api/v1/resources".to_owned(),
        "/api/v1/resources/search?status=in_use".to_owned(),
    ] {
        let body = get(path).await;
        assert_eq!(body["data"][0]["status"], "in_use", "{body}");
        shown.push(body["data"][0]["current_user_name"].clone());
    }
    let one = get(format!("/api/v1/resources/{room}")).await;
    assert_eq!(one["status"], "in_use");
    shown.push(one["current_user_name"].clone());
    let status = get(format!("/api/v1/resources/{room}/status")).await;
    assert_eq!(status["is_currently_in_use"], true);
    shown.push(status["current_reservation"]["user_id"].clone());
    shown
}

/// A booking of `owner` in progress (10:00–11:00, the clock moved to 10:30); then `users` sign in
/// again, their tokens having expired meanwhile.
async fn booking_in_progress(
    app: &TestApp,
    clock: &reserver_actors::ManualClock,
    owner: &TestUser,
    room: i64,
    users: [&TestUser; 3],
) -> [TestUser; 3] {
    assert_eq!(app.book(owner, room, TEN, ELEVEN).await.status(), 201);
    clock.advance(Duration::from_secs(90 * 60));
    let mut signed_in = Vec::new();
    for user in users {
        signed_in.push(app.login_again(user).await);
    }
    signed_in.try_into().expect("three users")
}

fn names_of(user: &TestUser) -> Vec<Value> {
    let (id, name) = (json!(user.id), json!(user.username));
    vec![
        id.clone(),
        name.clone(),
        id.clone(),
        name.clone(),
        name.clone(),
        name.clone(),
        name,
        id,
    ]
}

const NO_NAMES: [Value; 8] = [
    Value::Null,
    Value::Null,
    Value::Null,
    Value::Null,
    Value::Null,
    Value::Null,
    Value::Null,
    Value::Null,
];

both_backends! {
    #[app(clock)]
    async fn anonymous_callers_see_busy_intervals_without_names(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let room = app.resource(&admin, "Room 1").await;
        let [_, bob, eve] = booking_in_progress(&app, &clock, &bob, room, [&admin, &bob, &eve]).await;

        assert_eq!(names_shown(&app, None, room).await, NO_NAMES, "anonymous");
        let mut forged = eve.token.clone();
        forged.pop();
        let forged = TestUser { token: forged, ..eve.clone() };
        assert_eq!(names_shown(&app, Some(&forged), room).await, NO_NAMES, "an invalid token is anonymous");
        // By default every signed-in user sees who booked, as offices expect.
        assert_eq!(names_shown(&app, Some(&eve), room).await, names_of(&bob), "signed in");
    }
}

both_backends! {
    #[app(clock, settings(|args| args.reservation_names_visible = Some("privileged".into())))]
    async fn with_privileged_names_a_signed_in_stranger_sees_none(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let room = app.resource(&admin, "Room 1").await;
        let [admin, bob, eve] = booking_in_progress(&app, &clock, &bob, room, [&admin, &bob, &eve]).await;

        assert_eq!(names_shown(&app, Some(&eve), room).await, NO_NAMES, "a stranger");
        assert_eq!(names_shown(&app, Some(&bob), room).await, names_of(&bob), "the owner sees their own");
        assert_eq!(names_shown(&app, Some(&admin), room).await, names_of(&bob), "reservation:read_any");
        assert_eq!(names_shown(&app, None, room).await, NO_NAMES, "anonymous");
    }
}
