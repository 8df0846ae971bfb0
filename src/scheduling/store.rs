//! The resource actors' [`ScheduleStore`], over SQL: loading a resource's state, applying a
//! batch of changes in one transaction with the batches of other actors (the SQL of a change is
//! [`super::apply`], the sharing of commits [`super::group_commit`]), and the deadlines to re-arm
//! at start-up.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::fault::Fault;
use reserver_actors::resource::store::{Applied, Change, LoadedResource, StoreResult};
use reserver_actors::resource::{
    Booking, BookingStatus, Offer, ReservationId, ResourceId, ScheduleStore, SeriesLink, StoreError, UserRef,
    WaitlistEntry,
};

use super::group_commit::{CommitMetrics, GroupCommit, Tuning};
use crate::events::EventWriter;
use crate::params;
use crate::resources::blocking::blocking_sql;
use crate::resources::record;
use crate::storage::{Binder, Db, Row, StorageError};

pub struct SqlScheduleStore {
    db: Db,
    /// Stores the actors' writes, several to a transaction, with their events (and wakes the
    /// tailer after each commit, so they reach `/ws` at once).
    commits: GroupCommit,
}

impl SqlScheduleStore {
    pub fn new(db: Db, writer: EventWriter, tuning: Tuning, metrics: CommitMetrics) -> SqlScheduleStore {
        let commits = GroupCommit::new(db.clone(), writer, tuning, metrics);
        SqlScheduleStore { db, commits }
    }
}

impl From<StorageError> for StoreError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Overlap => StoreError::Overlap,
            StorageError::Deadlock(_) => StoreError::Deadlock,
            StorageError::Unavailable(why) | StorageError::TimedOut(why) => StoreError::Unavailable(why),
            error if error.is_unique_violation_of("name") => StoreError::DuplicateName,
            other => StoreError::Other(Fault::new(other)),
        }
    }
}

fn interval(row: &Row, start: &str, end: &str) -> Result<Interval, StoreError> {
    Interval::new(row.get(start)?, row.get(end)?).map_err(|e| StoreError::Other(Fault::context("a stored interval", e)))
}

fn user(row: &Row) -> Result<UserRef, StorageError> {
    Ok(UserRef {
        id: row.get("user_id")?,
        name: Arc::from(row.get::<String>("username")?),
    })
}

fn booking(row: &Row) -> Result<Booking, StoreError> {
    let status = BookingStatus::try_from(crate::reservations::status(row, "status")?)
        .map_err(|e| StorageError::Decode(e.to_string()))?;
    let series = row
        .get::<Option<i64>>("recurrence_rule_id")?
        .map(|rule_id| {
            Ok::<_, StorageError>(SeriesLink {
                rule_id,
                parent: row.get("parent_reservation_id")?,
            })
        })
        .transpose()?;
    Ok(Booking {
        series,
        status,
        hold_expires_at: row.get("hold_expires_at")?,
        offer_for: row.get("offer_for")?,
        checkin_deadline: row.get("checkin_deadline")?,
        checked_in_at: row.get("checked_in_at")?,
        ..Booking::active(
            row.get("id")?,
            user(row)?,
            interval(row, "start_time", "end_time")?,
            row.get("created_at")?,
        )
    })
}

/// The bookings of a resource that block time, as [`booking`] reads them; `{only}` narrows them.
fn blocking_bookings_sql(only: &str) -> String {
    format!(
        "SELECT r.id, r.user_id, u.username, r.start_time, r.end_time, r.created_at, r.status,
                r.recurrence_rule_id, r.parent_reservation_id, r.hold_expires_at, r.checkin_deadline,
                r.checked_in_at, w.id AS offer_for
         FROM reservations r
         JOIN users u ON u.id = r.user_id
         LEFT JOIN waitlist w ON w.offered_reservation_id = r.id AND w.status = 'offered'
         WHERE r.resource_id = $1 AND {blocking} {only}
         ORDER BY r.start_time",
        blocking = blocking_sql!("r")
    )
}

async fn load(db: Db, resource: ResourceId) -> Result<Option<LoadedResource>, StoreError> {
    let Some(info) = record::fetch(&db, resource).await? else {
        return Ok(None);
    };
    let rows = db.query(&blocking_bookings_sql(""), params![resource]).await?;
    let bookings = rows.iter().map(booking).collect::<Result<_, _>>()?;
    let rows = db
        .query(
            "SELECT w.id, w.user_id, u.username, w.desired_start, w.desired_end, w.flexible_time, w.created_at,
                    w.offered_at, w.offer_expires_at, w.offered_reservation_id, r.start_time, r.end_time
             FROM waitlist w
             JOIN users u ON u.id = w.user_id
             LEFT JOIN reservations r ON r.id = w.offered_reservation_id
             WHERE w.resource_id = $1 AND w.status IN ('waiting', 'offered')
             ORDER BY w.created_at, w.id",
            params![resource],
        )
        .await?;
    let mut waitlist = Vec::with_capacity(rows.len());
    for row in &rows {
        let offer = match (
            row.get::<Option<i64>>("offered_reservation_id")?,
            row.get("offered_at")?,
            row.get("offer_expires_at")?,
        ) {
            (Some(reservation), Some(offered_at), Some(expires_at)) => Some(Offer {
                reservation,
                interval: interval(row, "start_time", "end_time")?,
                offered_at,
                expires_at,
            }),
            _ => None,
        };
        waitlist.push(WaitlistEntry {
            id: row.get("id")?,
            user: user(row)?,
            desired: interval(row, "desired_start", "desired_end")?,
            flexible: row.get("flexible_time")?,
            created_at: row.get("created_at")?,
            offer,
        });
    }
    let hours = crate::hours::store::in_force(&db, resource).await?;
    Ok(Some(LoadedResource {
        info,
        bookings,
        waitlist,
        hours,
    }))
}

/// Those of `reservations` of `resource` that block time, as stored now.
async fn load_bookings(
    db: Db,
    resource: ResourceId,
    reservations: Vec<ReservationId>,
) -> Result<Vec<Booking>, StoreError> {
    if reservations.is_empty() {
        return Ok(Vec::new());
    }
    let mut binder = Binder::new();
    binder.bind(resource); // $1 of the statement
    let marks: Vec<String> = reservations.iter().map(|id| binder.bind(*id)).collect();
    let sql = blocking_bookings_sql(&format!("AND r.id IN ({})", marks.join(", ")));
    db.query(&sql, binder.into_values())
        .await?
        .iter()
        .map(booking)
        .collect()
}

/// Every resource's earliest deadline: a booking's end, a hold's lapse, a check-in deadline, a
/// pending request's start, a maintenance end; and a waiting waitlist entry's creation, which is
/// past, so its resource loads at once (loading offers free slots to the waiting entries: a slot
/// may have been freed while no process served the resource, or by another process at the very
/// moment the entry joined).
async fn pending_deadlines(db: Db) -> Result<Vec<(ResourceId, DateTime<Utc>)>, StoreError> {
    let rows = db
        .query(
            "SELECT resource_id, MIN(end_time) AS due FROM reservations WHERE status = 'active' GROUP BY resource_id
             UNION ALL
             SELECT resource_id, MIN(checkin_deadline) FROM reservations
              WHERE status = 'active' AND checkin_deadline IS NOT NULL AND checked_in_at IS NULL GROUP BY resource_id
             UNION ALL
             SELECT resource_id, MIN(hold_expires_at) FROM reservations WHERE status = 'held' GROUP BY resource_id
             UNION ALL
             SELECT resource_id, MIN(start_time) FROM reservations WHERE status = 'pending_approval' GROUP BY resource_id
             UNION ALL
             SELECT id, maintenance_until FROM resources WHERE maintenance_until IS NOT NULL
             UNION ALL
             SELECT resource_id, MIN(created_at) FROM waitlist WHERE status = 'waiting' GROUP BY resource_id",
            vec![],
        )
        .await?;
    let mut earliest: std::collections::HashMap<ResourceId, DateTime<Utc>> = std::collections::HashMap::new();
    for row in rows {
        let (resource, due): (ResourceId, DateTime<Utc>) = (row.get("resource_id")?, row.get("due")?);
        earliest
            .entry(resource)
            .and_modify(|at| *at = (*at).min(due))
            .or_insert(due);
    }
    Ok(earliest.into_iter().collect())
}

impl ScheduleStore for SqlScheduleStore {
    fn load(&self, resource: ResourceId) -> StoreResult<Option<LoadedResource>> {
        Box::pin(load(self.db.clone(), resource))
    }

    fn load_bookings(&self, resource: ResourceId, reservations: Vec<ReservationId>) -> StoreResult<Vec<Booking>> {
        Box::pin(load_bookings(self.db.clone(), resource, reservations))
    }

    fn apply(&self, resource: ResourceId, now: DateTime<Utc>, changes: Vec<Change>) -> StoreResult<Vec<Applied>> {
        let commits = self.commits.clone();
        Box::pin(async move {
            let mut answers = commits.submit(now, vec![(resource, changes)]).await?;
            answers
                .pop()
                .ok_or_else(|| StoreError::Other("a group commit answered no resource".into()))
        })
    }

    /// One job of the group commit: its parts stand or fall together.
    fn apply_many(&self, now: DateTime<Utc>, parts: Vec<(ResourceId, Vec<Change>)>) -> StoreResult<Vec<Vec<Applied>>> {
        let commits = self.commits.clone();
        Box::pin(async move { commits.submit(now, parts).await })
    }

    fn pending_deadlines(&self) -> StoreResult<Vec<(ResourceId, DateTime<Utc>)>> {
        Box::pin(pending_deadlines(self.db.clone()))
    }
}
