//! The resource list's page cache (`resources::pages`) never serves a stale page: after every
//! kind of write, the very next list read shows it, and a page stops being served when time
//! changes what it says (a booking starts).
//!
//! The manual clock stays inside one second (09:00:00.1–09:00:00.9) for the writes, where a
//! cached page would otherwise be served: each read after a write would see the page read
//! before it if the write did not invalidate it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::TestApp;
use crate::support::auth::TestUser;

/// The whole catalogue as `admin` (who sees who booked), as the list shows it.
async fn listed(app: &TestApp, admin: &TestUser) -> Vec<Value> {
    let response = app.get_as(admin, "/api/v1/resources?limit=100").await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["data"]
        .as_array()
        .unwrap()
        .clone()
}

async fn entry(app: &TestApp, admin: &TestUser, id: i64) -> Option<Value> {
    listed(app, admin).await.into_iter().find(|r| r["id"] == id)
}

async fn ok(response: reqwest::Response, what: &str) -> Value {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "{what}: {status} {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// 2030-01-01 09:00 plus `millis` ms (RFC 3339, UTC).
fn morning(millis: i64) -> String {
    use chrono::TimeZone;
    let base = chrono::Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
    (base + chrono::Duration::milliseconds(millis)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

both_backends! {
    #[app(clock)]
    async fn every_write_shows_in_the_next_list_read(app: TestApp, clock: Arc<ManualClock>) {
        // The clock starts at 09:00:00 exactly; a page read on a whole second is not kept.
        clock.advance(Duration::from_millis(100));
        let admin = app.admin().await;
        let alpha = app.resource(&admin, "Alpha").await;
        let first = listed(&app, &admin).await;
        assert_eq!(listed(&app, &admin).await, first, "the same page twice");

        // Resource created.
        let bravo = app.resource(&admin, "Bravo").await;
        assert!(entry(&app, &admin, bravo).await.is_some(), "a created resource is listed at once");

        // Resource updated (name, tags).
        let path = format!("/api/v1/resources/{alpha}");
        ok(app.put_json_as(&admin, &path, &json!({"name": "Aardvark", "tags": ["optics"]})).await, "update").await;
        let updated = entry(&app, &admin, alpha).await.unwrap();
        assert_eq!((updated["name"].clone(), updated["tags"].clone()), (json!("Aardvark"), json!(["optics"])));

        // Tags renamed and deleted everywhere.
        let rename = json!({"old_name": "optics", "new_name": "lasers"});
        ok(app.put_json_as(&admin, "/api/v1/resources/tags/rename", &rename).await, "tag rename").await;
        assert_eq!(entry(&app, &admin, alpha).await.unwrap()["tags"], json!(["lasers"]));
        ok(app.delete_as(&admin, "/api/v1/resources/tags/lasers").await, "tag delete").await;
        assert_eq!(entry(&app, &admin, alpha).await.unwrap()["tags"], json!([]));

        // Labels assigned.
        let label = ok(app.post_json_as(&admin, "/api/v1/labels", &json!({"category": "floor", "value": "3"})).await, "label").await;
        let assign = json!({"label_ids": [label["id"]]});
        ok(app.put_json_as(&admin, &format!("/api/v1/labels/resources/{alpha}"), &assign).await, "labels").await;
        let labels = entry(&app, &admin, alpha).await.unwrap()["labels"].clone();
        assert_eq!(labels.as_array().map(Vec::len), Some(1), "{labels}");

        // Maintenance on and off.
        let down = format!("/api/v1/resources/{alpha}/status/unavailable?auto_reset_hours=2");
        ok(app.put_json_as(&admin, &down, &json!({})).await, "maintenance").await;
        assert_eq!(entry(&app, &admin, alpha).await.unwrap()["status"], "unavailable");
        ok(app.put_json_as(&admin, &format!("/api/v1/resources/{alpha}/status/available"), &json!({})).await, "end").await;
        assert_eq!(entry(&app, &admin, alpha).await.unwrap()["status"], "available");

        // A blackout date today closes it now.
        let blackout = json!({"date": "2030-01-01", "reason": "Inventory"});
        ok(app.post_json_as(&admin, &format!("/api/v1/resources/{bravo}/blackout-dates"), &blackout).await, "blackout").await;
        assert_eq!(entry(&app, &admin, bravo).await.unwrap()["current_availability"], false);

        // A booking: the page read before it was kept until the end of the second; once the
        // booking has started (still inside that second) the next read shows it in use.
        assert_eq!(entry(&app, &admin, alpha).await.unwrap()["status"], "available");
        let booked = ok(app.book(&admin, alpha, &morning(300), &morning(3_600_300)).await, "booking").await;
        clock.advance(Duration::from_millis(300)); // 09:00:00.4
        let in_use = entry(&app, &admin, alpha).await.unwrap();
        assert_eq!((in_use["status"].clone(), in_use["current_user_name"].clone()), (json!("in_use"), json!(admin.username)));

        // Cancelled.
        let cancel = format!("/api/v1/reservations/{}/cancel", booked["id"]);
        ok(app.post_json_as(&admin, &cancel, &json!({})).await, "cancel").await;
        assert_eq!(entry(&app, &admin, alpha).await.unwrap()["status"], "available");

        // Deleted.
        ok(app.delete_as(&admin, &format!("/api/v1/resources/{bravo}")).await, "delete").await;
        assert!(entry(&app, &admin, bravo).await.is_none(), "a deleted resource leaves the list at once");
    }

    #[app(clock)]
    async fn a_page_is_not_served_past_the_start_or_end_of_a_booking(app: TestApp, clock: Arc<ManualClock>) {
        clock.advance(Duration::from_millis(100));
        let admin = app.admin().await;
        let room = app.resource(&admin, "Room").await;
        // Booked before the page is read, so only time can make the page wrong.
        ok(app.book(&admin, room, &morning(500), &morning(3_600_000)).await, "booking").await;
        assert_eq!(entry(&app, &admin, room).await.unwrap()["status"], "available");
        clock.advance(Duration::from_millis(500)); // 09:00:00.6, the booking has started
        assert_eq!(entry(&app, &admin, room).await.unwrap()["status"], "in_use");
        clock.advance(Duration::from_millis(3_600_000 - 600)); // 10:00:00.0, it has ended
        assert_eq!(entry(&app, &admin, room).await.unwrap()["status"], "available");
    }
}
