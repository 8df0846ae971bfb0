//! Bulk reservations (`/api/v1/bulk`): all or nothing with the single booking's rules, dry runs
//! and validation, CSV import with numbered rows, bulk cancel with waitlist offers, an export of
//! only what the caller may read, and a batch over many resources racing single bookings.

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::booking::at;
use crate::support::{TestApp, TestUser};

const BULK: &str = "/api/v1/bulk/reservations";

fn item(resource: i64, start: &str, end: &str) -> Value {
    json!({"resource_id": resource, "start_time": start, "end_time": end})
}

async fn bulk(app: &TestApp, user: &TestUser, items: &[Value], dry_run: bool) -> Value {
    let response = app
        .post_json_as(user, BULK, &json!({"reservations": items, "dry_run": dry_run}))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn errors(answer: &Value) -> Vec<(i64, String)> {
    answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["index"].as_i64().unwrap_or(-1),
                e["error"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn upload(app: &TestApp, user: &TestUser, path: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str("text/csv")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    app.request_as(user, reqwest::Method::POST, path)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The blocking reservations of `resource` overlapping `start`..`end`: (id, owner).
async fn blocking(app: &TestApp, resource: i64, start: &str, end: &str) -> Vec<(i64, i64)> {
    let db = app.database().connect().await;
    let parse = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let rows = db
        .query(
            "SELECT id, user_id FROM reservations
             WHERE resource_id = $1 AND status IN ('active', 'pending_approval', 'held')
               AND start_time < $3 AND end_time > $2 ORDER BY id",
            resource_reserver::params![resource, parse(start), parse(end)],
        )
        .await
        .unwrap();
    db.close().await;
    rows.iter()
        .map(|r| (r.get("id").unwrap(), r.get("user_id").unwrap()))
        .collect()
}

both_backends! {
    async fn a_batch_is_booked_whole_or_not_at_all_and_dry_runs_book_nothing(app: TestApp) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let (one, two) = (app.resource(&admin, "Room 1").await, app.resource(&admin, "Room 2").await);
        let items = [item(one, &at(10, 0), &at(11, 0)), item(two, &at(10, 0), &at(11, 0)), item(one, &at(11, 0), &at(12, 0))];

        let dry = bulk(&app, &bob, &items, true).await;
        assert_eq!((dry["total"].as_i64(), dry["success"].as_i64(), dry["failed"].as_i64()), (Some(3), Some(3), Some(0)));
        assert_eq!(dry["dry_run"], true);
        assert_eq!(dry["created"][1], json!({"index": 1, "resource_name": "Room 2", "start_time": at(10, 0), "end_time": at(11, 0), "status": "active", "would_create": true}));
        assert!(dry.get("message").is_none());
        assert_eq!(app.stored_reservations("active").await, 0, "a dry run books nothing");

        let done = bulk(&app, &bob, &items, false).await;
        assert_eq!((done["success"].as_i64(), done["failed"].as_i64(), done["dry_run"].as_bool()), (Some(3), Some(0), Some(false)));
        assert_eq!(done["errors"], json!([]));
        let created = done["created"].as_array().unwrap();
        assert_eq!(created.iter().map(|c| c["index"].as_i64().unwrap()).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(created[2]["resource_name"], "Room 1");
        for entry in created {
            let id = entry["reservation_id"].as_i64().unwrap();
            let mine: Value = app.get_as(&bob, &format!("/api/v1/reservations/{id}")).await.json().await.unwrap();
            assert_eq!((mine["user_id"].as_i64(), mine["start_time"].clone()), (Some(bob.id), entry["start_time"].clone()));
        }
        assert_eq!(app.stored_reservations("active").await, 3);

        // One item conflicts: nothing of Eve's batch is booked.
        let clash = [item(two, &at(14, 0), &at(15, 0)), item(one, &at(10, 30), &at(11, 30))];
        let refused = bulk(&app, &eve, &clash, false).await;
        assert_eq!((refused["success"].as_i64(), refused["failed"].as_i64()), (Some(0), Some(1)));
        assert_eq!(refused["created"], json!([]));
        assert_eq!(refused["message"], "All operations rolled back due to errors");
        assert_eq!(refused["errors"][0]["index"], 1);
        assert_eq!(refused["errors"][0]["data"], item(one, &at(10, 30), &at(11, 30)));
        assert!(refused["errors"][0]["error"].as_str().unwrap().starts_with("Time slot conflicts with existing reservations"));
        assert!(blocking(&app, two, &at(14, 0), &at(15, 0)).await.is_empty(), "the free item was not booked either");
        assert_eq!(app.stored_reservations("active").await, 3);
    }

    #[app(clock)]
    async fn every_item_follows_the_single_booking_rules(app: TestApp, _clock: std::sync::Arc<reserver_actors::ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let closed = app.create_resource(&admin, json!({"name": "Closed room", "available": false})).await;
        let repaired = app.resource(&admin, "Repaired room").await;
        // From now (the manual clock's 2030-01-01) for a year.
        let path = format!("/api/v1/resources/{repaired}/status/unavailable?auto_reset_hours=8760");
        assert_eq!(app.put_json_as(&admin, &path, &json!({})).await.status(), 200);
        let items = [
            item(room, "2020-01-01T10:00:00Z", "2020-01-01T11:00:00Z"),
            item(room, &at(11, 0), &at(10, 0)),
            item(room, &at(20, 0), &at(20 + 25, 0)),
            item(room, &at(30, 0), &at(30, 10)),
            item(9999, &at(10, 0), &at(11, 0)),
            item(closed, &at(10, 0), &at(11, 0)),
            item(room, &at(40, 0), &at(41, 0)),
            item(room, &at(40, 30), &at(41, 30)),
            item(repaired, &at(10, 0), &at(11, 0)),
        ];
        for dry_run in [true, false] {
            let answer = bulk(&app, &bob, &items, dry_run).await;
            assert_eq!(errors(&answer), [
                (0, "start_time must be in the future".to_owned()),
                (1, "end_time must be after start_time".to_owned()),
                (2, "Reservation cannot exceed 24 hours".to_owned()),
                (3, "Reservation must be at least 15 minutes".to_owned()),
                (4, "Resource 9999 not found".to_owned()),
                (5, format!("Resource {closed} is not available")),
                (7, "Time slot conflicts with another reservation in this batch".to_owned()),
                (8, "Resource is unavailable for maintenance during the requested time".to_owned()),
            ], "dry run: {dry_run}");
            assert_eq!(answer["failed"], 8);
            assert_eq!(answer["success"], if dry_run { 1 } else { 0 }, "only item 6 is fine");
        }
        assert_eq!(app.stored_reservations("active").await, 0);

        let validated: Value = app.post_json_as(&bob, &format!("{BULK}/validate"), &json!({"reservations": items})).await.json().await.unwrap();
        assert_eq!((validated["valid"].as_bool(), validated["total"].as_i64(), validated["would_create"].as_i64()), (Some(false), Some(9), Some(1)));
        assert_eq!(validated["errors"].as_array().unwrap().len(), 8);
        let fine = app.post_json_as(&bob, &format!("{BULK}/validate"), &json!({"reservations": [item(room, &at(40, 0), &at(41, 0))]})).await;
        assert_eq!(fine.json::<Value>().await.unwrap(), json!({"valid": true, "total": 1, "would_create": 1, "errors": []}));
        assert_eq!(app.stored_reservations("active").await, 0, "validating books nothing");
    }

    async fn a_resource_requiring_approval_gets_pending_bookings(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let (lab, room) = (app.resource(&admin, "Lab").await, app.resource(&admin, "Room 1").await);
        let settings = json!({"requires_approval": true, "default_approver_id": admin.id});
        assert_eq!(app.put_json_as(&admin, &format!("/api/v1/approvals/resources/{lab}/settings"), &settings).await.status(), 200);
        let done = bulk(&app, &bob, &[item(lab, &at(10, 0), &at(11, 0)), item(room, &at(10, 0), &at(11, 0))], false).await;
        assert_eq!(done["success"], 2);
        assert_eq!((done["created"][0]["status"].as_str(), done["created"][1]["status"].as_str()), (Some("pending_approval"), Some("active")));
        assert_eq!(app.stored_reservations("pending_approval").await, 1);
        let pending: Value = app.get_as(&admin, "/api/v1/approvals/pending").await.json().await.unwrap();
        assert_eq!(pending.to_string().matches(&format!("\"reservation_id\":{}", done["created"][0]["reservation_id"])).count(), 1, "{pending}");
    }

    async fn lists_must_hold_1_to_100_items_and_every_route_needs_a_user(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let empty = app.post_json_as(&bob, BULK, &json!({"reservations": []})).await;
        assert_eq!(empty.status(), 422);
        assert_eq!(empty.json::<Value>().await.unwrap()["detail"][0]["loc"], json!(["body", "reservations"]));
        let many: Vec<Value> = (0..101).map(|h| item(room, &at(h, 0), &at(h, 30))).collect();
        let over = app.post_json_as(&bob, BULK, &json!({"reservations": many})).await;
        assert_eq!(over.status(), 422);
        assert!(over.text().await.unwrap().contains("at most 100 items"));
        for path in [format!("{BULK}/validate"), format!("{BULK}/cancel")] {
            let key = if path.ends_with("cancel") { "reservation_ids" } else { "reservations" };
            assert_eq!(app.post_json_as(&bob, &path, &json!({key: []})).await.status(), 422, "{path}");
        }
        let ids: Vec<i64> = (0..101).collect();
        assert_eq!(app.post_json_as(&bob, &format!("{BULK}/cancel"), &json!({"reservation_ids": ids})).await.status(), 422);
        let long = "x".repeat(501);
        assert_eq!(app.post_json_as(&bob, &format!("{BULK}/cancel"), &json!({"reservation_ids": [1], "reason": long})).await.status(), 422);

        let client = reqwest::Client::new();
        for path in ["", "/validate", "/import", "/cancel"] {
            let response = client.post(app.url(&format!("{BULK}{path}"))).json(&json!({})).send().await.unwrap();
            assert_eq!(response.status(), 401, "POST {path}");
        }
        assert_eq!(client.get(app.url(&format!("{BULK}/export"))).send().await.unwrap().status(), 401);
    }

    async fn a_csv_import_numbers_its_rows(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let (one, two) = (app.resource(&admin, "Room 1").await, app.resource(&admin, "Room 2").await);
        let path = format!("{BULK}/import");
        let good = format!(
            "resource_id,resource_name,start_time,end_time\n{one},,2030-01-07 10:00,2030-01-07 11:00\n,Room 2,2030-01-07T10:00:00Z,2030-01-07T11:00\n\n{two},,2030-01-08 10:00:00,2030-01-08T11:00:00\n"
        );
        let dry: Value = upload(&app, &bob, &format!("{path}?dry_run=true"), "term.csv", good.clone().into_bytes()).await.json().await.unwrap();
        assert_eq!((dry["dry_run"].as_bool(), dry["success"].as_i64()), (Some(true), Some(3)));
        assert_eq!(app.stored_reservations("active").await, 0);
        let done: Value = upload(&app, &bob, &path, "term.csv", good.into_bytes()).await.json().await.unwrap();
        assert_eq!((done["success"].as_i64(), done["failed"].as_i64()), (Some(3), Some(0)), "{done}");
        assert_eq!(done["created"][1]["resource_name"], "Room 2");
        assert_eq!(app.stored_reservations("active").await, 3);

        let bad = String::from(
            "resource_name,start_time,end_time\nRoom 1,2030-01-09 10:00,2030-01-09 11:00\nNo such room,2030-01-09 10:00,2030-01-09 11:00\nRoom 2,yesterday,2030-01-09 11:00\nRoom 1,2030-01-07 10:30,2030-01-07 11:30\n"
        );
        let refused: Value = upload(&app, &bob, &path, "term.csv", bad.into_bytes()).await.json().await.unwrap();
        assert_eq!((refused["total"].as_i64(), refused["success"].as_i64(), refused["failed"].as_i64()), (Some(4), Some(0), Some(3)), "{refused}");
        assert_eq!(refused["message"], "All operations rolled back due to errors");
        let errors = refused["errors"].as_array().unwrap();
        assert_eq!((errors[0]["row"].as_i64(), errors[0]["index"].as_i64()), (Some(4), Some(1)));
        assert!(errors[0]["error"].as_str().unwrap().starts_with("Time slot conflicts"));
        assert_eq!(errors[1], json!({"row": 2, "error": "Resource 'No such room' not found"}));
        assert_eq!(errors[2], json!({"row": 3, "error": "Invalid start_time 'yesterday'"}));
        assert!(blocking(&app, one, "2030-01-09T10:00:00Z", "2030-01-09T11:00:00Z").await.is_empty(), "row 1 was not booked");

        let not_csv = upload(&app, &bob, &path, "term.xlsx", b"x".to_vec()).await;
        assert_eq!(not_csv.status(), 400);
        assert_eq!(not_csv.json::<Value>().await.unwrap()["detail"], "File must be a CSV file");
        let latin1 = upload(&app, &bob, &path, "term.csv", b"resource_name\n\xe9t\xe9\n".to_vec()).await;
        assert_eq!(latin1.status(), 400);
        assert_eq!(latin1.json::<Value>().await.unwrap()["detail"], "File must be UTF-8 encoded");
        let huge = upload(&app, &bob, &path, "term.csv", vec![b'a'; (1 << 20) + 1]).await;
        assert!(huge.status().is_client_error());
        assert_eq!(huge.json::<Value>().await.unwrap()["detail"], "File size exceeds 1MB limit");
    }

    async fn bulk_cancel_cancels_each_one_it_may_and_frees_slots_for_the_waitlist(app: TestApp) {
        let admin = app.admin().await;
        let (bob, eve, carol) = (app.user("bob").await, app.user("eve").await, app.user("carol").await);
        let room = app.resource(&admin, "Room 1").await;
        let done = bulk(&app, &bob, &[item(room, &at(10, 0), &at(11, 0)), item(room, &at(12, 0), &at(13, 0))], false).await;
        let (first, second) = (done["created"][0]["reservation_id"].as_i64().unwrap(), done["created"][1]["reservation_id"].as_i64().unwrap());
        let eves: Value = app.book(&eve, room, &at(14, 0), &at(15, 0)).await.json().await.unwrap();
        let joined: Value = app
            .post_json_as(&carol, "/api/v1/waitlist", &json!({"resource_id": room, "desired_start": at(10, 0), "desired_end": at(11, 0)}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(joined["status"], "waiting");

        let ids = json!([first, eves["id"], 424242, first]);
        let answer: Value = app.post_json_as(&bob, &format!("{BULK}/cancel"), &json!({"reservation_ids": ids, "reason": "term moved"})).await.json().await.unwrap();
        assert_eq!((answer["total"].as_i64(), answer["success"].as_i64(), answer["failed"].as_i64()), (Some(4), Some(1), Some(3)));
        assert_eq!(answer["cancelled"], json!([{"reservation_id": first, "resource_id": room}]));
        assert_eq!(answer["errors"], json!([
            {"reservation_id": eves["id"], "error": format!("Reservation {} not found", eves["id"])},
            {"reservation_id": 424242, "error": "Reservation 424242 not found"},
            {"reservation_id": first, "error": "Reservation is already cancelled"},
        ]), "others' reservations are not even seen");
        let offered: Value = app.get_as(&carol, &format!("/api/v1/waitlist/{}", joined["id"])).await.json().await.unwrap();
        assert_eq!(offered["status"], "offered", "the freed slot went to the waitlist");
        let history: Value = app.get_as(&bob, &format!("/api/v1/reservations/{first}/history")).await.json().await.unwrap();
        assert_eq!(history[0]["action"], "cancelled");
        assert!(history[0]["details"].as_str().unwrap().contains("term moved"));

        // A manager (reservation:cancel_any) may cancel anyone's, as with a single cancel.
        let manager = app.user_with_role("anna", "manager").await;
        let by_manager: Value = app.post_json_as(&manager, &format!("{BULK}/cancel"), &json!({"reservation_ids": [second]})).await.json().await.unwrap();
        assert_eq!(by_manager["cancelled"], json!([{"reservation_id": second, "resource_id": room}]));
        assert_eq!(app.stored_reservations("active").await, 1, "only Eve's is left");
    }

    async fn the_export_holds_only_what_the_caller_may_read_with_formulas_neutralised(app: TestApp) {
        let admin = app.admin().await;
        let (bob, eve) = (app.user("bob").await, app.user("eve").await);
        let room = app.resource(&admin, "=HYPERLINK(\"http://evil\",\"x\")").await;
        assert_eq!(app.book(&bob, room, &at(10, 0), &at(11, 0)).await.status(), 201);
        assert_eq!(app.book(&eve, room, &at(12, 0), &at(13, 0)).await.status(), 201);
        let export = |user: &TestUser, query: &str| {
            let path = format!("{BULK}/export{query}");
            let user = user.clone();
            let app = &app;
            async move { app.get_as(&user, &path).await }
        };
        let bobs = export(&bob, "").await;
        assert_eq!(bobs.status(), 200);
        assert!(bobs.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert_eq!(bobs.headers()["content-disposition"], "attachment; filename=reservations_export.csv");
        let text = bobs.text().await.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "reservation_id,resource_id,resource_name,user_id,username,start_time,end_time,status,created_at");
        assert_eq!(lines.len(), 2, "only Bob's own: {text}");
        assert!(lines[1].contains(",bob,") && !text.contains("eve"), "{text}");
        assert!(lines[1].contains(r#""'=HYPERLINK(""http://evil"",""x"")""#), "the formula is neutralised: {text}");

        let eves_asked = export(&bob, &format!("?user_id={}", eve.id)).await;
        assert_eq!(eves_asked.status(), 403, "an ordinary user cannot export someone else's");
        assert_eq!(export(&bob, &format!("?resource_id={room}")).await.text().await.unwrap().lines().count(), 2, "filters do not widen it");

        let everyone = export(&admin, "").await.text().await.unwrap();
        assert_eq!(everyone.lines().count(), 3, "reservation:read_any reads all: {everyone}");
        let eves_only = export(&admin, &format!("?user_id={}&status=active&start_from={}", eve.id, at(11, 0))).await.text().await.unwrap();
        assert_eq!(eves_only.lines().count(), 2);
        assert!(eves_only.contains(",eve,"));
        assert_eq!(export(&admin, "?status=bogus").await.status(), 422);
    }

    #[app(clock, webhook_receiver)]
    async fn a_committed_batch_announces_each_booking_once(app: TestApp, _clock: std::sync::Arc<reserver_actors::ManualClock>, receiver: crate::support::webhook_receiver::WebhookReceiver) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let rooms = [app.resource(&admin, "Room 1").await, app.resource(&admin, "Room 2").await, app.resource(&admin, "Room 3").await];
        let hook = app.post_json_as(&bob, "/api/v1/webhooks", &json!({"url": receiver.url("/bob"), "events": ["reservation.created"]})).await;
        assert_eq!(hook.status(), 201);
        let mut socket = app.ws(&bob).await;
        let items: Vec<Value> = rooms.iter().map(|room| item(*room, &at(10, 0), &at(11, 0))).collect();
        let done = bulk(&app, &bob, &items, false).await;
        let ids: Vec<i64> = done["created"].as_array().unwrap().iter().map(|c| c["reservation_id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 3);

        let mut announced = Vec::new();
        for _ in 0..3 {
            let event = socket.next_of("reservation_created").await;
            announced.push(event["reservation_id"].as_i64().unwrap());
        }
        announced.sort_unstable();
        assert_eq!(announced, ids, "one /ws event per booking");
        let delivered = receiver.wait_for("/bob", 3).await;
        let mut hooked: Vec<i64> = delivered.iter().map(|d| d.json()["data"]["reservation_id"].as_i64().unwrap()).collect();
        hooked.sort_unstable();
        assert_eq!(hooked, ids, "one webhook delivery per booking");
        for id in &ids {
            let history: Value = app.get_as(&bob, &format!("/api/v1/reservations/{id}/history")).await.json().await.unwrap();
            assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
            assert_eq!(history[0]["action"], "created");
        }
        // Nothing more: a second event for any of them would be a duplicate.
        let db = app.database().connect().await;
        let row = db.query_one("SELECT COUNT(*) AS n FROM events WHERE kind = 'reservation_created'", vec![]).await.unwrap();
        db.close().await;
        assert_eq!(row.get::<i64>("n").unwrap(), 3);
    }
}

/// One round of the race: `batcher` books `rooms` (one hour each, from `hour`) while, for each
/// room in `contested`, several single bookers go for an overlapping slot, each after `head_start`
/// (which only biases who tends to win). Asserts that nothing is half-booked or double-booked,
/// whoever won, and returns whether the batch won.
async fn race(
    app: &TestApp,
    batcher: &TestUser,
    singles: &[TestUser],
    rooms: &[i64],
    contested: &[i64],
    hour: i64,
    head_start: std::time::Duration,
) -> bool {
    let items: Vec<Value> = rooms
        .iter()
        .map(|room| item(*room, &at(hour, 0), &at(hour + 1, 0)))
        .collect();
    let body = json!({"reservations": items});
    let batch = async {
        let response = app.post_json_as(batcher, BULK, &body).await;
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()
    };
    let (start, end) = (at(hour, 30), at(hour + 1, 30));
    let attempts = contested.iter().flat_map(|room| {
        let (start, end) = (start.clone(), end.clone());
        singles.iter().map(move |user| {
            let (start, end) = (start.clone(), end.clone());
            async move {
                tokio::time::sleep(head_start).await;
                (
                    *room,
                    user.id,
                    app.book(user, *room, &start, &end).await.status().as_u16(),
                )
            }
        })
    });
    let (answer, singles_done) = futures::join!(batch, futures::future::join_all(attempts));
    let won = answer["success"].as_u64() == Some(rooms.len() as u64);
    assert!(won || answer["success"] == 0, "all or nothing: {answer}");
    for (_, _, status) in &singles_done {
        assert!(
            *status == 201 || *status == 409,
            "a single booking either wins or conflicts: {status}"
        );
    }
    for room in rooms {
        let held = blocking(app, *room, &at(hour, 0), &at(hour + 1, 30)).await;
        let winners: Vec<_> = singles_done.iter().filter(|(r, _, s)| r == room && *s == 201).collect();
        if won {
            assert_eq!(held.len(), 1, "room {room}: the batch's booking only: {held:?}");
            assert_eq!(held[0].1, batcher.id);
            assert!(winners.is_empty(), "room {room}: no single booking beside the batch");
        } else if contested.contains(room) {
            assert_eq!(held.len(), 1, "room {room}: exactly one single booker: {held:?}");
            assert_eq!(winners.len(), 1);
            assert_eq!(held[0].1, winners[0].1);
        } else {
            assert!(
                held.is_empty(),
                "room {room}: nothing of a lost batch is left: {held:?}"
            );
        }
    }
    won
}

both_backends! {
    async fn a_batch_over_20_resources_wins_or_loses_entirely_against_single_bookers(app: TestApp) {
        let admin = app.admin().await;
        let batcher = app.user("planner").await;
        let mut singles = Vec::new();
        for n in 0..4 {
            singles.push(app.user(&format!("single{n}")).await);
        }
        let mut rooms = Vec::new();
        for n in 0..20 {
            rooms.push(app.resource(&admin, &format!("Room {n:02}")).await);
        }
        let last = rooms[19];
        assert_eq!(rooms.iter().max(), Some(&last), "prepared last");
        let (mut wins, mut losses) = (0, 0);
        for round in 0..40 {
            // Everyone races for every room at once (the batch tends to lose), or one booker
            // goes for the room the batch prepares last, a little later each round (the batch
            // tends to win). Whoever wins, the invariants hold.
            let (contested, racers, head_start) = if round % 2 == 0 {
                (rooms.clone(), &singles[..], std::time::Duration::ZERO)
            } else {
                (vec![last], &singles[..1], std::time::Duration::from_millis(round as u64 * 5))
            };
            if race(&app, &batcher, racers, &rooms, &contested, 2 * round, head_start).await {
                wins += 1;
            } else {
                losses += 1;
            }
            if wins >= 2 && losses >= 2 {
                break;
            }
        }
        assert!(wins >= 1 && losses >= 1, "both outcomes happen: {wins} won, {losses} lost");
    }
}
