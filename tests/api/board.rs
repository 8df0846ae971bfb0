//! `GET /api/v1/board`: each resource's state now (free, busy, maintenance, closed, disabled)
//! with how long it lasts, agreeing with what a booking gets; back-to-back bookings as one busy
//! run; names only as `RESERVATION_NAMES_VISIBLE` allows; the cap on the resources asked for.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::{TestApp, TestUser};

// The clock starts at Tuesday 2030-01-01 09:00 UTC.
const NOW: &str = "2030-01-01T09:00:00Z";

async fn board(app: &TestApp, user: Option<&TestUser>, query: &str) -> Value {
    let path = format!("/api/v1/board{query}");
    let response = match user {
        Some(user) => app.get_as(user, &path).await,
        None => app.get(&path).await,
    };
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

/// The tile of `id` on the board of every resource (as anonymous).
async fn tile(app: &TestApp, id: i64) -> Value {
    let board = board(app, None, "").await;
    board["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|tile| tile["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("resource {id} is not on the board: {board}"))
}

fn summary(tile: &Value) -> Value {
    json!({
        "state": tile["state"],
        "free_until": tile["free_until"],
        "busy_until": tile["busy_until"],
        "maintenance_until": tile["maintenance_until"],
        "opens_at": tile["opens_at"],
        "closed_reason": tile["closed_reason"],
    })
}

fn state(state: &str, field: &str, until: Value) -> Value {
    let mut expected = json!({
        "state": state, "free_until": null, "busy_until": null, "maintenance_until": null,
        "opens_at": null, "closed_reason": null,
    });
    if !field.is_empty() {
        expected[field] = until;
    }
    expected
}

fn times(booking: &Value) -> (String, String) {
    (
        booking["start_time"].as_str().unwrap_or_default().to_owned(),
        booking["end_time"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn hours(app: &TestApp, admin: &TestUser, room: i64, open: &str, close: &str) {
    let week: Vec<Value> = (0..7)
        .map(|day| json!({"day_of_week": day, "open_time": open, "close_time": close}))
        .collect();
    let path = format!("/api/v1/resources/{room}/business-hours");
    let response = app.put_json_as(admin, &path, &json!({ "hours": week })).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
}

both_backends! {
    #[app(clock, long_tokens)]
    async fn each_state_says_until_when(app: TestApp, _clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let free = app.create_resource(&admin, json!({"name": "Free", "tags": ["floor-1"], "timezone": "Europe/Berlin"})).await;
        let until_closing = app.resource(&admin, "Until closing").await;
        hours(&app, &admin, until_closing, "08:00", "17:00").await;
        let later = app.resource(&admin, "Opens later").await;
        hours(&app, &admin, later, "12:00", "18:00").await;
        let blackout = app.resource(&admin, "Blackout").await;
        let path = format!("/api/v1/resources/{blackout}/blackout-dates");
        assert_eq!(app.post_json_as(&admin, &path, &json!({"date": "2030-01-01", "reason": "Inventory"})).await.status(), 201);
        let maintained = app.resource(&admin, "Maintained").await;
        let path = format!("/api/v1/resources/{maintained}/status/unavailable?auto_reset_hours=2");
        assert_eq!(app.put_json_as(&admin, &path, &json!({})).await.status(), 200);
        let disabled = app.resource(&admin, "Disabled").await;
        let path = format!("/api/v1/resources/{disabled}/availability");
        assert_eq!(app.put_json_as(&admin, &path, &json!({"available": false})).await.status(), 200);
        let booked = app.resource(&admin, "Booked").await;
        assert_eq!(app.book(&bob, booked, "2030-01-01T11:00:00Z", "2030-01-01T12:00:00Z").await.status(), 201);

        let shown = tile(&app, free).await;
        assert_eq!(summary(&shown), state("free", "", Value::Null), "free beyond the horizon");
        assert_eq!((shown["name"].clone(), shown["timezone"].clone(), shown["tags"].clone()), (json!("Free"), json!("Europe/Berlin"), json!(["floor-1"])));
        assert_eq!((shown["current"].clone(), shown["next"].clone()), (Value::Null, Value::Null));
        assert_eq!(summary(&tile(&app, until_closing).await), state("free", "free_until", json!("2030-01-01T17:00:00Z")));
        let closed = tile(&app, later).await;
        assert_eq!(summary(&closed), json!({
            "state": "closed", "free_until": null, "busy_until": null, "maintenance_until": null,
            "opens_at": "2030-01-01T12:00:00Z", "closed_reason": "closed",
        }));
        let closed = tile(&app, blackout).await;
        assert_eq!((closed["state"].clone(), closed["closed_reason"].clone(), closed["blackout_reason"].clone()), (json!("closed"), json!("blackout"), json!("Inventory")));
        assert_eq!(closed["opens_at"], "2030-01-02T00:00:00Z", "the day after the blackout date");
        assert_eq!(summary(&tile(&app, maintained).await), state("maintenance", "maintenance_until", json!("2030-01-01T11:00:00Z")));
        assert_eq!(summary(&tile(&app, disabled).await), state("disabled", "", Value::Null));
        let shown = tile(&app, booked).await;
        assert_eq!(summary(&shown), state("free", "free_until", json!("2030-01-01T11:00:00Z")));
        assert_eq!(times(&shown["next"]), ("2030-01-01T11:00:00Z".into(), "2030-01-01T12:00:00Z".into()));
        assert_eq!(shown["next"]["status"], "active");

        // What the board calls free takes a booking, what it calls anything else refuses one.
        let (start, end) = ("2030-01-01T09:30:00Z", "2030-01-01T10:00:00Z");
        for (room, status) in [(until_closing, 201), (later, 409), (blackout, 409), (maintained, 409), (disabled, 400)] {
            let response = app.book(&bob, room, start, end).await;
            assert_eq!(response.status(), status, "room {room}: {}", response.text().await.unwrap_or_default());
        }
        assert_eq!(summary(&tile(&app, until_closing).await), state("free", "free_until", json!("2030-01-01T09:30:00Z")), "the new booking ends the free time");

        let board = board(&app, None, "").await;
        assert_eq!(board["now"], NOW);
        assert_eq!(board["horizon_end"], "2030-01-02T09:00:00Z");
        assert_eq!((board["has_more"].clone(), board["next_after"].clone()), (json!(false), Value::Null));
    }

    #[app(clock, long_tokens)]
    async fn back_to_back_bookings_are_busy_until_the_last_ends(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room").await;
        let slots = [
            ("2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z"),
            ("2030-01-01T11:00:00Z", "2030-01-01T11:30:00Z"),
            ("2030-01-01T11:30:00Z", "2030-01-01T12:30:00Z"),
            ("2030-01-01T14:00:00Z", "2030-01-01T15:00:00Z"),
        ];
        for (start, end) in slots {
            assert_eq!(app.book(&bob, room, start, end).await.status(), 201);
        }
        assert_eq!(summary(&tile(&app, room).await), state("free", "free_until", json!("2030-01-01T10:00:00Z")));

        clock.advance(Duration::from_secs(90 * 60)); // 10:30
        let shown = tile(&app, room).await;
        assert_eq!(summary(&shown), state("busy", "busy_until", json!("2030-01-01T12:30:00Z")));
        assert_eq!(times(&shown["current"]), (slots[0].0.into(), slots[0].1.into()));
        assert_eq!(times(&shown["next"]), (slots[1].0.into(), slots[1].1.into()));

        clock.advance(Duration::from_secs(60 * 60)); // 11:30, the last of the run started
        let shown = tile(&app, room).await;
        assert_eq!(summary(&shown), state("busy", "busy_until", json!("2030-01-01T12:30:00Z")));
        assert_eq!(times(&shown["current"]), (slots[2].0.into(), slots[2].1.into()));
        assert_eq!(times(&shown["next"]), (slots[3].0.into(), slots[3].1.into()));

        // A cancelled booking ends the run where it was.
        let mine: Value = app.get_as(&bob, "/api/v1/reservations/my").await.json().await.unwrap();
        let last = mine.as_array().or_else(|| mine["data"].as_array()).unwrap().iter()
            .find(|r| r["start_time"] == slots[3].0).unwrap()["id"].as_i64().unwrap();
        let cancelled = app.post_json_as(&bob, &format!("/api/v1/reservations/{last}/cancel"), &json!({"reason": "no"})).await;
        assert_eq!(cancelled.status(), 200);
        clock.advance(Duration::from_secs(60 * 60)); // 12:30
        let shown = tile(&app, room).await;
        assert_eq!(summary(&shown), state("free", "", Value::Null), "nothing left today");
        assert_eq!(shown["next"], Value::Null);
    }

    #[app(clock, long_tokens)]
    async fn names_are_shown_to_signed_in_callers_only(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let eve = app.user("eve").await;
        let room = app.resource(&admin, "Room").await;
        assert_eq!(app.book(&bob, room, "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z").await.status(), 201);
        assert_eq!(app.book(&bob, room, "2030-01-01T12:00:00Z", "2030-01-01T13:00:00Z").await.status(), 201);
        clock.advance(Duration::from_secs(90 * 60));
        let query = format!("?resources={room}");
        let names = |board: &Value| {
            let tile = &board["resources"][0];
            [tile["current"]["user_name"].clone(), tile["current"]["user_id"].clone(), tile["next"]["user_name"].clone()]
        };
        let hidden = [Value::Null, Value::Null, Value::Null];
        let bobs = [json!("bob"), json!(bob.id), json!("bob")];

        let anonymous = board(&app, None, &query).await;
        assert_eq!(anonymous["resources"][0]["state"], "busy");
        assert_eq!(names(&anonymous), hidden, "anonymous: busy, but not who");
        let mut forged = eve.clone();
        forged.token.pop();
        assert_eq!(names(&board(&app, Some(&forged), &query).await), hidden, "an invalid token is anonymous");
        assert_eq!(names(&board(&app, Some(&eve), &query).await), bobs, "signed in (the default rule)");
    }

    #[app(clock, long_tokens, settings(|args| args.reservation_names_visible = Some("privileged".into())))]
    async fn with_privileged_names_only_the_owner_and_admins_see_them(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let eve = app.user("eve").await;
        let room = app.resource(&admin, "Room").await;
        assert_eq!(app.book(&bob, room, "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z").await.status(), 201);
        clock.advance(Duration::from_secs(90 * 60));
        let query = format!("?resources={room}");
        let name = |board: Value| board["resources"][0]["current"]["user_name"].clone();
        assert_eq!(name(board(&app, Some(&eve), &query).await), Value::Null, "a stranger");
        assert_eq!(name(board(&app, Some(&bob), &query).await), "bob", "the owner");
        assert_eq!(name(board(&app, Some(&admin), &query).await), "bob", "reservation:read_any");
        assert_eq!(name(board(&app, None, &query).await), Value::Null, "anonymous");
    }

    async fn a_list_is_capped_and_every_resource_comes_in_pages(app: TestApp) {
        let admin = app.admin().await;
        let first = app.resource(&admin, "First").await;
        // A list: its resources in id order, unknown and repeated ids left out.
        let shown = board(&app, None, &format!("?resources={first},999999,{first}")).await;
        let ids: Vec<i64> = shown["resources"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [first]);
        let thousand = (1..=1000).map(|id| id.to_string()).collect::<Vec<_>>().join(",");
        assert_eq!(app.get(&format!("/api/v1/board?resources={thousand}")).await.status(), 200);
        let response = app.get(&format!("/api/v1/board?resources={thousand},1001")).await;
        assert_eq!(response.status(), 422, "over the cap");
        let body: Value = response.json().await.unwrap();
        assert!(body["detail"][0]["msg"].as_str().unwrap().contains("at most 1000 resources"), "{body}");
        assert_eq!(app.get("/api/v1/board?resources=1,two").await.status(), 422);
        assert_eq!(app.get("/api/v1/board?resources=1&after=3").await.status(), 422);

        // 1,001 resources: a page of 1,000, then the last one.
        let mut csv = String::from("name\n");
        for n in 0..1000 {
            csv.push_str(&format!("Desk {n}\n"));
        }
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::text(csv).file_name("desks.csv").mime_str("text/csv").unwrap());
        let imported = app.request_as(&admin, reqwest::Method::POST, "/api/v1/resources/upload").multipart(form).send().await.unwrap();
        assert_eq!(imported.status(), 200);
        let page = board(&app, None, "").await;
        assert_eq!(page["resources"].as_array().unwrap().len(), 1000);
        assert_eq!(page["has_more"], true);
        let after = page["next_after"].as_i64().unwrap();
        assert_eq!(page["resources"][999]["id"], after);
        let rest = board(&app, None, &format!("?after={after}")).await;
        assert_eq!(rest["resources"].as_array().unwrap().len(), 1);
        assert_eq!((rest["has_more"].clone(), rest["next_after"].clone()), (json!(false), Value::Null));
    }
}
