//! Temporary holds, check-in with auto-release, and approvals — each driven by the resource
//! actor's timers on a manual clock.

use std::time::Duration;

use serde_json::{Value, json};

use resource_reserver::params;

use crate::both_backends;
use crate::support::response::status_and_detail;
use crate::support::timers::eventually;

const TEN: &str = "2030-01-01T10:00:00Z";
const ELEVEN: &str = "2030-01-01T11:00:00Z";

both_backends! {
    #[app(clock, long_tokens)]
    async fn a_hold_blocks_others_lapses_by_itself_and_can_be_confirmed(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let room = app.resource(&admin, "Room 1").await;
        let hold = |minutes: i64| json!({"resource_id": room, "start_time": TEN, "end_time": ELEVEN, "minutes": minutes});
        let placed = app.post_json_as(&bob, "/api/v1/holds", &hold(5)).await;
        assert_eq!(placed.status(), 201);
        let placed: Value = placed.json().await.unwrap();
        assert_eq!(placed["expires_at"], "2030-01-01T09:05:00Z");
        assert_eq!(app.book(&eve, room, TEN, ELEVEN).await.status(), 409, "held for bob");
        assert_eq!(app.post_json_as(&eve, "/api/v1/holds", &hold(5)).await.status(), 409);
        assert_eq!(app.post_json_as(&bob, "/api/v1/holds", &hold(60)).await.status(), 422, "at most 15 minutes");
        let stolen = app.post_json_as(&eve, &format!("/api/v1/holds/{}/confirm", placed["id"]), &json!({})).await;
        assert_eq!(stolen.status(), 404, "someone else's hold does not exist for eve");

        clock.advance(Duration::from_secs(6 * 60));
        eventually("the hold to lapse", || async {
            let response = app.book(&eve, room, TEN, ELEVEN).await;
            (response.status() == 201).then_some(())
        })
        .await;
        let late = app.post_json_as(&bob, &format!("/api/v1/holds/{}/confirm", placed["id"]), &json!({})).await;
        assert_eq!(late.status(), 410);

        let next = json!({"resource_id": room, "start_time": "2030-01-01T12:00:00Z", "end_time": "2030-01-01T13:00:00Z"});
        let placed: Value = app.post_json_as(&bob, "/api/v1/holds", &next).await.json().await.unwrap();
        let confirmed = app.post_json_as(&bob, &format!("/api/v1/holds/{}/confirm", placed["id"]), &json!({})).await;
        assert_eq!(confirmed.status(), 201);
        let reservation: Value = confirmed.json().await.unwrap();
        assert_eq!((reservation["status"].as_str(), reservation["id"].clone()), (Some("active"), placed["id"].clone()));
    }

    #[app(clock, long_tokens)]
    async fn a_booking_not_checked_in_is_released_to_the_waitlist(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (alice, bob, carol) = (app.user("alice").await, app.user("bob").await, app.user("carol").await);
        let room = app.create_resource(&admin, json!({"name": "Desk 1", "checkin_window_minutes": 10})).await;
        let booked: Value = app.book(&alice, room, TEN, ELEVEN).await.json().await.unwrap();
        let kept: Value = app.book(&carol, room, "2030-01-01T11:00:00Z", "2030-01-01T12:00:00Z").await.json().await.unwrap();
        let flexible = json!({"resource_id": room, "desired_start": TEN, "desired_end": ELEVEN, "flexible_time": true});
        let entry: Value = app.post_json_as(&bob, "/api/v1/waitlist", &flexible).await.json().await.unwrap();
        let early = app.post_json_as(&alice, &format!("/api/v1/reservations/{}/check-in", booked["id"]), &json!({})).await;
        assert_eq!(early.status(), 400, "check-in opens 15 minutes before the start");

        clock.advance(Duration::from_secs(71 * 60)); // 10:11, one minute past Alice's deadline
        let offered = eventually("the no-show to be released and offered", || async {
            let entry: Value = app.get_as(&bob, &format!("/api/v1/waitlist/{}", entry["id"])).await.json().await.unwrap();
            (entry["status"] == "offered").then_some(entry)
        })
        .await;
        assert_eq!(offered["offered_end"], ELEVEN);
        let history: Value = app.get_as(&alice, &format!("/api/v1/reservations/{}/history", booked["id"])).await.json().await.unwrap();
        assert_eq!(history[0]["action"], "released");
        let late = app.post_json_as(&alice, &format!("/api/v1/reservations/{}/check-in", booked["id"]), &json!({})).await;
        assert_eq!(late.status(), 400, "a released booking cannot be checked in");

        clock.advance(Duration::from_secs(40 * 60)); // 10:51: Carol checks in to her 11:00 booking in time
        let checked = app.post_json_as(&carol, &format!("/api/v1/reservations/{}/check-in", kept["id"]), &json!({})).await;
        assert_eq!(checked.status(), 200);
        clock.advance(Duration::from_secs(30 * 60)); // 11:21, past her deadline: she stays
        tokio::time::sleep(Duration::from_millis(200)).await;
        let carols: Value = app.get_as(&carol, &format!("/api/v1/reservations/{}", kept["id"])).await.json().await.unwrap();
        assert_eq!(carols["status"], "active");
    }

    #[app(clock, long_tokens)]
    async fn a_check_in_already_made_elsewhere_is_answered_already_checked_in(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let alice = app.user("alice").await;
        let room = app.create_resource(&admin, json!({"name": "Desk 1", "checkin_window_minutes": 10})).await;
        let booked: Value = app.book(&alice, room, TEN, ELEVEN).await.json().await.unwrap();
        let id = booked["id"].as_i64().unwrap();
        clock.advance(Duration::from_secs(50 * 60)); // 09:50: check-in is open
        // Alice checks in through another server: this one's actor has her not checked in.
        let at: chrono::DateTime<chrono::Utc> = "2030-01-01T09:50:00Z".parse().unwrap();
        app.behind_the_servers_back("UPDATE reservations SET checked_in_at = $1 WHERE id = $2", params![at, id]).await;

        let path = format!("/api/v1/reservations/{id}/check-in");
        // The store refuses the check-in planned on the stale copy; the server reloads and
        // answers from what is stored.
        let answer = status_and_detail(app.post_json_as(&alice, &path, &json!({})).await).await;
        assert_eq!(answer, (400, "Already checked in".to_owned()));
        let stored: Option<chrono::DateTime<chrono::Utc>> = app
            .stored_row("SELECT checked_in_at FROM reservations WHERE id = $1", params![id])
            .await
            .get("checked_in_at")
            .unwrap();
        assert_eq!(stored, Some(at), "the other server's check-in stands");
    }

    #[app(clock, long_tokens)]
    async fn a_pending_request_holds_its_slot_until_answered(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (bob, carol) = (app.user("bob").await, app.user("carol").await);
        let approver = app.user_with_role("anna", "manager").await;
        let room = app.resource(&admin, "Lab").await;
        let settings = json!({"requires_approval": true, "default_approver_id": approver.id});
        let path = format!("/api/v1/approvals/resources/{room}/settings");
        assert_eq!(app.put_json_as(&bob, &path, &settings).await.status(), 403, "only admins choose approvers");
        assert_eq!(app.put_json_as(&admin, &path, &settings).await.status(), 200);

        let request = json!({"resource_id": room, "start_time": TEN, "end_time": ELEVEN, "request_message": "for the demo"});
        let requested: Value = app.post_json_as(&bob, "/api/v1/approvals/reservations", &request).await.json().await.unwrap();
        assert_eq!(requested["status"], "pending_approval");
        let approval = requested["approval_id"].clone();
        // A plain booking on such a resource waits for approval too (the original bypassed it).
        let plain = app.book(&carol, room, "2030-01-01T12:00:00Z", "2030-01-01T13:00:00Z").await;
        assert_eq!(plain.json::<Value>().await.unwrap()["status"], "pending_approval");
        assert_eq!(app.book(&carol, room, "2030-01-01T10:30:00Z", "2030-01-01T11:30:00Z").await.status(), 409, "a pending request blocks its slot");

        let pending: Value = app.get_as(&approver, "/api/v1/approvals/pending").await.json().await.unwrap();
        assert_eq!(pending["count"], 2);
        let not_yours = app.post_json_as(&carol, &format!("/api/v1/approvals/{approval}/respond"), &json!({"action": "approve"})).await;
        assert_eq!(not_yours.status(), 404, "a stranger cannot see it");
        let bad = app.post_json_as(&approver, &format!("/api/v1/approvals/{approval}/respond"), &json!({"action": "maybe"})).await;
        assert_eq!(bad.status(), 422);
        let approved = app.post_json_as(&approver, &format!("/api/v1/approvals/{approval}/respond"), &json!({"action": "approve"})).await;
        assert_eq!(approved.json::<Value>().await.unwrap()["message"], "Request has been approved");
        let again = app.post_json_as(&approver, &format!("/api/v1/approvals/{approval}/respond"), &json!({"action": "reject"})).await;
        assert_eq!(again.status(), 400);
        let reservation: Value = app.get_as(&bob, &format!("/api/v1/reservations/{}", requested["reservation_id"])).await.json().await.unwrap();
        assert_eq!(reservation["status"], "active");

        // Carol's noon request: nobody answers, and at its start it is rejected, freeing the slot.
        clock.advance(Duration::from_secs(3 * 3600 + 60)); // 12:01
        eventually("the unanswered request to be rejected", || async {
            let mine: Value = app.get_as(&carol, "/api/v1/reservations/my?include_cancelled=true").await.json().await.unwrap();
            let statuses: Vec<Value> = mine["data"].as_array().unwrap().iter().map(|r| r["status"].clone()).collect();
            (statuses == [json!("rejected")]).then_some(())
        })
        .await;
    }

    #[app(clock, long_tokens)]
    async fn rejecting_or_withdrawing_frees_the_slot_and_races_have_one_outcome(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let (bob, carol) = (app.user("bob").await, app.user("carol").await);
        let room = app.resource(&admin, "Lab").await;
        let settings = json!({"requires_approval": true, "default_approver_id": admin.id});
        app.put_json_as(&admin, &format!("/api/v1/approvals/resources/{room}/settings"), &settings).await;
        let request = json!({"resource_id": room, "start_time": TEN, "end_time": ELEVEN});
        let requested: Value = app.post_json_as(&bob, "/api/v1/approvals/reservations", &request).await.json().await.unwrap();
        let approval = requested["approval_id"].clone();
        let (respond_path, approval_path) = (format!("/api/v1/approvals/{approval}/respond"), format!("/api/v1/approvals/{approval}"));
        let approve_body = json!({"action": "approve"});
        let approve = app.post_json_as(&admin, &respond_path, &approve_body);
        let withdraw = app.delete_as(&bob, &approval_path);
        let (approve, withdraw) = futures::join!(approve, withdraw);
        let outcomes = [approve.status().as_u16(), withdraw.status().as_u16()];
        assert!(outcomes == [200, 400] || outcomes == [400, 200], "exactly one wins: {outcomes:?}");

        let second = json!({"resource_id": room, "start_time": "2030-01-02T10:00:00Z", "end_time": "2030-01-02T11:00:00Z"});
        let requested: Value = app.post_json_as(&bob, "/api/v1/approvals/reservations", &second).await.json().await.unwrap();
        let rejected = app
            .post_json_as(&admin, &format!("/api/v1/approvals/{}/respond", requested["approval_id"]), &json!({"action": "reject", "response_message": "busy"}))
            .await;
        assert_eq!(rejected.json::<Value>().await.unwrap()["message"], "Request has been rejected");
        let carols = app.book(&carol, room, "2030-01-02T10:00:00Z", "2030-01-02T11:00:00Z").await;
        assert_eq!(carols.status(), 201, "the rejected request's slot is free again (and Carol's own request pends)");
        let _ = clock;
    }
}
