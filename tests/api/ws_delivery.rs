//! `/ws` delivery guarantees: resume with `since` (nothing lost, nothing repeated), slow and
//! dead clients dropped without slowing others, events of other processes, outbox gaps on
//! PostgreSQL, retention.

use std::collections::BTreeSet;
use std::time::Duration;

use resource_reserver::events::{NewEvent, outbox};
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::booking::at;
use crate::support::ws::{Ending, PATIENCE};
use crate::support::{Backend, TestApp};

async fn booked_id(response: reqwest::Response) -> i64 {
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Polls `/metrics` until `line` appears.
async fn eventually_metric(app: &TestApp, line: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let metrics = app.get("/metrics").await.text().await.unwrap();
        if metrics.lines().any(|l| l == line) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "no `{line}` in\n{metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

both_backends! {
    async fn a_reconnect_with_since_loses_nothing_and_repeats_nothing(app: TestApp) {
        let admin = app.admin().await;
        let (bob, alice) = (app.user("bob").await, app.user("alice").await);
        let room = app.resource(&admin, "Room 1").await;
        let mut socket = app.ws(&bob).await;
        booked_id(app.book(&bob, room, &at(1, 0), &at(2, 0)).await).await;
        let since = socket.next_of("reservation_created").await["seq"].as_i64().unwrap();
        socket.close().await;

        // Missed while disconnected (and alice's bookings, which are not bob's business).
        let mut expected = BTreeSet::new();
        for hour in [3, 5] {
            expected.insert(booked_id(app.book(&bob, room, &at(hour, 0), &at(hour + 1, 0)).await).await);
            booked_id(app.book(&alice, room, &at(hour + 1, 0), &at(hour + 2, 0)).await).await;
        }
        // Bookings racing with the reconnect land on one side of the seam or the other.
        let racing = async {
            let mut ids = Vec::new();
            for hour in (7..20).step_by(2) {
                ids.push(booked_id(app.book(&bob, room, &at(hour, 0), &at(hour + 1, 0)).await).await);
            }
            ids
        };
        let query = format!("since={since}");
        let (racing, mut resumed) = futures::join!(racing, app.ws_with(&bob, &query));
        expected.extend(racing);

        let mut seqs = vec![since];
        let mut received = BTreeSet::new();
        while received.len() < expected.len() {
            let message = resumed.next_json().await;
            assert_eq!(message["type"], "reservation_created", "{message}");
            seqs.push(message["seq"].as_i64().unwrap());
            assert!(received.insert(message["reservation_id"].as_i64().unwrap()), "repeated: {message}");
        }
        assert_eq!(received, expected);
        assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "in order: {seqs:?}");
        // And live delivery goes on after the replay.
        let live = booked_id(app.book(&bob, room, &at(22, 0), &at(23, 0)).await).await;
        assert_eq!(resumed.next_json().await["reservation_id"], live);
    }

    async fn subscriptions_given_at_connection_are_replayed_too(app: TestApp) {
        let admin = app.admin().await;
        let (bob, carol) = (app.user("bob").await, app.user("carol").await);
        let room = app.resource(&admin, "Room 1").await;
        let mut wall = app.ws_with(&carol, &format!("resources={room}")).await;
        booked_id(app.book(&bob, room, &at(1, 0), &at(2, 0)).await).await;
        let since = wall.next_of("reservation_created").await["seq"].as_i64().unwrap();
        wall.close().await;
        let missed = booked_id(app.book(&bob, room, &at(3, 0), &at(4, 0)).await).await;
        let mut wall = app.ws_with(&carol, &format!("resources={room}&since={since}")).await;
        assert_eq!(wall.next_json().await["reservation_id"], missed);
    }

    async fn a_since_beyond_the_server_asks_for_a_resync(app: TestApp) {
        let bob = app.user("bob").await;
        let mut socket = app.ws_with(&bob, "since=999999").await;
        let message = socket.next_json().await;
        assert_eq!(message["type"], "resync_required", "{message}");
    }
}

both_backends! {
    #[app(clock)]
    async fn a_since_older_than_the_retention_asks_for_a_resync_then_goes_live(app: TestApp, clock: Arc<ManualClock>) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let room = app.resource(&admin, "Room 1").await;
        let mut socket = app.ws(&bob).await;
        booked_id(app.book(&bob, room, &at(1, 0), &at(2, 0)).await).await;
        let since = socket.next_of("reservation_created").await["seq"].as_i64().unwrap();
        socket.close().await;
        booked_id(app.book(&bob, room, &at(3, 0), &at(4, 0)).await).await;

        clock.advance(Duration::from_secs(25 * 3600));
        let bob = app.login_again(&bob).await;
        let db = app.database().connect().await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while outbox::oldest(&db).await.unwrap().is_some() {
            assert!(tokio::time::Instant::now() < deadline, "old events are pruned");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        db.close().await;

        let mut socket = app.ws_with(&bob, &format!("since={since}")).await;
        let resync = socket.next_json().await;
        assert_eq!(resync["type"], "resync_required", "{resync}");
        let live = booked_id(app.book(&bob, room, &at(5, 0), &at(6, 0)).await).await;
        let next = socket.next_json().await;
        assert_eq!(next["reservation_id"], live);
        assert!(next["seq"].as_i64() > resync["seq"].as_i64());
    }
}

both_backends! {
    #[app(settings(|s| {
        s.ws_send_queue = Some("4".into());
    }))]
    async fn a_client_that_does_not_read_is_dropped_while_the_others_keep_receiving(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let mut fast = app.ws(&bob).await;
        let room = app.resource(&admin, "Room 1").await;
        assert_eq!(fast.next_json().await["type"], "resource_created");
        let mut slow = app.ws_that_never_reads(&bob).await;
        let big = "x".repeat(16 * 1024);
        for update in 1..=600 {
            let body = json!({"description": format!("{update} {big}")});
            let response = app.put_json_as(&admin, &format!("/api/v1/resources/{room}"), &body).await;
            assert_eq!(response.status(), 200);
            let message = fast.next_json().await;
            let description = message["description"].as_str().unwrap();
            assert!(description.starts_with(&format!("{update} ")), "the fast client gets every update in order");
            if update % 10 == 0 {
                let metrics = app.get("/metrics").await.text().await.unwrap();
                if metrics.lines().any(|line| line == "websocket_slow_clients_dropped_total 1") {
                    break;
                }
            }
        }
        eventually_metric(&app, "websocket_slow_clients_dropped_total 1").await;
        match slow.ending().await {
            Ending::Closed(Some(frame)) => {
                assert_eq!(u16::from(frame.code), 1008);
                assert!(frame.reason.as_str().starts_with("slow consumer"), "{}", frame.reason);
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
        // The fast client is still served.
        let response = app.put_json_as(&admin, &format!("/api/v1/resources/{room}"), &json!({"description": "last"})).await;
        assert_eq!(response.status(), 200);
        assert_eq!(fast.next_json().await["description"], "last");
    }

    #[app(settings(|s| {
        s.ws_ping_interval_seconds = Some("1".into());
    }))]
    async fn a_client_that_does_not_answer_pings_is_dropped(app: TestApp) {
        let bob = app.user("bob").await;
        let _dead = app.ws_that_never_reads(&bob).await;
        let mut alive = app.ws(&bob).await;
        eventually_metric(&app, "websocket_connections_active 2").await;
        // The live client answers pings while it reads (tungstenite does so by itself).
        let reading = tokio::time::timeout(Duration::from_secs(4), alive.next_text());
        assert!(reading.await.is_err(), "no message, but the socket stays open");
        eventually_metric(&app, "websocket_connections_active 1").await;
    }
}

/// Two servers on one PostgreSQL database: a booking made through one reaches a socket on the
/// other (through the outbox; no shared memory).
#[actix_web::test]
async fn events_reach_the_sockets_of_another_process() {
    let Some(first) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let admin = first.admin().await;
    let bob = first.user("bob").await;
    let room = first.resource(&admin, "Room 1").await;
    let second = first.sibling().await;
    let mut on_second = second.ws(&bob).await;
    let mut on_first = first.ws(&bob).await;
    let id = booked_id(first.book(&bob, room, &at(10, 0), &at(11, 0)).await).await;
    let remote = on_second.next_of("reservation_created").await;
    assert_eq!(
        (remote["type"].as_str(), remote["reservation_id"].as_i64()),
        (Some("reservation_created"), Some(id))
    );
    assert_eq!(
        on_first.next_of("reservation_created").await,
        remote,
        "the same message, seq included"
    );
    // And the other way round.
    let other = booked_id(second.book(&bob, room, &at(12, 0), &at(13, 0)).await).await;
    assert_eq!(on_first.next_json().await["reservation_id"], other);
    assert_eq!(on_second.next_json().await["reservation_id"], other);
}

/// PostgreSQL makes ids visible in commit order, not id order: an event committed after a later
/// one is still delivered, before it; a rolled-back id does not hold the others back.
#[actix_web::test]
async fn outbox_gaps_are_waited_for_or_stepped_over() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let bob = app.user("bob").await;
    let mut socket = app.ws(&bob).await;
    let db = app.database().connect().await;
    let now = chrono::Utc::now();

    let mut slow = db.begin().await.unwrap();
    outbox::append(slow.as_mut(), NewEvent::tag_deleted("first", 0), now, None)
        .await
        .unwrap();
    let mut quick = db.begin().await.unwrap();
    outbox::append(quick.as_mut(), NewEvent::tag_deleted("second", 0), now, None)
        .await
        .unwrap();
    quick.commit().await.unwrap();
    // Long enough for the tailer (polling every 100 ms) to have seen "second" without "first".
    tokio::time::sleep(Duration::from_millis(400)).await;
    slow.commit().await.unwrap();
    assert_eq!(socket.next_json().await["name"], "first");
    assert_eq!(socket.next_json().await["name"], "second");

    let mut abandoned = db.begin().await.unwrap();
    outbox::append(abandoned.as_mut(), NewEvent::tag_deleted("never", 0), now, None)
        .await
        .unwrap();
    let mut after = db.begin().await.unwrap();
    outbox::append(after.as_mut(), NewEvent::tag_deleted("after", 0), now, None)
        .await
        .unwrap();
    after.commit().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(abandoned);
    assert_eq!(socket.next_json().await["name"], "after");
    db.close().await;
}

/// Two servers on one PostgreSQL database: what one books or cancels, the other's actor learns
/// from the outbox (the booking itself travels with its event), so its schedule reads (served
/// from memory) are current without a restart, and the same as a process that read the
/// database afresh.
#[actix_web::test]
async fn another_processs_bookings_reach_this_processs_schedules() {
    let Some(first) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let admin = first.admin().await;
    let bob = first.user("bob").await;
    let room = first.resource(&admin, "Room 1").await;
    let second = first.sibling().await;
    let schedule = |app: &TestApp| {
        let url = app.url(&format!("/api/v1/resources/{room}/availability?days_ahead=365"));
        let client = app.client.clone();
        async move {
            let body: serde_json::Value = client.get(url).send().await.unwrap().json().await.unwrap();
            body["data"]["reservations"].as_array().unwrap().clone()
        }
    };
    assert_eq!(
        schedule(&second).await,
        [] as [serde_json::Value; 0],
        "the second process has the resource in memory, empty"
    );
    let start = chrono::Utc::now() + chrono::Duration::days(2);
    let (start, end) = (start.to_rfc3339(), (start + chrono::Duration::hours(1)).to_rfc3339());
    let id = booked_id(first.book(&bob, room, &start, &end).await).await;
    let booked = schedule(&first).await;
    assert_eq!(booked.len(), 1);
    crate::support::timers::eventually("the second process to see the booking", || async {
        (schedule(&second).await.len() == 1).then_some(())
    })
    .await;
    let fresh = first.sibling().await;
    assert_eq!(schedule(&second).await, booked, "the followed booking is the one made");
    assert_eq!(schedule(&fresh).await, booked, "and the one stored");

    let cancelled = first
        .post_json_as(
            &bob,
            &format!("/api/v1/reservations/{id}/cancel"),
            &serde_json::json!({}),
        )
        .await;
    assert!(cancelled.status().is_success(), "{}", cancelled.status());
    for app in [&second, &fresh] {
        crate::support::timers::eventually("the other processes to drop the cancelled booking", || async {
            schedule(app).await.is_empty().then_some(())
        })
        .await;
    }
}
