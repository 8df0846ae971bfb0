//! Reads and writes agree on bookability: what `/availability`, `/status`, search and the
//! summary call free or open is what a booking gets, and what they call closed a booking is
//! refused — opening hours and blackout dates included.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::{TestApp, TestUser};

/// The clock stands at Tuesday 2030-01-01 09:00 UTC, 10:00 in Berlin. The room is open
/// Monday to Friday 09:00–17:00 Berlin time (08:00–16:00 UTC in winter), with Thursday
/// 2030-01-03 a blackout date.
async fn berlin_room(app: &TestApp, admin: &TestUser) -> i64 {
    let room = app
        .create_resource(admin, json!({"name": "Berlin room", "timezone": "Europe/Berlin"}))
        .await;
    let hours: Vec<Value> = (0..5)
        .map(|day| json!({"day_of_week": day, "open_time": "09:00", "close_time": "17:00"}))
        .collect();
    let path = format!("/api/v1/resources/{room}/business-hours");
    assert_eq!(
        app.put_json_as(admin, &path, &json!({ "hours": hours })).await.status(),
        200
    );
    let blackout = json!({"date": "2030-01-03", "reason": "Inventory"});
    let path = format!("/api/v1/resources/{room}/blackout-dates");
    assert_eq!(app.post_json_as(admin, &path, &blackout).await.status(), 201);
    room
}

fn period(from: &str, to: &str) -> Value {
    json!({"start_time": from, "end_time": to})
}

fn instant(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

fn wire(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn json_of(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

async fn search(app: &TestApp, from: &str, until: &str) -> Vec<String> {
    let path = format!("/api/v1/resources/search?available_from={from}&available_until={until}");
    let page = json_of(app, &path).await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

both_backends! {
    #[app(clock, long_tokens)]
    async fn the_schedule_shows_closed_and_free_periods_that_bookings_obey(app: TestApp, _clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = berlin_room(&app, &admin).await;
        // Wednesday 10:00–11:00 Berlin is booked.
        assert_eq!(app.book(&bob, room, "2030-01-02T09:00:00Z", "2030-01-02T10:00:00Z").await.status(), 201);

        let data = json_of(&app, &format!("/api/v1/resources/{room}/availability?days_ahead=3")).await["data"].clone();
        assert_eq!(data["reservations"].as_array().unwrap().len(), 1, "the original's fields are kept");
        assert_eq!((data["is_open_now"].clone(), data["is_currently_available"].clone()), (json!(true), json!(true)));
        // Nights and the blackout day (Thursday, 2030-01-02T23:00Z to 2030-01-03T23:00Z) are
        // closed; the window ends at now + 3 days.
        assert_eq!(data["closed_periods"], json!([
            period("2030-01-01T00:00:00Z", "2030-01-01T08:00:00Z"),
            period("2030-01-01T16:00:00Z", "2030-01-02T08:00:00Z"),
            period("2030-01-02T16:00:00Z", "2030-01-04T08:00:00Z"),
        ]));
        assert_eq!(data["free_periods"], json!([
            period("2030-01-01T09:00:00Z", "2030-01-01T16:00:00Z"),
            period("2030-01-02T08:00:00Z", "2030-01-02T09:00:00Z"),
            period("2030-01-02T10:00:00Z", "2030-01-02T16:00:00Z"),
            period("2030-01-04T08:00:00Z", "2030-01-04T09:00:00Z"),
        ]));
        assert_eq!(data["blackout_dates"], json!([{"date": "2030-01-03", "reason": "Inventory"}]));
        let schedule = json_of(&app, &format!("/api/v1/resources/{room}/schedule?days_ahead=3")).await;
        assert_eq!(schedule["data"], data, "/schedule is the same read");

        // The writes agree: every future closed period refuses a booking, every free period
        // takes one.
        for closed in data["closed_periods"].as_array().unwrap().iter().skip(1) {
            let start = instant(&closed["start_time"]);
            let end = start + chrono::Duration::minutes(30);
            let response = app.book(&bob, room, &wire(start), &wire(end)).await;
            assert_eq!(response.status(), 409, "closed at {start}");
        }
        for free in data["free_periods"].as_array().unwrap() {
            let start = instant(&free["start_time"]) + chrono::Duration::minutes(1);
            let end = start + chrono::Duration::minutes(15);
            let response = app.book(&bob, room, &wire(start), &wire(end)).await;
            assert_eq!(response.status(), 201, "free at {start}: {}", response.text().await.unwrap_or_default());
        }

        // A resource without hours is free all the time, and closed never.
        let open = app.create_resource(&admin, json!({"name": "Always open"})).await;
        let data = json_of(&app, &format!("/api/v1/resources/{open}/availability?days_ahead=1")).await["data"].clone();
        assert_eq!(data["closed_periods"], json!([]));
        assert_eq!(data["free_periods"], json!([period("2030-01-01T09:00:00Z", "2030-01-02T09:00:00Z")]));
    }

    #[app(clock, long_tokens)]
    async fn the_blackout_day_shows_nothing_free(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let room = berlin_room(&app, &admin).await;
        // Thursday 2030-01-03 00:30 Berlin: today's window is the blackout day so far.
        clock.advance(Duration::from_secs((24 + 14) * 3600 + 30 * 60));
        let data = json_of(&app, &format!("/api/v1/resources/{room}/availability?days_ahead=0")).await["data"].clone();
        assert_eq!(data["is_open_now"], false);
        assert_eq!(data["is_currently_available"], false);
        let data = json_of(&app, &format!("/api/v1/resources/{room}/availability?days_ahead=1")).await["data"].clone();
        assert_eq!(data["free_periods"], json!([]), "the blackout day, then the night before Friday");
        assert_eq!(data["blackout_dates"], json!([{"date": "2030-01-03", "reason": "Inventory"}]));
    }

    #[app(clock, long_tokens)]
    async fn status_says_closed_outside_the_hours_and_when_it_opens(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = berlin_room(&app, &admin).await;
        let status = json_of(&app, &format!("/api/v1/resources/{room}/status")).await;
        assert_eq!((status["is_open"].clone(), status["closed_reason"].clone()), (json!(true), Value::Null));
        assert_eq!(status["is_available_for_reservation"], true);
        assert_eq!(status["next_open_time"], Value::Null);

        // Tuesday 18:00 Berlin: closed until Wednesday 09:00 (08:00 UTC).
        clock.advance(Duration::from_secs(8 * 3600));
        let status = json_of(&app, &format!("/api/v1/resources/{room}/status")).await;
        assert_eq!(status["is_open"], false);
        assert_eq!(status["closed_reason"], "closed");
        assert_eq!(status["is_available_for_reservation"], false);
        assert_eq!(status["status"], "available", "the original's status values are kept");
        assert_eq!(status["next_open_time"], "2030-01-02T08:00:00Z");
        let response = app.book(&bob, room, "2030-01-01T17:30:00Z", "2030-01-01T18:30:00Z").await;
        assert_eq!(response.status(), 409, "and a booking now is refused");

        // Thursday 00:30 Berlin: the blackout date; Friday opens next.
        clock.advance(Duration::from_secs((6 + 24) * 3600 + 30 * 60));
        let status = json_of(&app, &format!("/api/v1/resources/{room}/status")).await;
        assert_eq!(status["closed_reason"], "blackout");
        assert_eq!(status["blackout_reason"], "Inventory");
        assert_eq!(status["next_open_time"], "2030-01-04T08:00:00Z");
    }

    #[app(clock, long_tokens)]
    async fn search_and_summary_leave_out_resources_closed_in_the_window(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = berlin_room(&app, &admin).await;
        app.create_resource(&admin, json!({"name": "UTC room"})).await;
        let tokyo = app.create_resource(&admin, json!({"name": "Tokyo room", "timezone": "Asia/Tokyo"})).await;
        // Global hours 09:00–17:00 every day apply to the Tokyo room (00:00–08:00 UTC) and the UTC
        // room, which have none of their own; the Berlin room's and "Night and day"'s replace them.
        let every_day: Vec<Value> = (0..7)
            .map(|day| json!({"day_of_week": day, "open_time": "09:00", "close_time": "17:00"}))
            .collect();
        assert_eq!(app.put_json_as(&admin, "/api/v1/business-hours/global", &json!({"hours": every_day})).await.status(), 200);
        let all_day = json!({"hours": (0..7).map(|day| json!({"day_of_week": day, "open_time": "00:00", "close_time": "24:00"})).collect::<Vec<_>>()});
        let open = app.create_resource(&admin, json!({"name": "Night and day"})).await;
        assert_eq!(app.put_json_as(&admin, &format!("/api/v1/resources/{open}/business-hours"), &all_day).await.status(), 200);

        // Wednesday 10:00–11:00 Berlin (09:00–10:00 UTC): Tokyo is closed (18:00 there).
        let names = search(&app, "2030-01-02T09:00:00Z", "2030-01-02T10:00:00Z").await;
        assert_eq!(names, ["Berlin room", "Night and day", "UTC room"]);
        // At night in Berlin and in UTC, the Tokyo morning.
        let names = search(&app, "2030-01-02T01:00:00Z", "2030-01-02T02:00:00Z").await;
        assert_eq!(names, ["Night and day", "Tokyo room"]);
        // The Berlin blackout day, during its opening hours.
        let names = search(&app, "2030-01-03T09:00:00Z", "2030-01-03T10:00:00Z").await;
        assert_eq!(names, ["Night and day", "UTC room"]);
        // The writes agree.
        assert_eq!(app.book(&bob, tokyo, "2030-01-02T09:00:00Z", "2030-01-02T10:00:00Z").await.status(), 409);
        assert_eq!(app.book(&bob, room, "2030-01-03T09:00:00Z", "2030-01-03T10:00:00Z").await.status(), 409);
        assert_eq!(app.book(&bob, tokyo, "2030-01-02T01:00:00Z", "2030-01-02T02:00:00Z").await.status(), 201);
        // Booked now: no longer free in that window.
        let names = search(&app, "2030-01-02T01:00:00Z", "2030-01-02T02:00:00Z").await;
        assert_eq!(names, ["Night and day"]);

        // Without a window, `available` means bookable now: Tokyo is closed (18:00 there).
        let page = json_of(&app, "/api/v1/resources/search").await;
        let names: Vec<&str> = page["data"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Berlin room", "Night and day", "UTC room"]);
        let page = json_of(&app, "/api/v1/resources/search?available_only=false").await;
        let current: Vec<(&str, bool)> = page["data"].as_array().unwrap().iter()
            .map(|r| (r["name"].as_str().unwrap(), r["current_availability"].as_bool().unwrap()))
            .collect();
        assert_eq!(current, [("Berlin room", true), ("Night and day", true), ("Tokyo room", false), ("UTC room", true)]);
        assert_eq!(json_of(&app, &format!("/api/v1/resources/{tokyo}")).await["current_availability"], false);
        assert_eq!(json_of(&app, &format!("/api/v1/resources/{room}")).await["current_availability"], true);

        // The summary counts what is open now: 10:00 Berlin and 09:00 UTC (open), 18:00 Tokyo.
        let summary = json_of(&app, "/api/v1/resources/availability/summary").await;
        assert_eq!((summary["total_resources"].clone(), summary["available_now"].clone()), (json!(4), json!(3)));
        // 20:00 UTC: only the resource open around the clock.
        clock.advance(Duration::from_secs(11 * 3600));
        let summary = json_of(&app, "/api/v1/resources/availability/summary").await;
        assert_eq!((summary["available_now"].clone(), summary["unavailable_now"].clone()), (json!(1), json!(3)));
    }
}
