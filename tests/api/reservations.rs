//! Booking: the rules on every path, concurrency, listing, cancelling, history, IDOR.

use serde_json::{Value, json};

use resource_reserver::params;

use crate::both_backends;
use crate::support::booking::at;
use crate::support::response::{status_and_body, status_and_detail};

both_backends! {
    async fn a_booking_is_201_with_the_resource_embedded(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.create_resource(&admin, json!({"name": "Room 1", "tags": ["big"]})).await;
        let response = app.book(&bob, room, &at(10, 0), &at(11, 0)).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "active");
        assert_eq!(body["user_id"], bob.id);
        assert_eq!(body["resource"]["id"], room);
        assert_eq!(body["resource"]["name"], "Room 1");
        assert_eq!(body["start_time"], at(10, 0));
        assert_eq!(body["end_time"], at(11, 0));
        assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(app.stored_reservations("active").await, 1);
    }

    async fn overlapping_is_409_and_touching_is_fine(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        let clash = app.book(&bob, room, &at(10, 30), &at(11, 30)).await;
        assert_eq!(clash.status(), 409);
        let detail = clash.json::<Value>().await.unwrap()["detail"].as_str().unwrap().to_owned();
        assert_eq!(detail, "Time slot conflicts with existing reservations: 10:00 to 11:00");
        assert_eq!(app.book(&bob, room, &at(11, 0), &at(12, 0)).await.status(), 201, "touching is allowed");
        assert_eq!(app.book(&bob, room, &at(9, 0), &at(10, 0)).await.status(), 201);
        assert_eq!(app.stored_reservations("active").await, 3);
    }

    async fn every_bad_input_is_a_4xx_json_error_and_stores_nothing(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let disabled = app.create_resource(&admin, json!({"name": "Broken", "available": false})).await;
        let cases: Vec<(Value, u16, &str)> = vec![
            (json!({"resource_id": room, "start_time": "2020-01-01T10:00:00Z", "end_time": "2020-01-01T11:00:00Z"}), 422, "Start time must be in the future"),
            (json!({"resource_id": room, "start_time": at(11, 0), "end_time": at(10, 0)}), 422, "End time must be after start time"),
            (json!({"resource_id": room, "start_time": at(10, 0), "end_time": at(10, 10)}), 422, "Reservation must be at least 15 minutes"),
            (json!({"resource_id": room, "start_time": at(10, 0), "end_time": at(35, 0)}), 400, "Reservations cannot exceed 24 hours"),
            (json!({"resource_id": disabled, "start_time": at(10, 0), "end_time": at(11, 0)}), 400, "Resource is not available for reservations"),
            (json!({"resource_id": 999_999, "start_time": at(10, 0), "end_time": at(11, 0)}), 400, "Resource not found"),
            (json!({"resource_id": room, "start_time": "next tuesday", "end_time": at(11, 0)}), 422, "valid datetime"),
            (json!({"resource_id": room, "start_time": at(10, 0)}), 422, "Field required"),
            (json!({"resource_id": "one", "start_time": at(10, 0), "end_time": at(11, 0)}), 422, "invalid type"),
        ];
        for (body, status, needle) in cases {
            let response = app.post_json_as(&bob, "/api/v1/reservations", &body).await;
            assert_eq!(response.status(), status, "{body}");
            let text = response.text().await.unwrap();
            let error: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("a JSON body: {text}"));
            assert!(error["detail"].to_string().contains(needle), "{body} -> {text}");
        }
        let raw = app.request_as(&bob, reqwest::Method::POST, "/api/v1/reservations")
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status(), 422);
        assert_eq!(raw.json::<Value>().await.unwrap()["detail"][0]["type"], "json_invalid");
        let db = app.database().connect().await;
        let all = db.query_one("SELECT COUNT(*) AS n FROM reservations", vec![]).await.unwrap();
        assert_eq!(all.get::<i64>("n").unwrap(), 0, "no rule violation stored anything");
    }

    async fn sixty_four_clients_racing_for_one_slot_yield_exactly_one_booking(app: TestApp) {
        let admin = app.admin().await;
        let room = app.resource(&admin, "Contended").await;
        let mut users = Vec::new();
        for i in 0..16 {
            users.push(app.user(&format!("racer{i}")).await);
        }
        let (start, end) = (at(10, 0), at(11, 0));
        let attempts = (0..64).map(|i| {
            let (app, user, start, end) = (&app, &users[i % users.len()], start.clone(), end.clone());
            async move { app.book(user, room, &start, &end).await.status().as_u16() }
        });
        let statuses = futures::future::join_all(attempts).await;
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 63, "{statuses:?}");
        assert_eq!(app.stored_reservations("active").await, 1);
    }

    async fn my_reservations_are_paginated_and_only_mine(app: TestApp) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let room = app.resource(&admin, "Room 1").await;
        for hour in 0..5 {
            assert_eq!(app.book(&bob, room, &at(10 + 2 * hour, 0), &at(11 + 2 * hour, 0)).await.status(), 201);
        }
        assert_eq!(app.book(&eve, room, &at(30, 0), &at(31, 0)).await.status(), 201);
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                None => "/api/v1/reservations/my?limit=2&sort_by=start_time&sort_order=asc&include_total=true".to_owned(),
                Some(c) => format!("/api/v1/reservations/my?limit=2&sort_by=start_time&sort_order=asc&include_total=true&cursor={c}"),
            };
            let page: Value = app.get_as(&bob, &path).await.json().await.unwrap();
            assert_eq!(page["total_count"], 5);
            assert_eq!(page["prev_cursor"], Value::Null);
            for item in page["data"].as_array().unwrap() {
                assert_eq!(item["user_id"], bob.id, "never another user's reservation");
                seen.push(item["start_time"].as_str().unwrap().to_owned());
            }
            if page["has_more"] == false {
                assert_eq!(page["next_cursor"], Value::Null);
                break;
            }
            cursor = page["next_cursor"].as_str().map(str::to_owned);
        }
        let expected: Vec<String> = (0..5).map(|h| at(10 + 2 * h, 0)).collect();
        assert_eq!(seen, expected, "pages are disjoint, complete and in order");
        let bad = app.get_as(&bob, "/api/v1/reservations/my?sort_by=colour").await;
        assert_eq!(bad.status(), 400);
        assert_eq!(app.get_as(&bob, "/api/v1/reservations/my?cursor=garbage").await.status(), 400);
        assert_eq!(app.get_as(&bob, "/api/v1/reservations/my?limit=0").await.status(), 422);
        let legacy = app.get_as(&bob, "/reservations/my").await;
        assert_eq!(legacy.status(), 200, "the legacy alias works (it was a 500)");
    }

    async fn cancelling_frees_the_slot_and_is_recorded_in_history(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let booked: Value = app.book(&bob, room, &at(10, 0), &at(11, 0)).await.json().await.unwrap();
        let id = booked["id"].as_i64().unwrap();
        let path = format!("/api/v1/reservations/{id}/cancel");
        let missing_body = app.request_as(&bob, reqwest::Method::POST, &path).send().await.unwrap();
        assert_eq!(missing_body.status(), 422, "the original requires a body");
        let cancelled = app.post_json_as(&bob, &path, &json!({"reason": "plans changed"})).await;
        assert_eq!(cancelled.status(), 200);
        let body: Value = cancelled.json().await.unwrap();
        assert_eq!(body["message"], "Reservation cancelled successfully");
        assert_eq!(body["reservation_id"], id);
        let again = app.post_json_as(&bob, &path, &json!({})).await;
        assert_eq!(again.status(), 400);
        assert_eq!(again.json::<Value>().await.unwrap()["detail"], "Reservation is already cancelled");
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201, "the slot is free again");

        let history: Value = app.get_as(&bob, &format!("/api/v1/reservations/{id}/history")).await.json().await.unwrap();
        let actions: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["cancelled", "created"], "newest first");
        assert!(history[0]["details"].as_str().unwrap().contains("plans changed"));
        assert_eq!(history[0]["user_id"], bob.id);

        let listed: Value = app.get_as(&bob, "/api/v1/reservations/my?include_cancelled=true").await.json().await.unwrap();
        let statuses: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert!(statuses.contains(&"cancelled") && statuses.contains(&"active"));
        let active_only: Value = app.get_as(&bob, "/api/v1/reservations/my").await.json().await.unwrap();
        assert_eq!(active_only["data"].as_array().unwrap().len(), 1);
    }

    async fn another_users_reservation_cannot_be_read_changed_or_cancelled(app: TestApp) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let room = app.resource(&admin, "Room 1").await;
        let booked: Value = app.book(&bob, room, &at(10, 0), &at(11, 0)).await.json().await.unwrap();
        let id = booked["id"].as_i64().unwrap();
        let attempts = [
            app.get_as(&eve, &format!("/api/v1/reservations/{id}")).await,
            app.get_as(&eve, &format!("/api/v1/reservations/{id}/history")).await,
            app.post_json_as(&eve, &format!("/api/v1/reservations/{id}/cancel"), &json!({})).await,
            app.patch_json_as(&eve, &format!("/api/v1/reservations/{id}"), &json!({"start_time": at(12, 0), "end_time": at(13, 0)})).await,
        ];
        for response in attempts {
            assert_eq!(response.status(), 404, "a stranger cannot even learn it exists");
            assert_eq!(response.json::<Value>().await.unwrap()["detail"], "Reservation not found");
        }
        let eves: Value = app.get_as(&eve, "/api/v1/reservations/my?include_cancelled=true").await.json().await.unwrap();
        assert_eq!(eves["data"].as_array().unwrap().len(), 0);
        assert_eq!(app.stored_reservations("active").await, 1, "still booked, unchanged");
        // The owner and the admin can.
        assert_eq!(app.get_as(&bob, &format!("/api/v1/reservations/{id}")).await.status(), 200);
        assert_eq!(app.get_as(&admin, &format!("/api/v1/reservations/{id}")).await.status(), 200);
        let by_admin = app.post_json_as(&admin, &format!("/api/v1/reservations/{id}/cancel"), &json!({})).await;
        assert_eq!(by_admin.status(), 200, "an admin may cancel anyone's booking");
    }

    async fn a_reservation_can_be_moved_to_a_free_slot(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let first: Value = app.book(&bob, room, &at(10, 0), &at(11, 0)).await.json().await.unwrap();
        assert_eq!(app.book(&bob, room, &at(12, 0), &at(13, 0)).await.status(), 201);
        let id = first["id"].as_i64().unwrap();
        let path = format!("/api/v1/reservations/{id}");
        let clash = app.patch_json_as(&bob, &path, &json!({"start_time": at(12, 30), "end_time": at(13, 30)})).await;
        assert_eq!(clash.status(), 409);
        let moved = app.patch_json_as(&bob, &path, &json!({"start_time": at(10, 30), "end_time": at(11, 30)})).await;
        assert_eq!(moved.status(), 200, "overlapping its own old slot is fine");
        assert_eq!(moved.json::<Value>().await.unwrap()["start_time"], at(10, 30));
        assert_eq!(app.book(&bob, room, &at(9, 30), &at(10, 30)).await.status(), 201, "the old slot's start is free");
        let history: Value = app.get_as(&bob, &format!("{path}/history")).await.json().await.unwrap();
        assert_eq!(history[0]["action"], "modified");
    }

    async fn a_move_planned_on_a_stale_copy_never_undoes_a_cancellation(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let later = json!({"start_time": at(12, 0), "end_time": at(13, 0)});
        // What one server answers to a move of a booking it knows is cancelled.
        let known: Value = app.book(&bob, room, &at(14, 0), &at(15, 0)).await.json().await.unwrap();
        let known = format!("/api/v1/reservations/{}", known["id"]);
        assert_eq!(app.post_json_as(&bob, &format!("{known}/cancel"), &json!({})).await.status(), 200);
        let single_node = status_and_body(app.patch_json_as(&bob, &known, &later).await).await;
        assert_eq!(single_node.0, 400, "{single_node:?}");

        let booked: Value = app.book(&bob, room, &at(10, 0), &at(11, 0)).await.json().await.unwrap();
        let id = booked["id"].as_i64().unwrap();
        let path = format!("/api/v1/reservations/{id}");
        // Cancelled through another server: this one's actor still holds it active.
        app.behind_the_servers_back("UPDATE reservations SET status = 'cancelled' WHERE id = $1", params![id]).await;
        let stored_before = app.stored_reservation(id).await;

        // The store refuses the move planned on the stale copy; the server reloads and answers
        // what one server that knew of the cancellation answers.
        let answer = status_and_body(app.patch_json_as(&bob, &path, &later).await).await;
        assert_eq!(answer, single_node);
        assert_eq!(app.stored_reservation(id).await, stored_before, "still cancelled, at its old times");
        assert_eq!(stored_before.0, "cancelled");
        let again = status_and_detail(app.post_json_as(&bob, &format!("{path}/cancel"), &json!({})).await).await;
        assert_eq!(again, (400, "Reservation is already cancelled".to_owned()));
        assert_eq!(app.stored_reservation(id).await, stored_before);
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201, "the slot is free");
    }

    async fn times_are_shown_in_the_requested_zone(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let response = app
            .request_as(&bob, reqwest::Method::POST, "/api/v1/reservations")
            .header("X-Timezone", "America/New_York")
            .json(&json!({"resource_id": room, "start_time": at(15, 0), "end_time": at(16, 0)}))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["start_time"], "2030-01-07T10:00:00-05:00");
        let listed: Value = app
            .request_as(&bob, reqwest::Method::GET, "/api/v1/reservations/my")
            .header("X-Timezone", "Not/A_Zone")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["data"][0]["start_time"], at(15, 0), "an unknown zone falls back to UTC");
    }

    async fn the_admin_cleanup_expires_ended_bookings_and_needs_admin(app: TestApp) {
        let bob = app.user("bob").await;
        let response = app.post_json_as(&bob, "/api/v1/admin/cleanup-expired", &json!({})).await;
        assert_eq!(response.status(), 403, "no longer open to any user");
        let admin = app.admin().await;
        let body: Value = app.post_json_as(&admin, "/api/v1/admin/cleanup-expired", &json!({})).await.json().await.unwrap();
        assert_eq!(body["expired_count"], 0);
    }
}
