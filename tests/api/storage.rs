//! The storage layer on both backends: migrations, the overlap guard, error mapping and
//! transactions.

use chrono::{Duration, Utc};
use resource_reserver::params;
use resource_reserver::storage::{Db, MigrationError, StorageError};

use crate::both_backends;

/// A migrated database with one user and one resource; returns their ids.
async fn seeded(database: &crate::support::TestDatabase) -> (Db, i64, i64) {
    let db = database.connect().await;
    db.migrate().await.unwrap();
    let now = Utc::now();
    let user = db
        .query_write(
            "INSERT INTO users (username, hashed_password, created_at) VALUES ($1, $2, $3) RETURNING id",
            params!["alice", "x", now],
        )
        .await
        .unwrap()[0]
        .get::<i64>("id")
        .unwrap();
    let resource = db
        .query_write(
            "INSERT INTO resources (name, created_at) VALUES ($1, $2) RETURNING id",
            params!["Room 1", now],
        )
        .await
        .unwrap()[0]
        .get::<i64>("id")
        .unwrap();
    (db, user, resource)
}

async fn book(db: &Db, user: i64, resource: i64, start_h: i64, end_h: i64, status: &str) -> Result<u64, StorageError> {
    let base = Utc::now() + Duration::days(1);
    db.execute(
        "INSERT INTO reservations (user_id, resource_id, start_time, end_time, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            user,
            resource,
            base + Duration::hours(start_h),
            base + Duration::hours(end_h),
            status,
            Utc::now()
        ],
    )
    .await
}

both_backends! {
    #[database]
    async fn migrations_apply_once_and_are_recorded(database: TestDatabase) {
        let db = database.connect().await;
        let first = db.migrate().await.unwrap();
        assert!(!first.applied.is_empty());
        assert_eq!(first.applied.last(), Some(&first.current_version));
        let second = db.migrate().await.unwrap();
        assert!(second.applied.is_empty(), "nothing is applied twice");
        let recorded = db.query_one("SELECT COUNT(*) AS n FROM schema_migrations", vec![]).await.unwrap();
        assert_eq!(recorded.get::<i64>("n").unwrap() as usize, first.applied.len());
        assert_eq!(first.applied.len(), reserver_schema::SQLITE.len(), "every migration is applied");
    }

    #[database]
    async fn a_database_from_a_newer_release_is_refused(database: TestDatabase) {
        let db = database.connect().await;
        db.migrate().await.unwrap();
        db.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
            params![9999_i64, "from_the_future", "0", "2030-01-01T00:00:00Z"],
        )
        .await
        .unwrap();
        let error = db.migrate().await.unwrap_err();
        assert!(matches!(error, MigrationError::NewerThanBinary { found: 9999, .. }), "{error}");
        assert!(error.to_string().contains("newer release"));
    }

    #[database]
    async fn an_edited_migration_is_refused(database: TestDatabase) {
        let db = database.connect().await;
        db.migrate().await.unwrap();
        db.execute("UPDATE schema_migrations SET checksum = $1 WHERE version = 1", params!["edited"]).await.unwrap();
        assert!(matches!(db.migrate().await.unwrap_err(), MigrationError::Modified { version: 1, .. }));
    }

    #[database]
    async fn the_database_itself_refuses_overlapping_bookings(database: TestDatabase) {
        let (db, user, resource) = seeded(&database).await;
        book(&db, user, resource, 0, 2, "active").await.unwrap();
        assert!(matches!(book(&db, user, resource, 1, 3, "active").await, Err(StorageError::Overlap)));
        assert!(matches!(book(&db, user, resource, -1, 1, "pending_approval").await, Err(StorageError::Overlap)));
        assert!(matches!(book(&db, user, resource, 0, 2, "held").await, Err(StorageError::Overlap)));
        // Half-open intervals: touching is fine; non-blocking statuses never conflict.
        book(&db, user, resource, 2, 3, "active").await.unwrap();
        book(&db, user, resource, 0, 2, "cancelled").await.unwrap();
        // Re-activating a cancelled row into an occupied slot is refused too.
        let update = db
            .execute("UPDATE reservations SET status = 'active' WHERE status = 'cancelled'", vec![])
            .await;
        assert!(matches!(update, Err(StorageError::Overlap)), "{update:?}");
    }

    // The guard against a model: a few hundred random inserts, moves and status changes of
    // bookings in half-hour steps (so many touch or nest), each refused exactly when the model
    // says it overlaps another blocking booking of the resource. SQLite's triggers probe only
    // the blocking booking that starts last before the new end (migration 40), which is right
    // only while the blocking bookings never overlap: this checks that it stays so.
    #[database]
    async fn the_guard_refuses_exactly_what_overlaps_a_blocking_booking(database: TestDatabase) {
        let (db, user, resource) = seeded(&database).await;
        let base = Utc::now() + Duration::days(1);
        let at = |half_hours: i64| base + Duration::minutes(30 * half_hours);
        let statuses = ["active", "pending_approval", "held", "cancelled", "expired"];
        let blocking = |status: &str| matches!(status, "active" | "pending_approval" | "held");
        // (id, start, end, status) of every stored booking.
        let mut model: Vec<(i64, i64, i64, &str)> = Vec::new();
        let overlaps = |model: &[(i64, i64, i64, &str)], id: i64, start: i64, end: i64| {
            model.iter().any(|&(other, s, e, status)| other != id && blocking(status) && s < end && e > start)
        };
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut random = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as i64
        };
        let (mut refused, mut accepted) = (0, 0);
        for step in 0..300 {
            let start = random(96);
            let end = start + 1 + random(6);
            let status = statuses[random(statuses.len() as u64) as usize];
            let target = (!model.is_empty() && random(3) == 0).then(|| random(model.len() as u64) as usize);
            let (id, result) = match target {
                None => {
                    let inserted = db
                        .query_write(
                            "INSERT INTO reservations (user_id, resource_id, start_time, end_time, status, created_at)
                             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                            params![user, resource, at(start), at(end), status, Utc::now()],
                        )
                        .await;
                    let id = inserted.as_ref().ok().map(|rows| rows[0].get::<i64>("id").unwrap());
                    (id, inserted.map(|_| ()))
                }
                Some(index) => {
                    let id = model[index].0;
                    let updated = db
                        .execute(
                            "UPDATE reservations SET start_time = $1, end_time = $2, status = $3 WHERE id = $4",
                            params![at(start), at(end), status, id],
                        )
                        .await;
                    (Some(id), updated.map(|n| assert_eq!(n, 1)))
                }
            };
            let expected_refusal = blocking(status) && overlaps(&model, id.unwrap_or(-1), start, end);
            match result {
                Err(StorageError::Overlap) => {
                    assert!(expected_refusal, "step {step}: [{start}, {end}) {status} refused, model {model:?}");
                    refused += 1;
                }
                Ok(()) => {
                    assert!(!expected_refusal, "step {step}: [{start}, {end}) {status} let in, model {model:?}");
                    let id = id.unwrap();
                    model.retain(|row| row.0 != id);
                    model.push((id, start, end, status));
                    accepted += 1;
                }
                Err(other) => panic!("step {step}: {other}"),
            }
        }
        assert!(refused > 50 && accepted > 50, "both outcomes are exercised: {refused} refused, {accepted} accepted");
    }

    #[database]
    async fn unique_violations_are_reported_as_such(database: TestDatabase) {
        let (db, _, _) = seeded(&database).await;
        let error = db
            .execute("INSERT INTO resources (name, created_at) VALUES ($1, $2)", params!["Room 1", Utc::now()])
            .await
            .unwrap_err();
        assert!(error.is_unique_violation_of("name"), "{error:?}");
    }

    #[database]
    async fn a_dropped_transaction_leaves_nothing_behind(database: TestDatabase) {
        let (db, _, _) = seeded(&database).await;
        {
            let mut tx = db.begin().await.unwrap();
            tx.execute("INSERT INTO resources (name, created_at) VALUES ($1, $2)", params!["Temp", Utc::now()])
                .await
                .unwrap();
            // dropped without commit
        }
        let mut tx = db.begin().await.unwrap();
        tx.execute("INSERT INTO resources (name, created_at) VALUES ($1, $2)", params!["Kept", Utc::now()])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let rows = db.query("SELECT name FROM resources ORDER BY name", vec![]).await.unwrap();
        let names: Vec<String> = rows.iter().map(|r| r.get("name").unwrap()).collect();
        assert_eq!(names, ["Kept", "Room 1"]);
    }

    #[database]
    async fn concurrent_migrations_apply_each_version_once(database: TestDatabase) {
        let (a, b) = (database.connect().await, database.connect().await);
        let (first, second) = futures::join!(a.migrate(), b.migrate());
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_eq!(first.applied.len() + second.applied.len(), reserver_schema::SQLITE.len());
    }
}
