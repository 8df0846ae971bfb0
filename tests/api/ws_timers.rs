//! Every transition of the waitlist, holds, check-in and approvals is announced on `/ws` — the
//! original announced only offers and approvals made by requests, never what timers did.

use std::time::Duration;

use serde_json::json;

use crate::both_backends;

const TEN: &str = "2030-01-01T10:00:00Z";
const ELEVEN: &str = "2030-01-01T11:00:00Z";

both_backends! {
    #[app(clock, long_tokens)]
    async fn offers_and_their_expiry_are_announced(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (alice, bob) = (app.user("alice").await, app.user("bob").await);
        let room = app.resource(&admin, "Room 1").await;
        let booked: serde_json::Value = app.book(&alice, room, TEN, ELEVEN).await.json().await.unwrap();
        let joined: serde_json::Value = app
            .post_json_as(&bob, "/api/v1/waitlist", &json!({"resource_id": room, "desired_start": TEN, "desired_end": ELEVEN}))
            .await
            .json()
            .await
            .unwrap();
        let mut bobs = app.ws(&bob).await;
        app.post_json_as(&alice, &format!("/api/v1/reservations/{}/cancel", booked["id"]), &json!({})).await;
        let offer = bobs.next_of("waitlist_offer").await;
        assert_eq!((offer["waitlist_id"].clone(), offer["resource_name"].as_str()), (joined["id"].clone(), Some("Room 1")));
        assert_eq!(offer["expires_at"], "2030-01-01T09:30:00Z");
        clock.advance(Duration::from_secs(31 * 60));
        let expired = bobs.next_of("waitlist_offer_expired").await;
        assert_eq!(expired["waitlist_id"], joined["id"]);
    }

    #[app(clock, long_tokens)]
    async fn holds_and_no_shows_are_announced(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.create_resource(&admin, json!({"name": "Desk", "checkin_window_minutes": 10})).await;
        let mut bobs = app.ws(&bob).await;
        let hold = json!({"resource_id": room, "start_time": "2030-01-01T12:00:00Z", "end_time": "2030-01-01T13:00:00Z"});
        app.post_json_as(&bob, "/api/v1/holds", &hold).await;
        assert_eq!(bobs.next_of("hold_created").await["expires_at"], "2030-01-01T09:05:00Z");
        app.book(&bob, room, TEN, ELEVEN).await;
        bobs.next_of("reservation_created").await;
        clock.advance(Duration::from_secs(6 * 60));
        assert_eq!(bobs.next_of("hold_expired").await["status"], "expired");
        clock.advance(Duration::from_secs(66 * 60)); // 10:11
        let released = bobs.next_of("reservation_released").await;
        assert_eq!((released["status"].as_str(), released["start_time"].as_str()), (Some("released"), Some(TEN)));
    }

    #[app(clock, long_tokens)]
    async fn approval_requests_and_answers_are_announced(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Lab").await;
        let settings = json!({"requires_approval": true, "default_approver_id": admin.id});
        app.put_json_as(&admin, &format!("/api/v1/approvals/resources/{room}/settings"), &settings).await;
        let (mut admins, mut bobs) = (app.ws(&admin).await, app.ws(&bob).await);
        let requested: serde_json::Value = app
            .post_json_as(&bob, "/api/v1/approvals/reservations", &json!({"resource_id": room, "start_time": TEN, "end_time": ELEVEN}))
            .await
            .json()
            .await
            .unwrap();
        let request = admins.next_of("approval_request").await;
        assert_eq!((request["requester"].as_str(), request["approval_id"].clone()), (Some("bob"), requested["approval_id"].clone()));
        app.post_json_as(&admin, &format!("/api/v1/approvals/{}/respond", requested["approval_id"]), &json!({"action": "reject", "response_message": "full"}))
            .await;
        let answer = bobs.next_of("reservation_rejected").await;
        assert_eq!((answer["reason"].as_str(), answer["resource_name"].as_str()), (Some("full"), Some("Lab")));
        let _ = clock;
    }
}
