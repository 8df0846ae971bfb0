//! In-app notifications: written with the changes they announce, to the users they concern.

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::booking::at;

both_backends! {
    async fn bookings_cancellations_and_offers_notify_their_users(app: TestApp) {
        let admin = app.admin().await;
        let (bob, carol) = (app.user("bob").await, app.user("carol").await);
        let room = app.resource(&admin, "Room 1").await;
        let booked: Value = app.book(&bob, room, &at(10, 0), &at(11, 0)).await.json().await.unwrap();
        let joined = json!({"resource_id": room, "desired_start": at(10, 0), "desired_end": at(11, 0)});
        let entry: Value = app.post_json_as(&carol, "/api/v1/waitlist", &joined).await.json().await.unwrap();
        // The admin cancels Bob's booking: Bob is told (the original told the admin).
        app.post_json_as(&admin, &format!("/api/v1/reservations/{}/cancel", booked["id"]), &json!({})).await;

        let bobs: Value = app.get_as(&bob, "/api/v1/notifications?include_total=true").await.json().await.unwrap();
        let kinds: Vec<&str> = bobs["data"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["reservation_cancelled", "reservation_confirmed"], "newest first");
        assert_eq!(bobs["unread_count"], 2);
        assert_eq!(bobs["data"][1]["title"], "Reservation confirmed");
        assert_eq!(bobs["data"][1]["link"], format!("/reservations/{}", booked["id"]));
        assert!(bobs["data"][1]["message"].as_str().unwrap().starts_with("Room 1 booked from"));

        let carols: Value = app.get_as(&carol, "/api/v1/notifications").await.json().await.unwrap();
        assert_eq!(carols["data"][0]["type"], "resource_available");
        assert_eq!(carols["data"][0]["link"], format!("/waitlist/{}/accept", entry["id"]));
        let admins: Value = app.get_as(&admin, "/api/v1/notifications").await.json().await.unwrap();
        assert_eq!(admins["data"], json!([]), "the canceller is not notified of someone else's booking");

        let first = bobs["data"][0]["id"].as_i64().unwrap();
        let read: Value = app.post_json_as(&bob, &format!("/api/v1/notifications/{first}/read"), &json!({})).await.json().await.unwrap();
        assert_eq!((read["read"].as_bool(), read["id"].as_i64()), (Some(true), Some(first)));
        assert_eq!(app.post_json_as(&carol, &format!("/api/v1/notifications/{first}/read"), &json!({})).await.status(), 404);
        let unread: Value = app.get_as(&bob, "/api/v1/notifications?unread_only=true").await.json().await.unwrap();
        assert_eq!(unread["data"].as_array().unwrap().len(), 1);
        let all: Value = app.post_json_as(&bob, "/api/v1/notifications/mark-all-read", &json!({})).await.json().await.unwrap();
        assert_eq!(all["updated"], 1);
        let page: Value = app.get_as(&bob, "/api/v1/notifications?limit=1&sort_by=read").await.json().await.unwrap();
        assert_eq!((page["has_more"].as_bool(), page["unread_count"].as_i64()), (Some(true), Some(0)));
        assert_eq!(app.get_as(&bob, "/api/v1/notifications?sort_by=colour").await.status(), 400);
    }
}
