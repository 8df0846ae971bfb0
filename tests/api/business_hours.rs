//! Opening hours and blackout dates: enforced on every booking path (the original only stored
//! them), read on the resource's wall clock, changed through the §2.20 endpoints with effect on
//! the next booking — in this server process and in another one on the same database.

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::booking::at;
use crate::support::response::status_and_detail as detail;
use crate::support::timers::eventually;
use crate::support::{Backend, TestApp, TestUser};

/// `{"hours": [...]}` with every given day open from `open` to `close`.
fn week(days: &[i64], open: &str, close: &str) -> Value {
    let hours: Vec<Value> = days
        .iter()
        .map(|day| json!({"day_of_week": day, "open_time": open, "close_time": close}))
        .collect();
    json!({ "hours": hours })
}

const WEEKDAYS: [i64; 5] = [0, 1, 2, 3, 4];

async fn set_hours(app: &TestApp, admin: &TestUser, path: &str, body: &Value) -> Value {
    let response = app.put_json_as(admin, path, body).await;
    assert_eq!(
        response.status(),
        200,
        "PUT {path}: {}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.unwrap()
}

both_backends! {
    async fn a_booking_outside_the_hours_is_refused_and_stores_nothing(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let path = format!("/api/v1/resources/{room}/business-hours");
        let rows = set_hours(&app, &admin, &path, &week(&WEEKDAYS, "09:00", "17:00")).await;
        assert_eq!(rows.as_array().unwrap().len(), 5);
        assert_eq!(rows[0]["open_time"], "09:00:00");
        assert_eq!(rows[0]["resource_id"], room);

        // 2030-01-07 is a Monday.
        let (status, why) = detail(app.book(&bob, room, &at(8, 0), &at(10, 0)).await).await;
        assert_eq!((status, why.as_str()), (409, "Resource is closed at that time: 2030-01-07 08:00 (UTC) is outside its opening hours"));
        assert_eq!(detail(app.book(&bob, room, &at(16, 0), &at(17, 30)).await).await.0, 409);
        assert_eq!(detail(app.book(&bob, room, &at(5 * 24 + 10, 0), &at(5 * 24 + 11, 0)).await).await.0, 409, "Saturday");
        assert_eq!(app.stored_reservations("active").await, 0);
        let morning = app.book(&bob, room, &at(9, 0), &at(10, 0)).await;
        assert_eq!(morning.status(), 201);
        let morning: Value = morning.json().await.unwrap();
        assert_eq!(app.book(&bob, room, &at(16, 0), &at(17, 0)).await.status(), 201);
        // Moving a booking obeys the hours too, and leaves it where it was.
        let moved = app
            .patch_json_as(&bob, &format!("/api/v1/reservations/{}", morning["id"]), &json!({"start_time": at(18, 0), "end_time": at(19, 0)}))
            .await;
        assert_eq!(detail(moved).await.0, 409);
        let kept: Value = app.get_as(&bob, &format!("/api/v1/reservations/{}", morning["id"])).await.json().await.unwrap();
        assert_eq!(kept["start_time"], morning["start_time"]);

        // A change takes effect on the very next booking (the live actor reloads).
        set_hours(&app, &admin, &path, &week(&WEEKDAYS, "07:00", "17:00")).await;
        assert_eq!(app.book(&bob, room, &at(8, 0), &at(9, 0)).await.status(), 201);
        // The original switched a resource with every day closed off; here the hours suffice.
        let closed = json!({"hours": [{"day_of_week": 0, "open_time": "00:00", "close_time": "00:00", "is_closed": true}]});
        set_hours(&app, &admin, &path, &closed).await;
        assert_eq!(app.book(&bob, room, &at(12, 0), &at(13, 0)).await.status(), 409);
        let resource: Value = app.get_as(&bob, &format!("/api/v1/resources/{room}")).await.json().await.unwrap();
        assert_eq!(resource["available"], true, "the base flag is left alone");
    }

    async fn global_hours_apply_unless_the_resource_has_its_own(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let (plain, own) = (app.resource(&admin, "Plain").await, app.resource(&admin, "Own hours").await);
        set_hours(&app, &admin, "/api/v1/business-hours/global", &week(&[0], "10:00", "12:00")).await;
        let global: Value = app.get_as(&bob, "/api/v1/business-hours/global").await.json().await.unwrap();
        assert_eq!((global[0]["resource_id"].clone(), global[0]["close_time"].clone()), (Value::Null, json!("12:00:00")));

        assert_eq!(app.book(&bob, plain, &at(9, 0), &at(10, 0)).await.status(), 409, "global hours apply");
        assert_eq!(app.book(&bob, plain, &at(10, 0), &at(11, 0)).await.status(), 201);
        let shown: Value = app.get_as(&bob, &format!("/api/v1/resources/{plain}/business-hours")).await.json().await.unwrap();
        assert_eq!(shown, global, "the global rows, for a resource without its own");

        let own_path = format!("/api/v1/resources/{own}/business-hours");
        set_hours(&app, &admin, &own_path, &week(&[0], "08:00", "09:00")).await;
        assert_eq!(app.book(&bob, own, &at(8, 0), &at(9, 0)).await.status(), 201, "its own hours replace the global ones");
        assert_eq!(app.book(&bob, own, &at(10, 0), &at(11, 0)).await.status(), 409);
        // Resetting the resource's hours falls back to the global ones.
        set_hours(&app, &admin, &own_path, &json!({"hours": []})).await;
        assert_eq!(app.book(&bob, own, &at(10, 0), &at(11, 0)).await.status(), 201);
        // No hours anywhere: always open again.
        set_hours(&app, &admin, "/api/v1/business-hours/global", &json!({"hours": []})).await;
        assert_eq!(app.book(&bob, plain, &at(22, 0), &at(26, 0)).await.status(), 201);
    }

    async fn a_blackout_date_refuses_the_whole_local_day(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let other = app.resource(&admin, "Room 2").await;
        let own = format!("/api/v1/resources/{room}/blackout-dates");
        let added = app.post_json_as(&admin, &own, &json!({"date": "2030-01-08", "reason": "Inventory", "resource_id": 999})).await;
        assert_eq!(added.status(), 201);
        let added: Value = added.json().await.unwrap();
        assert_eq!((added["resource_id"].clone(), added["date"].clone()), (json!(room), json!("2030-01-08")));
        let (status, why) = detail(app.book(&bob, room, &at(24 + 10, 0), &at(24 + 11, 0)).await).await;
        assert_eq!((status, why.as_str()), (409, "Resource is not available on 2030-01-08 (blackout: Inventory)"));
        assert_eq!(detail(app.book(&bob, room, &at(23, 0), &at(25, 0)).await).await.0, 409, "touching the date is enough");
        assert_eq!(app.book(&bob, other, &at(24 + 10, 0), &at(24 + 11, 0)).await.status(), 201, "only that resource");

        let global = app.post_json_as(&admin, "/api/v1/blackout-dates", &json!({"date": "2030-01-09"})).await;
        assert_eq!(global.status(), 201);
        let global: Value = global.json().await.unwrap();
        let (status, why) = detail(app.book(&bob, other, &at(48 + 10, 0), &at(48 + 11, 0)).await).await;
        assert_eq!((status, why.as_str()), (409, "Resource is not available on 2030-01-09 (blackout date)"));
        let listed: Value = app.get_as(&bob, &own).await.json().await.unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 2, "with the global ones by default: {listed}");
        let only_own: Value = app.get_as(&bob, &format!("{own}?include_global=false")).await.json().await.unwrap();
        assert_eq!(only_own.as_array().unwrap().len(), 1);
        let globals: Value = app.get_as(&bob, "/api/v1/blackout-dates").await.json().await.unwrap();
        assert_eq!(globals[0]["id"], global["id"]);

        assert_eq!(app.delete_as(&bob, &format!("/api/v1/blackout-dates/{}", global["id"])).await.status(), 403);
        assert_eq!(app.delete_as(&admin, &format!("/api/v1/blackout-dates/{}", global["id"])).await.status(), 204);
        assert_eq!(app.book(&bob, other, &at(48 + 10, 0), &at(48 + 11, 0)).await.status(), 201, "the deletion applies at once");
        let (status, why) = detail(app.delete_as(&admin, &format!("/api/v1/blackout-dates/{}", global["id"])).await).await;
        assert_eq!((status, why.as_str()), (404, "Blackout date not found"));
        assert_eq!(app.stored_reservations("active").await, 2);
    }

    async fn a_series_over_closed_days_is_refused_whole_or_skips_them_saying_why(app: TestApp) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let room = app.resource(&admin, "Room 1").await;
        set_hours(&app, &admin, &format!("/api/v1/resources/{room}/business-hours"), &week(&WEEKDAYS, "09:00", "17:00")).await;
        let blackout = json!({"date": "2030-01-14", "reason": "Inventory"});
        assert_eq!(app.post_json_as(&admin, &format!("/api/v1/resources/{room}/blackout-dates"), &blackout).await.status(), 201);
        assert_eq!(app.book(&eve, room, &at(4 * 24 + 10, 0), &at(4 * 24 + 11, 0)).await.status(), 201);
        // Daily from Friday 2030-01-11: Friday (Eve's), Saturday, Sunday, Monday (blackout), Tuesday.
        let series = |skip: bool| json!({
            "resource_id": room, "start_time": at(4 * 24 + 10, 0), "end_time": at(4 * 24 + 11, 0), "skip_conflicts": skip,
            "recurrence": {"frequency": "daily", "end_type": "after_count", "occurrence_count": 5},
        });
        let refused_days = json!([
            {"start_time": at(4 * 24 + 10, 0), "end_time": at(4 * 24 + 11, 0), "reason": "booked"},
            {"start_time": at(5 * 24 + 10, 0), "end_time": at(5 * 24 + 11, 0), "reason": "closed"},
            {"start_time": at(6 * 24 + 10, 0), "end_time": at(6 * 24 + 11, 0), "reason": "closed"},
            {"start_time": at(7 * 24 + 10, 0), "end_time": at(7 * 24 + 11, 0), "reason": "blackout"},
        ]);
        let refused = app.post_json_as(&bob, "/api/v1/reservations/recurring", &series(false)).await;
        assert_eq!(refused.status(), 409);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["conflicts"], refused_days);
        assert_eq!(app.stored_reservations("active").await, 1, "nothing of the series was booked");

        let skipping = app.post_json_as(&bob, "/api/v1/reservations/recurring", &series(true)).await;
        assert_eq!(skipping.status(), 201);
        let body: Value = skipping.json().await.unwrap();
        assert_eq!(body["skipped"], refused_days);
        assert_eq!(body["created"].as_array().unwrap().len(), 1);
        assert_eq!(body["created"][0]["start_time"], at(8 * 24 + 10, 0));
        assert_eq!(app.stored_reservations("active").await, 2);
    }

    async fn holds_waitlist_entries_and_approval_requests_obey_the_hours(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let approver = app.user_with_role("anna", "manager").await;
        let room = app.resource(&admin, "Room 1").await;
        let hours = format!("/api/v1/resources/{room}/business-hours");
        set_hours(&app, &admin, &hours, &week(&[0], "09:00", "17:00")).await;
        let evening = |extra: Value| {
            let mut body = json!({"resource_id": room, "start_time": at(18, 0), "end_time": at(19, 0)});
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            body
        };
        let hold = app.post_json_as(&bob, "/api/v1/holds", &evening(json!({"minutes": 5}))).await;
        assert_eq!(detail(hold).await.0, 409);
        let exact = json!({"resource_id": room, "desired_start": at(18, 0), "desired_end": at(19, 0)});
        assert_eq!(detail(app.post_json_as(&bob, "/api/v1/waitlist", &exact).await).await.0, 409);
        let flexible = json!({"resource_id": room, "desired_start": at(17, 0), "desired_end": at(20, 0), "flexible_time": true});
        assert_eq!(detail(app.post_json_as(&bob, "/api/v1/waitlist", &flexible).await).await.0, 409, "no open time in the window");

        // A hold placed in open time cannot be confirmed once that time closed.
        let placed = app.post_json_as(&bob, "/api/v1/holds", &json!({"resource_id": room, "start_time": at(10, 0), "end_time": at(11, 0), "minutes": 5})).await;
        assert_eq!(placed.status(), 201);
        let placed: Value = placed.json().await.unwrap();
        set_hours(&app, &admin, &hours, &week(&[0], "12:00", "17:00")).await;
        let confirm = app.post_json_as(&bob, &format!("/api/v1/holds/{}/confirm", placed["id"]), &json!({})).await;
        assert_eq!(detail(confirm).await.0, 409);
        assert_eq!(app.stored_reservations("active").await, 0);
        // A flexible entry is offered only the open part of its window.
        let flexible = json!({"resource_id": room, "desired_start": at(10, 0), "desired_end": at(14, 0), "flexible_time": true});
        let joined: Value = app.post_json_as(&bob, "/api/v1/waitlist", &flexible).await.json().await.unwrap();
        assert_eq!(joined["status"], "offered", "{joined}");
        assert_eq!((joined["offered_start"].as_str(), joined["offered_end"].as_str()), (Some(at(12, 0).as_str()), Some(at(14, 0).as_str())));

        let settings = json!({"requires_approval": true, "default_approver_id": approver.id});
        assert_eq!(app.put_json_as(&admin, &format!("/api/v1/approvals/resources/{room}/settings"), &settings).await.status(), 200);
        let request = app.post_json_as(&bob, "/api/v1/approvals/reservations", &evening(json!({}))).await;
        assert_eq!(detail(request).await.0, 409);
        assert_eq!(app.stored_reservations("pending_approval").await, 0);
        let inside = app.post_json_as(&bob, "/api/v1/approvals/reservations", &json!({"resource_id": room, "start_time": at(15, 0), "end_time": at(16, 0)})).await;
        assert_eq!(inside.json::<Value>().await.unwrap()["status"], "pending_approval");
    }

    async fn hours_are_read_on_the_resources_wall_clock(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.create_resource(&admin, json!({"name": "Berlin room", "timezone": "Europe/Berlin"})).await;
        set_hours(&app, &admin, &format!("/api/v1/resources/{room}/business-hours"), &week(&WEEKDAYS, "09:00", "17:00")).await;
        // January: Berlin is UTC+1, so 09:00–17:00 there is 08:00–16:00 UTC.
        assert_eq!(app.book(&bob, room, &at(8, 0), &at(9, 0)).await.status(), 201);
        let (status, why) = detail(app.book(&bob, room, &at(15, 30), &at(16, 30)).await).await;
        assert_eq!((status, why.as_str()), (409, "Resource is closed at that time: 2030-01-07 17:00 (Europe/Berlin) is outside its opening hours"));
        // July: UTC+2, 09:00 local is 07:00 UTC (2030-07-01 is a Monday).
        assert_eq!(app.book(&bob, room, "2030-07-01T07:00:00Z", "2030-07-01T08:00:00Z").await.status(), 201);
        assert_eq!(app.book(&bob, room, "2030-07-01T15:00:00Z", "2030-07-01T15:30:00Z").await.status(), 409);
        // A blackout date is a local date: 23:30 UTC on the 7th is already the 8th in Berlin.
        let blackout = app.post_json_as(&admin, &format!("/api/v1/resources/{room}/blackout-dates"), &json!({"date": "2030-01-09"})).await;
        assert_eq!(blackout.status(), 201);
        let slots: Value = app.get_as(&bob, &format!("/api/v1/resources/{room}/available-slots?date=2030-01-09")).await.json().await.unwrap();
        assert_eq!((slots["is_blackout"].clone(), slots["slots"].clone()), (json!(true), json!([])));
    }

    async fn inputs_are_validated_and_writes_need_the_permission(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let path = format!("/api/v1/resources/{room}/business-hours");
        for (body, kind) in [
            (week(&[0], "9:00", "17:00"), "string_pattern_mismatch"),
            (week(&[0], "17:00", "09:00"), "value_error"),
            (week(&[7], "09:00", "17:00"), "less_than_equal"),
            (json!({"hours": [{"day_of_week": 1, "open_time": "09:00", "close_time": "10:00"}, {"day_of_week": 1, "open_time": "11:00", "close_time": "12:00"}]}), "value_error"),
        ] {
            let response = app.put_json_as(&admin, &path, &body).await;
            assert_eq!(response.status(), 422, "{body}");
            let errors: Value = response.json().await.unwrap();
            assert_eq!(errors["detail"][0]["type"], kind, "{errors}");
        }
        let duplicate = app.put_json_as(&admin, &path, &json!({"hours": [{"day_of_week": 1, "open_time": "09:00", "close_time": "10:00"}, {"day_of_week": 1, "open_time": "11:00", "close_time": "12:00"}]})).await;
        let errors: Value = duplicate.json().await.unwrap();
        assert_eq!(errors["detail"][0]["msg"], "Value error, Duplicate days of week not allowed");
        assert_eq!(app.put_json_as(&admin, &path, &json!({"hours": "all day"})).await.status(), 422);

        let (status, why) = detail(app.put_json_as(&bob, &path, &week(&[0], "09:00", "17:00")).await).await;
        assert_eq!((status, why.as_str()), (403, "Admin access required"));
        assert_eq!(app.put_json_as(&bob, "/api/v1/business-hours/global", &week(&[0], "09:00", "17:00")).await.status(), 403);
        assert_eq!(app.post_json_as(&bob, "/api/v1/blackout-dates", &json!({"date": "2030-01-01"})).await.status(), 403);
        assert_eq!(app.get_as(&bob, &path).await.status(), 200, "reads are for every user");
        assert_eq!(app.get(&path).await.status(), 401);
        assert_eq!(detail(app.get_as(&bob, "/api/v1/resources/999/business-hours").await).await, (404, "Resource not found".into()));
        assert_eq!(app.put_json_as(&admin, "/api/v1/resources/999/business-hours", &week(&[0], "09:00", "17:00")).await.status(), 404);

        let past = app.post_json_as(&admin, &format!("/api/v1/resources/{room}/blackout-dates"), &json!({"date": "2020-01-01"})).await;
        assert_eq!(past.status(), 422);
        let errors: Value = past.json().await.unwrap();
        assert_eq!(errors["detail"][0]["msg"], "Value error, Blackout date must be today or in the future");
        let long = app.post_json_as(&admin, "/api/v1/blackout-dates", &json!({"date": "2030-01-01", "reason": "x".repeat(256)})).await;
        assert_eq!(long.status(), 422);
        let slots = app.get_as(&bob, &format!("/api/v1/resources/{room}/available-slots?date=2030-01-07&slot_duration=10")).await;
        assert_eq!(slots.status(), 422);
        assert_eq!(app.get_as(&bob, &format!("/api/v1/resources/{room}/next-available?days_ahead=61")).await.status(), 422);
        assert_eq!(app.stored_reservations("active").await, 0);
    }
}

both_backends! {
    // The clock stands at Tuesday 2030-01-01 09:00 UTC, 10:00 in Berlin.
    #[app(clock, long_tokens)]
    async fn slots_are_local_and_skip_what_is_past_booked_or_held(app: TestApp, _clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.create_resource(&admin, json!({"name": "Berlin room", "timezone": "Europe/Berlin"})).await;
        set_hours(&app, &admin, &format!("/api/v1/resources/{room}/business-hours"), &week(&[1], "09:00", "13:00")).await;
        // 11:00–12:00 local booked, 12:00–12:30 held.
        assert_eq!(app.book(&bob, room, "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z").await.status(), 201);
        let hold = json!({"resource_id": room, "start_time": "2030-01-01T11:00:00Z", "end_time": "2030-01-01T11:30:00Z", "minutes": 5});
        assert_eq!(app.post_json_as(&bob, "/api/v1/holds", &hold).await.status(), 201);

        let day: Value = app.get_as(&bob, &format!("/api/v1/resources/{room}/available-slots?date=2030-01-01&slot_duration=60")).await.json().await.unwrap();
        assert_eq!(day["date"], "2030-01-01");
        assert_eq!(day["is_blackout"], false);
        assert_eq!(day["business_hours"]["day_of_week"], 1);
        let slots: Vec<(String, bool)> = day["slots"].as_array().unwrap().iter()
            .map(|s| (s["start"].as_str().unwrap().to_owned(), s["available"].as_bool().unwrap()))
            .collect();
        assert_eq!(slots, [
            ("2030-01-01T09:00:00+01:00".to_owned(), false), // past
            ("2030-01-01T10:00:00+01:00".to_owned(), false), // starting now
            ("2030-01-01T11:00:00+01:00".to_owned(), false), // booked
            ("2030-01-01T12:00:00+01:00".to_owned(), false), // held
        ]);
        let closed: Value = app.get_as(&bob, &format!("/api/v1/resources/{room}/available-slots?date=2030-01-02")).await.json().await.unwrap();
        assert_eq!((closed["slots"].clone(), closed["business_hours"].clone()), (json!([]), Value::Null));

        // Half an hour is still free today; a whole hour only a week later (Tuesday is the only
        // open day).
        let next = |query: &str| format!("/api/v1/resources/{room}/next-available?{query}");
        let next = |query: &str| {
            let path = next(query);
            let (app, bob) = (&app, &bob);
            async move { app.get_as(bob, &path).await }
        };
        let half: Value = next("slot_duration=30").await.json().await.unwrap();
        assert_eq!(half, json!({"start": "2030-01-01T10:30:00+01:00", "end": "2030-01-01T11:00:00+01:00", "available": true}));
        let hour: Value = next("slot_duration=60").await.json().await.unwrap();
        assert_eq!(hour, json!({"start": "2030-01-08T09:00:00+01:00", "end": "2030-01-08T10:00:00+01:00", "available": true}));
        let none: Value = next("slot_duration=60&days_ahead=2").await.json().await.unwrap();
        assert_eq!(none, Value::Null);
    }
}

/// Two server processes on one PostgreSQL: a change of the global hours made through the first
/// reaches the second's live actors through the outbox (its tailer refreshes every actor).
#[actix_web::test]
async fn a_global_change_through_one_server_is_enforced_by_another() {
    let Some(first) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let admin = first.admin().await;
    let bob = first.user("bob").await;
    let room = first.resource(&admin, "Room 1").await;
    let second = first.sibling().await;
    // The second server's actor for the room is live, and open at 07:00.
    assert_eq!(second.book(&bob, room, &at(7, 0), &at(7, 30)).await.status(), 201);

    set_hours(
        &first,
        &admin,
        "/api/v1/business-hours/global",
        &week(&WEEKDAYS, "09:00", "17:00"),
    )
    .await;
    let mut attempt = 0;
    eventually("the second server to enforce the new global hours", || {
        attempt += 1;
        let (start, end) = (at(7, 30 + attempt % 30), at(8, 30));
        let second = &second;
        let bob = &bob;
        async move {
            let (status, why) = detail(second.book(bob, room, &start, &end).await).await;
            (status == 409 && why.starts_with("Resource is closed")).then_some(())
        }
    })
    .await;
}
