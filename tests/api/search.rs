//! Search and saved searches (`/api/v1/search`, original §2.17): every operation and error, a
//! free window that agrees with booking (every resource called free is booked: 201), reservation
//! search limited to what the caller may see, literal wildcards, Unicode case folding, saved
//! searches that validate their stored filters (422, not 500).

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;
use crate::support::auth::TestUser;

const FROM: &str = "2030-01-02T10:00:00Z";
const UNTIL: &str = "2030-01-02T11:00:00Z";

async fn ok_json(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

async fn detail(response: reqwest::Response, status: u16) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str::<Value>(&text).unwrap()["detail"].clone()
}

fn names(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn found(app: &TestApp, user: &TestUser, query: &str) -> Vec<String> {
    names(&ok_json(app.get_as(user, &format!("/api/v1/search/resources?{query}")).await).await)
}

async fn labelled(app: &TestApp, admin: &TestUser, resource: i64, category: &str, value: &str) {
    let response = app
        .post_json_as(admin, "/api/v1/labels", &json!({"category": category, "value": value}))
        .await;
    let id = match response.status().as_u16() {
        201 => response.json::<Value>().await.unwrap()["id"].as_i64().unwrap(),
        _ => {
            let list = ok_json(
                app.get_as(admin, &format!("/api/v1/labels?category={category}&limit=100"))
                    .await,
            )
            .await;
            list["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["value"] == value)
                .unwrap()["id"]
                .as_i64()
                .unwrap()
        }
    };
    let mut ids: Vec<i64> = ok_json(app.get_as(admin, &format!("/api/v1/labels/resources/{resource}")).await)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    ids.push(id);
    ok_json(
        app.put_json_as(
            admin,
            &format!("/api/v1/labels/resources/{resource}"),
            &json!({"label_ids": ids}),
        )
        .await,
    )
    .await;
}

both_backends! {
    #[app(clock)]
    async fn resources_are_found_by_text_tags_labels_groups_status_and_approval(app: TestApp, _clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let lab = app.create_resource(&admin, json!({"name": "Ñandú Lab", "tags": ["Optics", "laser"]})).await;
        let room = app.create_resource(&admin, json!({"name": "Room 100%_A", "tags": ["optics"]})).await;
        let other = app.create_resource(&admin, json!({"name": "Room 1000A", "tags": ["quiet"]})).await;
        app.create_resource(&admin, json!({"name": "Closet", "available": false})).await;
        labelled(&app, &admin, lab, "equipment", "projector").await;
        labelled(&app, &admin, lab, "floor", "3").await;
        labelled(&app, &admin, room, "equipment", "projector").await;
        let settings = json!({"requires_approval": true, "default_approver_id": admin.id});
        assert_eq!(app.put_json_as(&admin, &format!("/api/v1/approvals/resources/{other}/settings"), &settings).await.status(), 200);
        let hq = ok_json_created(app.post_json_as(&admin, "/api/v1/resource-groups", &json!({"name": "HQ", "building": "Main"})).await).await;
        let floor = ok_json_created(app.post_json_as(&admin, "/api/v1/resource-groups", &json!({"name": "Floor 3", "parent_id": hq})).await).await;
        ok_json(app.post_json_as(&admin, &format!("/api/v1/resource-groups/{floor}/resources"), &json!({"resource_id": lab})).await).await;
        ok_json(app.post_json_as(&admin, &format!("/api/v1/resource-groups/{hq}/resources"), &json!({"resource_id": other})).await).await;

        let page = ok_json(app.get_as(&bob, "/api/v1/search/resources").await).await;
        assert_eq!(page["total"], 4);
        assert_eq!(page["limit"], 50);
        assert_eq!(page["offset"], 0);
        assert_eq!(page["has_more"], false);
        let first = &page["results"][0];
        assert_eq!(first["name"], "Closet");
        for key in ["id", "name", "available", "status", "tags", "requires_approval", "labels", "group_id"] {
            assert!(first.get(key).is_some(), "{key} in {first}");
        }
        assert_eq!(found(&app, &bob, "query=ñANDÚ").await, ["Ñandú Lab"], "Unicode case folding");
        assert_eq!(found(&app, &bob, "query=LASER").await, ["Ñandú Lab"], "tags too");
        assert_eq!(found(&app, &bob, "query=100%25_").await, ["Room 100%_A"], "% and _ are literal");
        assert_eq!(found(&app, &bob, "query=0_A").await, Vec::<String>::new(), "_ matches no other character (Room 1000A)");
        assert_eq!(found(&app, &bob, "query=%25_a").await, ["Room 100%_A"]);
        assert_eq!(found(&app, &bob, "tags=OPTICS,laser").await, ["Ñandú Lab"], "every tag, case-insensitively");
        assert_eq!(found(&app, &bob, "tags=optics").await, ["Room 100%_A", "Ñandú Lab"]);
        assert_eq!(found(&app, &bob, "label=equipment:projector").await, ["Room 100%_A", "Ñandú Lab"]);
        assert_eq!(found(&app, &bob, "label=equipment:projector&label=floor:3").await, ["Ñandú Lab"], "AND");
        assert_eq!(found(&app, &bob, "label=equipment:projector,floor:3").await, ["Ñandú Lab"]);
        assert_eq!(found(&app, &bob, &format!("group_id={hq}")).await, ["Room 1000A", "Ñandú Lab"], "subgroups included");
        assert_eq!(found(&app, &bob, &format!("group_id={floor}")).await, ["Ñandú Lab"]);
        assert_eq!(found(&app, &bob, "group_id=9999").await, Vec::<String>::new());
        assert_eq!(found(&app, &bob, "building=main").await, ["Room 1000A", "Ñandú Lab"], "the building's groups and those below them");
        assert_eq!(found(&app, &bob, "building=elsewhere").await, Vec::<String>::new());
        assert_eq!(found(&app, &bob, "requires_approval=true").await, ["Room 1000A"]);
        assert_eq!(found(&app, &bob, "available_only=true").await, ["Room 100%_A", "Room 1000A", "Ñandú Lab"]);
        assert_eq!(found(&app, &bob, "status=unavailable").await, ["Closet"]);
        let paged = ok_json(app.get_as(&bob, "/api/v1/search/resources?limit=2&offset=1").await).await;
        assert_eq!(names(&paged), ["Room 100%_A", "Room 1000A"]);
        assert_eq!(paged["has_more"], true);

        for bad in ["status=broken", "limit=0", "limit=101", "offset=-1", "label=nocolon", "available_from=yesterday&available_until=2030-01-02T11:00:00Z",
                    "available_from=2030-01-02T11:00:00Z", "available_from=2030-01-02T11:00:00Z&available_until=2030-01-02T10:00:00Z",
                    "available_from=2029-01-02T11:00:00Z&available_until=2029-01-02T12:00:00Z"] {
            assert_eq!(app.get_as(&bob, &format!("/api/v1/search/resources?{bad}")).await.status(), 422, "{bad}");
        }
        assert_eq!(app.get("/api/v1/search/resources").await.status(), 401);
    }

    #[app(clock)]
    async fn every_resource_the_search_calls_free_can_be_booked(app: TestApp, _clock: Arc<ManualClock>) {
        // The clock stands at 2030-01-01 09:00 UTC; the window is Wednesday 10:00–11:00 UTC.
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let mut free = Vec::new();
        for name in ["Free 1", "Free 2"] {
            free.push(app.resource(&admin, name).await);
        }
        let approval = app.resource(&admin, "Needs approval").await;
        let settings = json!({"requires_approval": true, "default_approver_id": admin.id});
        assert_eq!(app.put_json_as(&admin, &format!("/api/v1/approvals/resources/{approval}/settings"), &settings).await.status(), 200);

        let booked = app.resource(&admin, "Booked").await;
        assert_eq!(app.book(&eve, booked, "2030-01-02T10:30:00Z", "2030-01-02T11:30:00Z").await.status(), 201);
        let held = app.resource(&admin, "Held").await;
        let hold = json!({"resource_id": held, "start_time": "2030-01-02T09:30:00Z", "end_time": "2030-01-02T10:15:00Z", "minutes": 15});
        assert_eq!(app.post_json_as(&eve, "/api/v1/holds", &hold).await.status(), 201);
        let pending = app.resource(&admin, "Pending").await;
        assert_eq!(app.put_json_as(&admin, &format!("/api/v1/approvals/resources/{pending}/settings"), &settings).await.status(), 200);
        let request = json!({"resource_id": pending, "start_time": FROM, "end_time": UNTIL});
        assert!(app.post_json_as(&eve, "/api/v1/approvals/reservations", &request).await.status().is_success());
        let maintained = app.resource(&admin, "Maintenance").await;
        assert_eq!(app.put_json_as(&admin, &format!("/api/v1/resources/{maintained}/status/unavailable?auto_reset_hours=48"), &json!({})).await.status(), 200);
        let blacked = app.resource(&admin, "Blackout").await;
        let blackout = json!({"date": "2030-01-02", "reason": "Inventory"});
        assert_eq!(app.post_json_as(&admin, &format!("/api/v1/resources/{blacked}/blackout-dates"), &blackout).await.status(), 201);
        let closed = app.resource(&admin, "Closed mornings").await;
        let hours: Vec<Value> = (0..7).map(|day| json!({"day_of_week": day, "open_time": "13:00", "close_time": "17:00"})).collect();
        assert_eq!(app.put_json_as(&admin, &format!("/api/v1/resources/{closed}/business-hours"), &json!({"hours": hours})).await.status(), 200);
        app.create_resource(&admin, json!({"name": "Disabled", "available": false})).await;

        let page = ok_json(app.get_as(&bob, &format!("/api/v1/search/resources?available_from={FROM}&available_until={UNTIL}")).await).await;
        assert_eq!(names(&page), ["Free 1", "Free 2", "Needs approval"]);
        for hit in page["results"].as_array().unwrap() {
            let id = hit["id"].as_i64().unwrap();
            let response = app.book(&bob, id, FROM, UNTIL).await;
            assert_eq!(response.status(), 201, "{} was called free: {}", hit["name"], response.text().await.unwrap());
        }
        // And now none of them is.
        let page = ok_json(app.get_as(&bob, &format!("/api/v1/search/resources?available_from={FROM}&available_until={UNTIL}")).await).await;
        assert_eq!(names(&page), Vec::<String>::new());
        // The ones left out are refused indeed.
        for id in [booked, held, pending, maintained, blacked, closed] {
            assert_eq!(app.book(&bob, id, FROM, UNTIL).await.status(), 409, "resource {id}");
        }
    }

    #[app(clock)]
    async fn short_and_long_windows_see_exactly_the_bookings_that_overlap_them(app: TestApp, _clock: Arc<ManualClock>) {
        // A window of a day or less and a longer one are looked up differently on PostgreSQL (a
        // set of the resources booked in the window; one probe per resource): both must agree
        // with the bookings, edges included.
        let admin = app.admin().await;
        let eve = app.user("eve").await;
        let book = |resource: i64, start: &'static str, end: &'static str| {
            let (app, eve) = (&app, &eve);
            async move { assert_eq!(app.book(eve, resource, start, end).await.status(), 201, "{start}") }
        };
        // Booked right up to the window on both sides: free.
        let touching = app.resource(&admin, "Touching").await;
        book(touching, "2030-01-02T09:00:00Z", "2030-01-02T10:00:00Z").await;
        book(touching, "2030-01-02T11:00:00Z", "2030-01-02T12:00:00Z").await;
        // Booked from before the window into it, and again after it: busy (the earlier booking
        // decides, though a later one starts before the long window ends).
        let into = app.resource(&admin, "Into the window").await;
        book(into, "2030-01-02T08:00:00Z", "2030-01-02T10:30:00Z").await;
        book(into, "2030-01-02T10:30:00Z", "2030-01-02T10:45:00Z").await;
        book(into, "2030-01-03T09:00:00Z", "2030-01-03T10:00:00Z").await;
        // Booked the next day only: free for the hour, busy for two days.
        let tomorrow = app.resource(&admin, "Tomorrow").await;
        book(tomorrow, "2030-01-03T12:00:00Z", "2030-01-03T13:00:00Z").await;
        // A cancelled booking in the window: free.
        let cancelled = app.resource(&admin, "Cancelled").await;
        let response = app.book(&eve, cancelled, FROM, UNTIL).await;
        let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        assert!(app.post_json_as(&eve, &format!("/api/v1/reservations/{id}/cancel"), &json!({})).await.status().is_success());

        let search = |until: &'static str| {
            let (app, eve) = (&app, &eve);
            async move {
                let path = format!("/api/v1/search/resources?available_from={FROM}&available_until={until}");
                names(&ok_json(app.get_as(eve, &path).await).await)
            }
        };
        assert_eq!(search(UNTIL).await, ["Cancelled", "Tomorrow", "Touching"]);
        assert_eq!(search("2030-01-04T10:00:00Z").await, ["Cancelled"]);
        assert_eq!(search("2030-01-02T10:00:01Z").await, ["Cancelled", "Tomorrow", "Touching"]);
        // Past the last page the total still counts every match.
        let page = ok_json(app.get_as(&eve, &format!("/api/v1/search/resources?available_from={FROM}&available_until={UNTIL}&limit=2&offset=5")).await).await;
        assert_eq!((page["total"].as_i64(), page["has_more"].as_bool()), (Some(3), Some(false)), "{page}");
        let page = ok_json(app.get_as(&eve, &format!("/api/v1/search/resources?available_from={FROM}&available_until={UNTIL}&limit=2")).await).await;
        assert_eq!((page["total"].as_i64(), page["has_more"].as_bool()), (Some(3), Some(true)), "{page}");
    }

    #[app(clock)]
    async fn reservation_search_shows_users_their_own_only(app: TestApp, _clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let manager = app.manager("mia").await;
        let room = app.resource(&admin, "Room").await;
        let book = |user: &TestUser, start: &str, end: &str| {
            let (app, user, start, end) = (&app, user.clone(), start.to_owned(), end.to_owned());
            async move {
                let response = app.book(&user, room, &start, &end).await;
                assert_eq!(response.status(), 201);
                response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
            }
        };
        let bobs = book(&bob, "2030-01-02T10:00:00Z", "2030-01-02T11:00:00Z").await;
        let eves = book(&eve, "2030-01-03T10:00:00Z", "2030-01-03T11:00:00Z").await;
        let eves_cancelled = book(&eve, "2030-01-04T10:00:00Z", "2030-01-04T11:00:00Z").await;
        assert_eq!(app.post_json_as(&eve, &format!("/api/v1/reservations/{eves_cancelled}/cancel"), &json!({"reason": "no"})).await.status(), 200);

        let ids = |page: &Value| page["results"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>();
        let mine = ok_json(app.get_as(&bob, "/api/v1/search/reservations").await).await;
        assert_eq!(ids(&mine), [bobs]);
        let row = &mine["results"][0];
        for key in ["id", "user_id", "username", "resource_id", "resource_name", "start_time", "end_time", "status", "created_at"] {
            assert!(row.get(key).is_some(), "{key} in {row}");
        }
        assert_eq!(row["username"], "bob");
        // Asking for eve's gives bob nothing of hers (the original showed everyone's: §9.3).
        let snooping = ok_json(app.get_as(&bob, &format!("/api/v1/search/reservations?user_id={}", eve.id)).await).await;
        assert_eq!(snooping["total"], 0);
        let snooping = ok_json(app.get_as(&bob, &format!("/api/v1/search/reservations?resource_id={room}&include_cancelled=true")).await).await;
        assert_eq!(ids(&snooping), [bobs]);

        // Those who may read everyone's see everyone's, newest start first.
        let all = ok_json(app.get_as(&manager, "/api/v1/search/reservations").await).await;
        assert_eq!(ids(&all), [eves, bobs], "cancelled ones are left out by default");
        let all = ok_json(app.get_as(&admin, "/api/v1/search/reservations?include_cancelled=true").await).await;
        assert_eq!(ids(&all), [eves_cancelled, eves, bobs]);
        let cancelled = ok_json(app.get_as(&admin, "/api/v1/search/reservations?status=cancelled").await).await;
        assert_eq!(ids(&cancelled), [eves_cancelled]);
        let either = ok_json(app.get_as(&admin, "/api/v1/search/reservations?status=cancelled,active").await).await;
        assert_eq!(either["total"], 3);
        let window = ok_json(app.get_as(&admin, "/api/v1/search/reservations?start_from=2030-01-03T00:00:00Z&start_until=2030-01-03T23:00:00Z").await).await;
        assert_eq!(ids(&window), [eves]);
        let created = ok_json(app.get_as(&admin, "/api/v1/search/reservations?created_from=2030-01-01T00:00:00Z&created_until=2030-01-01T23:00:00Z").await).await;
        assert_eq!(created["total"], 2);
        let paged = ok_json(app.get_as(&admin, "/api/v1/search/reservations?limit=1&offset=1").await).await;
        assert_eq!(ids(&paged), [bobs]);
        for bad in ["status=nope", "start_from=soon", "created_until=x", "limit=0", "offset=-1"] {
            assert_eq!(app.get_as(&admin, &format!("/api/v1/search/reservations?{bad}")).await.status(), 422, "{bad}");
        }
        assert_eq!(app.get("/api/v1/search/reservations").await.status(), 401);
    }

    #[app(clock)]
    async fn suggestions_popular_tags_and_availability(app: TestApp, _clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let lab = app.create_resource(&admin, json!({"name": "Optics Lab", "tags": ["Optics", "laser"]})).await;
        app.create_resource(&admin, json!({"name": "Opt_ical room", "tags": ["optics", "quiet"]})).await;
        app.create_resource(&admin, json!({"name": "Library", "tags": ["QUIET"]})).await;

        let suggested = ok_json(app.get_as(&bob, "/api/v1/search/suggestions?query=opt").await).await;
        assert_eq!(suggested["resources"], json!(["Opt_ical room", "Optics Lab"]));
        assert_eq!(suggested["tags"], json!(["Optics"]));
        let literal = ok_json(app.get_as(&bob, "/api/v1/search/suggestions?query=t_").await).await;
        assert_eq!(literal["resources"], json!(["Opt_ical room"]), "_ is literal");
        let limited = ok_json(app.get_as(&bob, "/api/v1/search/suggestions?query=o&limit=1").await).await;
        assert_eq!(limited["resources"].as_array().unwrap().len(), 1);
        assert_eq!(app.get_as(&bob, "/api/v1/search/suggestions").await.status(), 422, "query is required");
        assert_eq!(app.get_as(&bob, "/api/v1/search/suggestions?query=").await.status(), 422);
        assert_eq!(app.get_as(&bob, "/api/v1/search/suggestions?query=a&limit=51").await.status(), 422);

        let popular = ok_json(app.get_as(&bob, "/api/v1/search/tags/popular").await).await;
        assert_eq!(popular["tags"], json!([{"tag": "optics", "count": 2}, {"tag": "quiet", "count": 2}, {"tag": "laser", "count": 1}]));
        let popular = ok_json(app.get_as(&bob, "/api/v1/search/tags/popular?limit=1").await).await;
        assert_eq!(popular["tags"].as_array().unwrap().len(), 1);

        assert_eq!(app.book(&bob, lab, "2030-01-01T12:00:00Z", "2030-01-01T13:00:00Z").await.status(), 201);
        let schedule = ok_json(app.get_as(&bob, &format!("/api/v1/search/resources/{lab}/availability?days_ahead=1")).await).await;
        assert_eq!(schedule["resource_id"], lab);
        assert_eq!(schedule["resource_name"], "Optics Lab");
        assert_eq!(schedule["days_ahead"], 1);
        let periods = schedule["availability"].as_array().unwrap();
        assert_eq!(periods.len(), 3);
        assert_eq!(periods[0], json!({"start": "2030-01-01T09:00:00Z", "end": "2030-01-01T12:00:00Z", "available": true, "duration_hours": 3.0}));
        assert_eq!(periods[1]["available"], false);
        assert!(periods[1]["reservation_id"].is_i64());
        assert_eq!(periods[2]["end"], "2030-01-02T09:00:00Z");
        assert_eq!(detail(app.get_as(&bob, "/api/v1/search/resources/9999/availability").await, 404).await, "Resource not found");
        assert_eq!(app.get_as(&bob, &format!("/api/v1/search/resources/{lab}/availability?days_ahead=31")).await.status(), 422);
    }

    #[app(clock)]
    async fn saved_searches_upsert_by_name_and_execute_their_filters(app: TestApp, _clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        app.create_resource(&admin, json!({"name": "Optics Lab", "tags": ["optics"]})).await;
        let room = app.create_resource(&admin, json!({"name": "Room", "tags": ["quiet"]})).await;
        assert_eq!(app.book(&bob, room, "2030-01-02T10:00:00Z", "2030-01-02T11:00:00Z").await.status(), 201);

        let save = |user: &TestUser, body: Value| {
            let (app, user) = (&app, user.clone());
            async move { app.post_json_as(&user, "/api/v1/search/saved", &body).await }
        };
        let saved = ok_json(save(&bob, json!({"name": "Optics", "search_type": "resources", "filters": {"tags": ["optics"]}})).await).await;
        assert_eq!(saved["success"], true);
        assert_eq!(saved["name"], "Optics");
        assert_eq!(saved["search_type"], "resources");
        let optics = saved["id"].as_i64().unwrap();
        let again = ok_json(save(&bob, json!({"name": "Optics", "search_type": "resources", "filters": {"query": "room"}})).await).await;
        assert_eq!(again["id"], optics, "saving under the same name replaces");
        let mine = ok_json(save(&bob, json!({"name": "Mine", "search_type": "reservations", "filters": {"include_cancelled": true}})).await).await;
        let bad = ok_json(save(&bob, json!({"name": "Broken", "search_type": "resources", "filters": {"available_from": "next tuesday", "available_until": "2030-01-02T11:00:00Z"}})).await).await;
        for refused in [json!({"name": "", "search_type": "resources", "filters": {}}), json!({"name": "x".repeat(101), "search_type": "resources", "filters": {}}),
                        json!({"name": "X", "search_type": "users", "filters": {}}), json!({"name": "X", "search_type": "resources", "filters": []}), json!({"name": "X", "search_type": "resources"})] {
            assert_eq!(save(&bob, refused.clone()).await.status(), 422, "{refused}");
        }

        let list = ok_json(app.get_as(&bob, "/api/v1/search/saved").await).await;
        assert_eq!(list["count"], 3);
        let listed: Vec<&str> = list["saved_searches"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(listed.len(), 3);
        let first = &list["saved_searches"][0];
        for key in ["id", "name", "search_type", "filters", "created_at", "updated_at"] {
            assert!(first.get(key).is_some(), "{key} in {first}");
        }
        let only = ok_json(app.get_as(&bob, "/api/v1/search/saved?search_type=reservations").await).await;
        assert_eq!(only["count"], 1);
        assert_eq!(only["saved_searches"][0]["filters"], json!({"include_cancelled": true}));
        assert_eq!(app.get_as(&bob, "/api/v1/search/saved?search_type=users").await.status(), 422);
        assert_eq!(ok_json(app.get_as(&eve, "/api/v1/search/saved").await).await["count"], 0, "one's own only");
        // A number at a double's limit would be stored by PostgreSQL's jsonb as a decimal that
        // reads back out of range, breaking the list for good: refused when saved (found by
        // the contract fuzzing).
        for number in [json!(f64::MAX), json!(-1e16), json!(2e15)] {
            let huge = save(&eve, json!({"name": "Huge", "search_type": "resources", "filters": {"limit": number}})).await;
            assert_eq!(huge.status(), 422, "{number}");
        }
        let small = save(&eve, json!({"name": "Small", "search_type": "resources", "filters": {"limit": 1e15, "ratio": 0.5}})).await;
        assert_eq!(small.status(), 200);
        assert_eq!(ok_json(app.get_as(&eve, "/api/v1/search/saved").await).await["count"], 1, "the list still reads");

        let ran = ok_json(app.post_json_as(&bob, &format!("/api/v1/search/saved/{optics}/execute"), &json!({})).await).await;
        assert_eq!(ran["saved_search_name"], "Optics");
        assert_eq!(ran["search_type"], "resources");
        assert_eq!(ran["total"], 1);
        assert_eq!(ran["has_more"], false);
        assert_eq!(ran["results"][0], json!({"id": room, "name": "Room", "available": true, "status": "available", "tags": ["quiet"]}));
        let ran = ok_json(app.post_json_as(&bob, &format!("/api/v1/search/saved/{}/execute?limit=1", mine["id"]), &json!({})).await).await;
        assert_eq!(ran["total"], 1);
        let row = &ran["results"][0];
        assert_eq!(row.as_object().unwrap().keys().cloned().collect::<Vec<_>>(), ["end_time", "id", "resource_id", "start_time", "status", "user_id"]);
        let broken = app.post_json_as(&bob, &format!("/api/v1/search/saved/{}/execute", bad["id"]), &json!({})).await;
        assert_eq!(broken.status(), 422, "a bad stored date is the filter's fault, not a 500");
        assert_eq!(detail(app.post_json_as(&eve, &format!("/api/v1/search/saved/{optics}/execute"), &json!({})).await, 404).await, "Saved search not found");
        assert_eq!(detail(app.post_json_as(&bob, "/api/v1/search/saved/9999/execute", &json!({})).await, 404).await, "Saved search not found");

        assert_eq!(detail(app.delete_as(&eve, &format!("/api/v1/search/saved/{optics}")).await, 404).await, "Saved search not found", "not another user's");
        let deleted = ok_json(app.delete_as(&bob, &format!("/api/v1/search/saved/{optics}")).await).await;
        assert_eq!(deleted, json!({"success": true, "message": "Saved search deleted"}));
        assert_eq!(detail(app.delete_as(&bob, &format!("/api/v1/search/saved/{optics}")).await, 404).await, "Saved search not found");
        assert_eq!(app.get("/api/v1/search/saved").await.status(), 401);
    }
}

async fn ok_json_created(response: reqwest::Response) -> i64 {
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}
