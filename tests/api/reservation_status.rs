//! A reservation's stored status is read through one enum: a status the server does not know is
//! a server fault (500), never taken for an active booking.

use serde_json::Value;

use crate::both_backends;
use crate::support::booking::at;

both_backends! {
    async fn an_unknown_stored_status_is_a_server_error_not_an_active_booking(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let booked: Value = app.book(&bob, room, &at(10, 0), &at(11, 0)).await.json().await.unwrap();
        let id = booked["id"].as_i64().unwrap();
        let path = format!("/api/v1/reservations/{id}");
        assert_eq!(app.get_as(&bob, &path).await.status(), 200);

        let db = app.database().connect().await;
        db.execute("UPDATE reservations SET status = 'actve' WHERE id = $1", vec![id.into()]).await.unwrap();
        db.close().await;

        assert_eq!(app.get_as(&bob, &path).await.status(), 500);
        assert_eq!(app.get_as(&bob, "/api/v1/reservations/my?include_cancelled=true").await.status(), 500);
        let cancel = app.request_as(&bob, reqwest::Method::POST, &format!("{path}/cancel")).json(&serde_json::json!({})).send().await.unwrap();
        assert_eq!(cancel.status(), 500, "not cancelled as if it were active");
    }
}
