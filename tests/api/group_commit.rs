//! Group commit (`scheduling::group_commit`): the actors' writes share transactions, and still
//! each stands or falls alone.

use std::time::{Duration, Instant};

use resource_reserver::params;
use serde_json::Value;

use crate::both_backends;
use crate::support::TestApp;
use crate::support::booking::at;

/// A counter or gauge of `/metrics`.
async fn metric(app: &TestApp, name: &str) -> i64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{name} in /metrics")) as i64
}

/// Polls `/metrics` until `name` reads `wanted` (a state the test waits for, not a duration).
async fn until_metric(app: &TestApp, name: &str, wanted: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let value = metric(app, name).await;
        if value == wanted {
            return;
        }
        assert!(Instant::now() < deadline, "{name} stayed at {value}, never {wanted}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let db = app.database().connect().await;
    let n = db.query_one(sql, vec![]).await.unwrap().get::<i64>("n").unwrap();
    db.close().await;
    n
}

both_backends! {
    async fn many_concurrent_bookings_across_many_resources_all_commit(app: TestApp) {
        let admin = app.admin().await;
        let mut users = Vec::new();
        for i in 0..8 {
            users.push(app.user(&format!("booker{i}")).await);
        }
        let mut rooms = Vec::new();
        for i in 0..24 {
            rooms.push(app.resource(&admin, &format!("Room {i}")).await);
        }
        let jobs_before = metric(&app, "group_commit_jobs_total").await;
        // Four disjoint hours on each of 24 resources, all requested at once.
        let attempts = (0..96).map(|i| {
            let (app, user, room) = (&app, &users[i % users.len()], rooms[i % rooms.len()]);
            let hour = 10 + 2 * (i / rooms.len()) as i64;
            async move {
                let response = app.book(user, room, &at(hour, 0), &at(hour + 1, 0)).await;
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap();
                (status, body["id"].as_i64())
            }
        });
        let answers = futures::future::join_all(attempts).await;
        assert!(answers.iter().all(|(status, _)| *status == 201), "{answers:?}");
        let ids: Vec<i64> = answers.iter().filter_map(|(_, id)| *id).collect();
        assert_eq!(ids.len(), 96);
        assert_eq!(app.stored_reservations("active").await, 96);
        // Each answered booking committed with everything that follows from it.
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let histories = count(&app, &format!(
            "SELECT COUNT(*) AS n FROM reservation_history WHERE action = 'created' AND reservation_id IN ({list})"
        )).await;
        assert_eq!(histories, 96);
        let events = count(&app, "SELECT COUNT(*) AS n FROM events WHERE kind = 'reservation_created'").await;
        assert_eq!(events, 96, "one event per booking");
        let notices = count(&app, "SELECT COUNT(*) AS n FROM notifications WHERE type = 'reservation_confirmed'").await;
        assert_eq!(notices, 96, "one notice per booking");
        let counted = count(&app, &format!(
            "SELECT COUNT(*) AS n FROM analytics_counted WHERE status = 'active' AND reservation_id IN ({list})"
        )).await;
        assert_eq!(counted, 96, "the rollups count every booking");
        assert_eq!(
            metric(&app, "group_commit_jobs_total").await - jobs_before,
            96,
            "every booking went through the group commit"
        );
    }

    /// A group is made deterministic by holding the database's write lock from outside (as
    /// another process would) while the bookings queue: the first booking's group waits for the
    /// lock, every later one joins the next group. Behind the actors' backs, the outside writer
    /// also books a slot one of the queued bookings asks for, so the database refuses that one.
    async fn a_refused_change_does_not_abort_the_others_in_its_group(app: TestApp) {
        let admin = app.admin().await;
        let bob = app.user("bob").await;
        let mut rooms = Vec::new();
        for i in 0..12 {
            let room = app.resource(&admin, &format!("Room {i}")).await;
            // Loaded now, so no actor reads the database while the lock is held.
            assert_eq!(app.get(&format!("/api/v1/resources/{room}/availability?days_ahead=1")).await.status(), 200);
            rooms.push(room);
        }
        let contested = rooms[5];
        let groups_before = metric(&app, "group_commit_groups_total").await;
        let refusals_before = metric(&app, "db_overlap_refusals_total").await;

        let outside = app.database().connect().await;
        let mut lock = outside.begin().await.unwrap();
        if app.database().backend() == Backend::Postgres {
            // Refuses every write to reservations until the transaction ends (SQLite's `BEGIN
            // IMMEDIATE` above already holds its only write lock).
            lock.execute_batch("LOCK TABLE reservations IN SHARE ROW EXCLUSIVE MODE").await.unwrap();
        }
        lock.execute(
            "INSERT INTO reservations (user_id, resource_id, start_time, end_time, status, created_at)
             VALUES ($1, $2, $3, $4, 'active', $5)",
            params![admin.id, contested, chrono::DateTime::parse_from_rfc3339(&at(10, 0)).unwrap().to_utc(),
                chrono::DateTime::parse_from_rfc3339(&at(11, 0)).unwrap().to_utc(), chrono::Utc::now()],
        )
        .await
        .unwrap();

        // The first group: one booking, waiting for the lock.
        let first = {
            let (app, bob, room) = (&app, &bob, rooms[0]);
            async move { app.book(bob, room, &at(12, 0), &at(13, 0)).await.status().as_u16() }
        };
        let queued = async {
            until_metric(&app, "group_commit_groups_total", groups_before + 1).await;
            // The next group: a booking on each other resource (the first one's actor is still
            // busy with its write), the contested one included.
            let attempts = rooms[1..].iter().map(|room| {
                let (app, bob) = (&app, &bob);
                async move { (*room, app.book(bob, *room, &at(10, 30), &at(11, 30)).await.status().as_u16()) }
            });
            let answers = futures::future::join_all(attempts);
            let release = async {
                until_metric(&app, "group_commit_waiting", rooms.len() as i64 - 1).await;
                lock.commit().await.unwrap();
            };
            let (answers, ()) = futures::future::join(answers, release).await;
            answers
        };
        let (first, answers) = futures::future::join(first, queued).await;
        assert_eq!(first, 201);
        assert_eq!(
            metric(&app, "group_commit_groups_total").await,
            groups_before + 2,
            "the queued bookings were stored as one group"
        );
        for (room, status) in &answers {
            let expected = if *room == contested { 409 } else { 201 };
            assert_eq!(*status, expected, "room {room}: {answers:?}");
        }
        assert_eq!(
            metric(&app, "db_overlap_refusals_total").await - refusals_before,
            1,
            "the database refused the contested booking, which its actor did not know was taken"
        );
        // The refused booking left nothing; the others of its group are all there.
        assert_eq!(app.stored_reservations("active").await, 1 + 1 + 10);
        let bobs = count(&app, &format!("SELECT COUNT(*) AS n FROM reservations WHERE user_id = {}", bob.id)).await;
        assert_eq!(bobs, 11);
        let events = count(&app, "SELECT COUNT(*) AS n FROM events WHERE kind = 'reservation_created'").await;
        assert_eq!(events, 11, "an event for each committed booking, none for the refused one");
        // The contested actor reloaded: it now knows the outside booking.
        let again = app.book(&bob, contested, &at(10, 30), &at(11, 30)).await;
        assert_eq!(again.status(), 409);
        assert_eq!(
            metric(&app, "db_overlap_refusals_total").await - refusals_before,
            1,
            "refused from the reloaded actor's memory: not by the database"
        );
        outside.close().await;
    }
}

/// Two writers inserting overlapping slots at the same instant can each wait for the other's
/// uncommitted row (PostgreSQL checks an exclusion constraint after inserting the row), and the
/// database breaks such a deadlock by failing one of them: here the booking, which waited
/// first. The booking is run again in its group instead of being answered with an error: it
/// waits for the other writer, and books once that one rolls back.
#[actix_web::test]
async fn a_booking_failed_to_break_a_deadlock_is_run_again() {
    let Some(app) = TestApp::spawn(crate::support::Backend::Postgres).await else {
        return;
    };
    let admin = app.admin().await;
    let bob = app.user("bob").await;
    let room = app.resource(&admin, "Room 1").await;
    // Loaded now: the actor reads nothing while the other writer holds its rows.
    assert_eq!(
        app.get(&format!("/api/v1/resources/{room}/availability?days_ahead=1"))
            .await
            .status(),
        200
    );
    // The admin's booking of `from`–`to` o'clock, as the other writer inserts it.
    let insert = |from: i64, to: i64| {
        let instant = |hour| chrono::DateTime::parse_from_rfc3339(&at(hour, 0)).unwrap().to_utc();
        let sql = "INSERT INTO reservations (user_id, resource_id, start_time, end_time, status, created_at)
                   VALUES ($1, $2, $3, $4, 'active', $5)";
        (
            sql,
            params![admin.id, room, instant(from), instant(to), chrono::Utc::now()],
        )
    };

    let outside = app.database().connect().await;
    let mut other = outside.begin().await.unwrap();
    let (sql, values) = insert(10, 11);
    other.execute(sql, values).await.unwrap();
    // Bob's 10–12 waits for the other writer's uncommitted 10–11.
    let (ten, noon) = (at(10, 0), at(12, 0));
    let booking = app.book(&bob, room, &ten, &noon);
    let other_writer = async {
        let blocked = "SELECT COUNT(*) AS n FROM pg_stat_activity
                       WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO reservations%'";
        let deadline = Instant::now() + Duration::from_secs(60);
        while count(&app, blocked).await == 0 {
            assert!(
                Instant::now() < deadline,
                "the booking never waited for the other writer"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The other writer's 11–12 now waits for bob's uncommitted 10–12: a deadlock, which the
        // database breaks by failing bob's insert (its wait began first). Should the rerun meet
        // this insert again, the database may fail this one instead; either way it ends.
        let (sql, values) = insert(11, 12);
        let _ = other.execute(sql, values).await;
        drop(other); // rolls it back
    };
    let (response, ()) = futures::future::join(booking, other_writer).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        status, 201,
        "the booking stands once the other writer rolled back: {body}"
    );
    let stored = count(
        &app,
        &format!("SELECT COUNT(*) AS n FROM reservations WHERE resource_id = {room}"),
    )
    .await;
    assert_eq!(stored, 1, "bob's booking, once");
    outside.close().await;
}
