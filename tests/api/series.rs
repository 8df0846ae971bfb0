//! Recurring series: expansion in the resource's time zone, conflicts, self-overlap, cancelling
//! from an occurrence on.

use serde_json::{Value, json};

use resource_reserver::params;

use crate::both_backends;
use crate::support::booking::at;
use crate::support::response::status_and_detail;

fn starts(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|r| r["start_time"].as_str().unwrap().to_owned())
        .collect()
}

both_backends! {
    async fn a_weekly_series_keeps_its_local_time_across_dst(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        for (zone, first, expected_utc) in [
            // Berlin switches to summer time on 2030-03-31: 09:00 CET is 08:00Z, 09:00 CEST is 07:00Z.
            ("Europe/Berlin", "2030-03-18T08:00:00Z", ["2030-03-18T08:00:00Z", "2030-03-25T08:00:00Z", "2030-04-01T07:00:00Z", "2030-04-08T07:00:00Z"]),
            // New York on 2030-03-10: 09:00 EST is 14:00Z, 09:00 EDT is 13:00Z.
            ("America/New_York", "2030-03-04T14:00:00Z", ["2030-03-04T14:00:00Z", "2030-03-11T13:00:00Z", "2030-03-18T13:00:00Z", "2030-03-25T13:00:00Z"]),
        ] {
            let room = app.create_resource(&admin, json!({"name": format!("Room in {zone}"), "timezone": zone})).await;
            let end = chrono::DateTime::parse_from_rfc3339(first).unwrap() + chrono::Duration::hours(1);
            let body = json!({
                "resource_id": room,
                "start_time": first,
                "end_time": end.to_rfc3339(),
                "recurrence": {"frequency": "weekly", "interval": 1, "end_type": "after_count", "occurrence_count": 4},
            });
            let response = app.post_json_as(&bob, "/api/v1/reservations/recurring", &body).await;
            assert_eq!(response.status(), 201, "{zone}");
            let created: Value = response.json().await.unwrap();
            assert_eq!(starts(&created), expected_utc, "{zone}: 09:00 local every week");
            let local: Value = app
                .request_as(&bob, reqwest::Method::GET, "/api/v1/reservations/my?sort_by=start_time&sort_order=asc")
                .header("X-Timezone", zone)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for reservation in local["data"].as_array().unwrap().iter().filter(|r| r["resource_id"] == room) {
                assert!(reservation["start_time"].as_str().unwrap().contains("T09:00:00"), "{zone}: {reservation}");
            }
            let parent = created[0]["id"].clone();
            assert_eq!(created[0]["is_recurring_instance"], false);
            assert_eq!(created[1]["parent_reservation_id"], parent);
            assert_eq!(created[1]["is_recurring_instance"], true);
            assert_eq!(created[0]["recurrence_rule_id"], created[3]["recurrence_rule_id"]);
        }
    }

    async fn a_conflicting_series_is_refused_whole_or_booked_with_skips(app: TestApp) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let room = app.resource(&admin, "Room 1").await;
        // Eve holds the third day.
        assert_eq!(app.book(&eve, room, &at(48 + 10, 0), &at(48 + 11, 0)).await.status(), 201);
        let series = |skip: bool| json!({
            "resource_id": room, "start_time": at(10, 0), "end_time": at(11, 0), "skip_conflicts": skip,
            "recurrence": {"frequency": "daily", "end_type": "after_count", "occurrence_count": 4},
        });
        let refused = app.post_json_as(&bob, "/api/v1/reservations/recurring", &series(false)).await;
        assert_eq!(refused.status(), 409);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["conflicts"], json!([{"start_time": at(58, 0), "end_time": at(59, 0), "reason": "booked"}]));
        assert_eq!(app.stored_reservations("active").await, 1, "nothing of the series was booked");

        let skipping = app.post_json_as(&bob, "/api/v1/reservations/recurring", &series(true)).await;
        assert_eq!(skipping.status(), 201);
        let body: Value = skipping.json().await.unwrap();
        assert_eq!(starts(&body["created"]), [at(10, 0), at(34, 0), at(82, 0)]);
        assert_eq!(body["skipped"], json!([{"start_time": at(58, 0), "end_time": at(59, 0), "reason": "booked"}]));
        assert_eq!(app.stored_reservations("active").await, 4);
    }

    async fn a_series_never_overlaps_itself_and_bad_rules_are_422(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.create_resource(&admin, json!({"name": "Room 1", "timezone": "Europe/Berlin"})).await;
        let cases = [
            // 24 hours every day at 10:00 Berlin time: the 23-hour day of the DST switch
            // (2030-03-31) makes one occurrence run into the next.
            (json!({"frequency": "daily", "occurrence_count": 3}), "2030-03-30T09:00:00Z".to_owned(), "2030-03-31T09:00:00Z".to_owned(), "overlap"),
            (json!({"frequency": "daily", "interval": 0}), at(10, 0), at(11, 0), "Interval must be at least 1"),
            (json!({"frequency": "weekly", "days_of_week": [7]}), at(10, 0), at(11, 0), "between 0 (Mon) and 6 (Sun)"),
            (json!({"frequency": "daily", "occurrence_count": 500}), at(10, 0), at(11, 0), "at most 100"),
            (json!({"frequency": "daily", "end_type": "on_date"}), at(10, 0), at(11, 0), "end_date is required"),
            (json!({"frequency": "hourly"}), at(10, 0), at(11, 0), "unknown variant"),
        ];
        for (recurrence, start, end, needle) in cases {
            let body = json!({"resource_id": room, "start_time": start, "end_time": end, "recurrence": recurrence});
            let response = app.post_json_as(&bob, "/api/v1/reservations/recurring", &body).await;
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(status == 422 || status == 400, "{recurrence}: {status} {text}");
            assert!(text.contains(needle), "{recurrence}: {text}");
        }
        let past = json!({"resource_id": room, "start_time": "2020-01-01T10:00:00Z", "end_time": "2020-01-01T11:00:00Z",
                          "recurrence": {"frequency": "daily"}});
        assert_eq!(app.post_json_as(&bob, "/api/v1/reservations/recurring", &past).await.status(), 422, "no past series");
        assert_eq!(app.stored_reservations("active").await, 0);
    }

    async fn a_series_can_be_cancelled_from_an_occurrence_on(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let body = json!({"resource_id": room, "start_time": at(10, 0), "end_time": at(11, 0),
                          "recurrence": {"frequency": "daily", "end_type": "on_date", "end_date": "2030-01-11"}});
        let created: Value = app.post_json_as(&bob, "/api/v1/reservations/recurring", &body).await.json().await.unwrap();
        assert_eq!(created.as_array().unwrap().len(), 5, "the 7th to the 11th, end date included");
        let one = created[1]["id"].as_i64().unwrap();
        let cancelled = app.post_json_as(&bob, &format!("/api/v1/reservations/{one}/cancel"), &json!({})).await;
        assert_eq!(cancelled.json::<Value>().await.unwrap()["cancelled_reservation_ids"], json!([one]));
        let third = created[2]["id"].as_i64().unwrap();
        let following = app
            .post_json_as(&bob, &format!("/api/v1/reservations/{third}/cancel"), &json!({"scope": "following", "reason": "project ended"}))
            .await;
        let ids = following.json::<Value>().await.unwrap()["cancelled_reservation_ids"].clone();
        assert_eq!(ids, json!([created[2]["id"], created[3]["id"], created[4]["id"]]));
        assert_eq!(app.stored_reservations("active").await, 1, "only the first occurrence is left");
    }

    async fn cancelling_the_following_occurrences_after_one_was_cancelled_elsewhere_cancels_the_others(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let body = json!({"resource_id": room, "start_time": at(10, 0), "end_time": at(11, 0),
                          "recurrence": {"frequency": "daily", "occurrence_count": 3, "end_type": "after_count"}});
        let created: Value = app.post_json_as(&bob, "/api/v1/reservations/recurring", &body).await.json().await.unwrap();
        let ids: Vec<i64> = created.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 3);
        // The last occurrence is cancelled through another server: this one's actor still holds it.
        app.behind_the_servers_back("UPDATE reservations SET status = 'cancelled' WHERE id = $1", params![ids[2]]).await;

        let path = format!("/api/v1/reservations/{}/cancel", ids[0]);
        let following = json!({"scope": "following"});
        // The store refuses the batch planned on the stale copy (it would cancel the third
        // again); the server reloads and cancels what is still active.
        let cancelled = app.post_json_as(&bob, &path, &following).await;
        assert_eq!(cancelled.status(), 200);
        assert_eq!(cancelled.json::<Value>().await.unwrap()["cancelled_reservation_ids"], json!([ids[0], ids[1]]));
        let again = status_and_detail(app.post_json_as(&bob, &format!("/api/v1/reservations/{}/cancel", ids[2]), &json!({})).await).await;
        assert_eq!(again, (400, "Reservation is already cancelled".to_owned()));
        assert_eq!(app.stored_reservations("active").await, 0);
    }
}
