//! Resources: administration, the public catalogue, search, schedules, maintenance, CSV import.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::booking::at;

both_backends! {
    async fn admins_create_resources_and_others_may_not(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let body = json!({"name": "  Lab 1 ", "description": "Optics bench", "tags": ["optics", " ", "optics"], "timezone": "Europe/Berlin"});
        let response = app.post_json_as(&admin, "/api/v1/resources", &body).await;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.unwrap();
        assert_eq!(created["name"], "Lab 1");
        assert_eq!(created["description"], "Optics bench", "the description is kept (the original dropped it)");
        assert_eq!(created["tags"], json!(["optics"]));
        assert_eq!(created["timezone"], "Europe/Berlin");
        assert_eq!(created["status"], "available");
        assert_eq!(created["current_availability"], Value::Null);

        let duplicate = app.post_json_as(&admin, "/api/v1/resources", &json!({"name": "Lab 1"})).await;
        assert_eq!(duplicate.status(), 409, "a duplicate name is a conflict, not a 500");
        assert_eq!(duplicate.json::<Value>().await.unwrap()["detail"], "A resource with the name 'Lab 1' already exists");
        assert_eq!(app.post_json_as(&bob, "/api/v1/resources", &json!({"name": "Mine"})).await.status(), 403);
        let anonymous = app.client.post(app.url("/api/v1/resources")).json(&json!({"name": "X"})).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        for bad in [json!({"name": ""}), json!({"name": "x".repeat(201)}), json!({"name": "X", "timezone": "Mars/Base"}), json!({})] {
            let response = app.post_json_as(&admin, "/api/v1/resources", &bad).await;
            assert_eq!(response.status(), 422, "{bad}");
        }
        let legacy = app.post_json_as(&admin, "/resources", &json!({"name": "Via alias"})).await;
        assert_eq!(legacy.status(), 201);
    }

    async fn the_catalogue_is_public_paginated_and_sortable(app: TestApp) {
        let admin = app.admin().await;
        for name in ["delta", "Alpha", "charlie", "Bravo", "echo"] {
            app.resource(&admin, name).await;
        }
        let first: Value = app.get("/api/v1/resources?limit=2&include_total=true").await.json().await.unwrap();
        assert_eq!(first["total_count"], 5);
        let names = |page: &Value| page["data"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(names(&first), ["Alpha", "Bravo"], "by name, case-insensitively");
        assert_eq!(first["has_more"], true);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second: Value = app.get(&format!("/api/v1/resources?limit=2&cursor={cursor}")).await.json().await.unwrap();
        assert_eq!(names(&second), ["charlie", "delta"]);
        let desc: Value = app.get("/api/v1/resources?sort_by=id&sort_order=desc&limit=1").await.json().await.unwrap();
        assert_eq!(names(&desc), ["echo"]);
        assert_eq!(first["data"][0]["current_availability"], true);
        assert_eq!(app.get("/api/v1/resources?sort_by=price").await.status(), 400);
        assert_eq!(app.get("/api/v1/resources?sort_order=up").await.status(), 400);
        assert_eq!(app.get("/api/v1/resources?limit=101").await.status(), 422);
        let legacy = app.get("/resources").await;
        assert_eq!(legacy.status(), 200, "the legacy alias works (it was a 500)");
        assert_eq!(legacy.headers()["deprecation"], "true");
        let one: Value = app.get(&format!("/api/v1/resources/{}", first["data"][0]["id"])).await.json().await.unwrap();
        assert_eq!(one["name"], "Alpha");
        assert_eq!(app.get("/api/v1/resources/424242").await.status(), 404);
        assert_eq!(app.get("/api/v1/resources/abc").await.status(), 422);
    }

    async fn search_filters_by_text_tags_status_and_free_time(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let lab = app.create_resource(&admin, json!({"name": "Optics lab", "tags": ["Lab", "laser"]})).await;
        let room = app.create_resource(&admin, json!({"name": "Meeting room", "tags": ["lab"]})).await;
        app.create_resource(&admin, json!({"name": "Closet", "available": false})).await;
        let app = &app;
        let found = |path: String| async move {
            let page: Value = app.get(&path).await.json().await.unwrap();
            let mut names: Vec<String> = page["data"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect();
            names.sort();
            names
        };
        assert_eq!(found("/api/v1/resources/search?q=LASER".into()).await, ["Optics lab"], "q matches tags too");
        assert_eq!(found("/api/v1/resources/search?q=room".into()).await, ["Meeting room"]);
        assert_eq!(found("/api/v1/resources/search?tags=lab&tags=laser".into()).await, ["Optics lab"], "tags are ANDed");
        assert_eq!(found("/api/v1/resources/search".into()).await, ["Meeting room", "Optics lab"], "default: bookable ones");
        assert_eq!(found("/api/v1/resources/search?status=unavailable".into()).await, ["Closet"]);
        assert_eq!(found("/api/v1/resources/search?available_only=false".into()).await.len(), 3);
        assert_eq!(app.book(&bob, lab, &at(10, 0), &at(11, 0)).await.status(), 201);
        let window = format!("/api/v1/resources/search?available_from={}&available_until={}", at(10, 30), at(12, 0));
        assert_eq!(found(window).await, ["Meeting room"], "booked during the window: left out");
        let after = format!("/api/v1/resources/search?available_from={}&available_until={}", at(11, 0), at(12, 0));
        assert_eq!(found(after).await, ["Meeting room", "Optics lab"]);
        let reversed = app.get(&format!("/api/v1/resources/search?available_from={}&available_until={}", at(12, 0), at(11, 0))).await;
        assert_eq!(reversed.status(), 400);
        let past = app.get("/api/v1/resources/search?available_from=2020-01-01T00:00:00Z&available_until=2020-01-02T00:00:00Z").await;
        assert_eq!(past.status(), 400);
        let years = app.get("/api/v1/resources/search?available_from=2031-01-01T00:00:00Z&available_until=2033-01-01T00:00:00Z").await;
        assert_eq!(years.status(), 400, "a window of two years is refused");
        let body: serde_json::Value = years.json().await.unwrap();
        assert!(body["detail"].as_str().is_some_and(|d| d.contains("366 days")), "{body}");
        assert_eq!(app.get("/api/v1/resources/search?status=broken").await.status(), 400);
        let _ = room;
    }

    async fn disabling_refuses_new_bookings_and_keeps_existing_ones(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        let off = app.put_json_as(&admin, &format!("/api/v1/resources/{room}/availability"), &json!({"available": false})).await;
        assert_eq!(off.status(), 200);
        assert_eq!(off.json::<Value>().await.unwrap()["message"], "Resource availability updated to unavailable");
        assert_eq!(app.book(&bob, room, &at(12, 0), &at(13, 0)).await.status(), 400);
        assert_eq!(app.stored_reservations("active").await, 1);
        assert_eq!(app.put_json_as(&bob, &format!("/api/v1/resources/{room}/availability"), &json!({"available": true})).await.status(), 403);
        app.put_json_as(&admin, &format!("/api/v1/resources/{room}/availability"), &json!({"available": true})).await;
        assert_eq!(app.book(&bob, room, &at(12, 0), &at(13, 0)).await.status(), 201);
    }

    async fn resources_are_renamed_retagged_and_deleted_by_a_clear_rule(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        app.resource(&admin, "Room 2").await;
        let path = format!("/api/v1/resources/{room}");
        let clash = app.put_json_as(&admin, &path, &json!({"name": "Room 2"})).await;
        assert_eq!(clash.status(), 409);
        let renamed: Value = app.put_json_as(&admin, &path, &json!({"name": "Room A", "tags": ["x", "y"]})).await.json().await.unwrap();
        assert_eq!((renamed["name"].as_str(), renamed["tags"].clone()), (Some("Room A"), json!(["x", "y"])));
        let booked: Value = app.book(&bob, room, &at(10, 0), &at(11, 0)).await.json().await.unwrap();
        let refused = app.delete_as(&admin, &path).await;
        assert_eq!(refused.status(), 409, "upcoming reservations block the deletion");
        assert!(refused.json::<Value>().await.unwrap()["detail"].as_str().unwrap().contains("1 upcoming reservation"));
        let deleted = app.delete_as(&admin, &format!("{path}?cancel_reservations=true")).await;
        assert_eq!(deleted.status(), 200);
        assert_eq!(deleted.json::<Value>().await.unwrap()["cancelled_reservations"], json!([booked["id"]]));
        assert_eq!(app.get(&path).await.status(), 404);
        assert_eq!(app.book(&bob, room, &at(12, 0), &at(13, 0)).await.status(), 400, "booking a deleted resource");
    }

    async fn tags_are_listed_renamed_and_deleted_everywhere(app: TestApp) {
        let admin = app.admin().await;
        let a = app.create_resource(&admin, json!({"name": "A", "tags": ["Quiet", "big"]})).await;
        app.create_resource(&admin, json!({"name": "B", "tags": ["quiet"]})).await;
        let tags: Value = app.get("/api/v1/resources/tags").await.json().await.unwrap();
        assert_eq!(tags, json!(["Quiet", "big", "quiet"]));
        let renamed = app.put_json_as(&admin, "/api/v1/resources/tags/rename", &json!({"old_name": "QUIET", "new_name": "silent"})).await;
        assert_eq!(renamed.status(), 200);
        assert_eq!(renamed.json::<Value>().await.unwrap()["updated_resources"], 2);
        let a_now: Value = app.get(&format!("/api/v1/resources/{a}")).await.json().await.unwrap();
        assert_eq!(a_now["tags"], json!(["silent", "big"]), "the renamed tag keeps its place (issue 11: tags keep their order)");
        let missing = app.put_json_as(&admin, "/api/v1/resources/tags/rename", &json!({"old_name": "nope", "new_name": "x"})).await;
        assert_eq!(missing.status(), 400);
        let deleted = app.delete_as(&admin, "/api/v1/resources/tags/silent").await;
        assert_eq!(deleted.json::<Value>().await.unwrap()["updated_resources"], 2);
        let details: Value = app.get_as(&admin, "/api/v1/resources/tags/details").await.json().await.unwrap();
        assert_eq!(details, json!([{"name": "big", "resource_count": 1}]));
    }

    async fn csv_import_is_all_or_nothing_with_line_numbers(app: TestApp) {
        let admin = app.admin().await;
        app.resource(&admin, "Existing").await;
        let upload = |name: &'static str, text: &'static str, query: &'static str| {
            let form = reqwest::multipart::Form::new()
                .part("file", reqwest::multipart::Part::text(text).file_name(name).mime_str("text/csv").unwrap());
            app.request_as(&admin, reqwest::Method::POST, &format!("/api/v1/resources/upload{query}")).multipart(form).send()
        };
        let bad = "name,tags,available\nDesk 1,\"a,b\",true\n,x,true\nExisting,,\nDesk 2,,sometimes\n";
        let refused = upload("desks.csv", bad, "").await.unwrap();
        assert_eq!(refused.status(), 422);
        let errors: Value = refused.json().await.unwrap();
        let messages: Vec<&str> = errors["detail"].as_array().unwrap().iter().map(|e| e["msg"].as_str().unwrap()).collect();
        assert_eq!(messages, ["Row 3: Missing resource name", "Row 4: Resource 'Existing' already exists.", "Row 5: available must be true or false, not 'sometimes'"]);
        let total: Value = app.get("/api/v1/resources?include_total=true").await.json().await.unwrap();
        assert_eq!(total["total_count"], 1, "nothing was half-imported");

        let good = "name,tags,available,description\n# desks on floor 2\nDesk 1,\"a,b\",true,window\nDesk 2,,no,\n";
        let preview: Value = upload("desks.csv", good, "?preview=true").await.unwrap().json().await.unwrap();
        assert_eq!(preview["preview"], true);
        assert_eq!(preview["would_create"].as_array().unwrap().len(), 2);
        let after_preview: Value = app.get("/api/v1/resources?include_total=true").await.json().await.unwrap();
        assert_eq!(after_preview["total_count"], 1, "a preview creates nothing");
        let imported = upload("desks.csv", good, "").await.unwrap();
        assert_eq!(imported.status(), 200);
        assert_eq!(imported.json::<Value>().await.unwrap()["created_count"], 2);
        let not_csv = upload("desks.txt", good, "").await.unwrap();
        assert_eq!(not_csv.status(), 400);
    }
}

both_backends! {
    #[app(clock)]
    async fn schedules_come_in_the_original_envelope(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        app.book(&bob, room, &at(10, 0), &at(11, 0)).await;
        let far = app.get(&format!("/api/v1/resources/{room}/availability?days_ahead=3650")).await;
        assert_eq!(far.status(), 422);
        // The clock stands at 2030-01-01 09:00; the booking is on the 7th.
        let near: Value = app.get(&format!("/api/v1/resources/{room}/schedule?days_ahead=3")).await.json().await.unwrap();
        assert_eq!(near["data"]["reservations"], json!([]));
        // Signed in: anonymous callers see no names (security_scheduling).
        let schedule: Value = app.get_as(&bob, &format!("/api/v1/resources/{room}/schedule?days_ahead=7")).await.json().await.unwrap();
        assert_eq!(schedule["success"], true);
        assert_eq!(schedule["data"]["resource_name"], "Room 1");
        assert_eq!(schedule["data"]["base_available"], true);
        let booked = &schedule["data"]["reservations"][0];
        assert_eq!((booked["user_name"].as_str(), booked["start_time"].as_str()), (Some("bob"), Some(at(10, 0).as_str())));
        let status: Value = app.get(&format!("/api/v1/resources/{room}/status")).await.json().await.unwrap();
        assert_eq!(status["status"], "available");
        assert_eq!(status["is_available_for_reservation"], true);
        let summary: Value = app.get("/api/v1/resources/availability/summary").await.json().await.unwrap();
        assert_eq!((summary["total_resources"].as_i64(), summary["available_now"].as_i64()), (Some(1), Some(1)));
        assert_eq!(app.get("/api/v1/resources/999/status").await.status(), 404);
        let _ = clock;
    }

    #[app(clock)]
    async fn maintenance_blocks_its_window_and_ends_by_itself(app: TestApp, clock: Arc<ManualClock>) {
        // The clock starts at 2030-01-01 09:00 UTC.
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let path = format!("/api/v1/resources/{room}/status/unavailable?auto_reset_hours=2");
        let started = app.put_json_as(&admin, &path, &json!({})).await;
        assert_eq!(started.status(), 200);
        assert_eq!(started.json::<Value>().await.unwrap()["resource"]["auto_reset_hours"], 2);
        let status: Value = app.get(&format!("/api/v1/resources/{room}/status")).await.json().await.unwrap();
        assert_eq!(status["status"], "unavailable");
        assert_eq!(status["hours_until_auto_reset"], 2.0);
        let inside = app.book(&bob, room, "2030-01-01T10:00:00Z", "2030-01-01T10:30:00Z").await;
        assert_eq!(inside.status(), 409, "no booking inside the maintenance window");
        let later = app.book(&bob, room, "2030-01-01T11:00:00Z", "2030-01-01T12:00:00Z").await;
        assert_eq!(later.status(), 201, "after the window is fine");
        let zero = app.put_json_as(&admin, &format!("/api/v1/resources/{room}/status/unavailable?auto_reset_hours=0"), &json!({})).await;
        assert_eq!(zero.status(), 422);

        clock.advance(Duration::from_secs(2 * 3600 + 60));
        let mut reset = false;
        for _ in 0..200 {
            let db = app.database().connect().await;
            let row = db.query_one("SELECT status FROM resources WHERE id = $1", resource_reserver::params![room]).await.unwrap();
            db.close().await;
            if row.get::<String>("status").unwrap() == "available" {
                reset = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(reset, "the actor's timer ended the maintenance in the database");
        // Signed in again (the token expired meanwhile): anonymous callers see no names.
        let bob = app.login_again(&bob).await;
        let status: Value = app.get_as(&bob, &format!("/api/v1/resources/{room}/status")).await.json().await.unwrap();
        assert_eq!(status["status"], "in_use", "11:01: bob's 11:00 booking is in progress");
        assert_eq!(status["current_reservation"]["user_id"], bob.id);
    }

    #[app(clock)]
    async fn ended_bookings_expire_on_time(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        assert_eq!(app.book(&bob, room, "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z").await.status(), 201);
        clock.advance(Duration::from_secs(2 * 3600 + 60));
        let mut expired = 0;
        for _ in 0..200 {
            expired = app.stored_reservations("expired").await;
            if expired == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(expired, 1, "expired by the actor's timer, no clean-up call needed");
        let bob = app.login_again(&bob).await;
        let active: Value = app.get_as(&bob, "/api/v1/reservations/my").await.json().await.unwrap();
        assert_eq!(active["data"].as_array().unwrap().len(), 0);
    }
}
