//! The resource actors' [`ScheduleStore`], over SQL. Each method is one transaction: the change,
//! its reservation history, its idempotency record and its outbox events commit together or not
//! at all; the tailer is woken after the commit.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::resource::store::{
    Cancellation, LoadedResource, NewBookings, ResourcePatch, StoreResult, StoredBooking,
};
use reserver_actors::resource::{
    Booking, ReservationId, ResourceId, ResourceInfo, ScheduleStore, SeriesLink, StoreError, UserId, UserRef,
};

use crate::events::event::ReservationRef;
use crate::events::{NewEvent, Wake, commit_with};
use crate::params;
use crate::resources::model::live_status;
use crate::resources::record;
use crate::storage::{Db, Row, StorageError, Transaction, Value};

pub struct SqlScheduleStore {
    db: Db,
    wake: Wake,
}

impl SqlScheduleStore {
    pub fn new(db: Db, wake: Wake) -> SqlScheduleStore {
        SqlScheduleStore { db, wake }
    }
}

impl From<StorageError> for StoreError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Overlap => StoreError::Overlap,
            StorageError::Unavailable(why) => StoreError::Unavailable(why),
            error if error.is_unique_violation_of("name") => StoreError::DuplicateName,
            other => StoreError::Other(other.to_string()),
        }
    }
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

async fn history(
    tx: &mut Box<dyn Transaction>,
    reservation: ReservationId,
    action: &str,
    user: Option<UserId>,
    now: DateTime<Utc>,
    details: String,
) -> Result<(), StorageError> {
    tx.execute(
        "INSERT INTO reservation_history (reservation_id, action, user_id, created_at, details)
         VALUES ($1, $2, $3, $4, $5)",
        params![reservation, action, user, now, details],
    )
    .await
    .map(drop)
}

fn not_active(reservation: ReservationId) -> StoreError {
    StoreError::Other(format!("reservation {reservation} is not active"))
}

/// A reservation as events describe it, from a row with `user_id`, `start_time`, `end_time`.
fn reservation_ref(id: ReservationId, resource: ResourceId, row: &Row) -> Result<ReservationRef, StoreError> {
    let interval = Interval::new(row.get("start_time")?, row.get("end_time")?)
        .map_err(|e| StoreError::Other(format!("stored reservation with {e}")))?;
    Ok(ReservationRef {
        id,
        resource,
        owner: row.get("user_id")?,
        interval,
    })
}

/// Sets the status of an active booking of `resource`; fails if it is not active any more.
async fn leave_active(
    tx: &mut Box<dyn Transaction>,
    resource: ResourceId,
    reservation: ReservationId,
    status: &str,
    cancellation: Option<(&Option<String>, DateTime<Utc>)>,
) -> Result<ReservationRef, StoreError> {
    let (reason, cancelled_at) = match cancellation {
        Some((reason, at)) => (reason.clone(), Some(at)),
        None => (None, None),
    };
    let row = tx
        .query_opt(
            "UPDATE reservations SET status = $1, cancelled_at = $2, cancellation_reason = $3
             WHERE id = $4 AND resource_id = $5 AND status = 'active'
             RETURNING user_id, start_time, end_time",
            params![status, cancelled_at, reason, reservation, resource],
        )
        .await?
        .ok_or_else(|| not_active(reservation))?;
    reservation_ref(reservation, resource, &row)
}

/// Cancels the bookings in `tx`; returns the events announcing it.
async fn cancel_in(tx: &mut Box<dyn Transaction>, cancellation: &Cancellation) -> Result<Vec<NewEvent>, StoreError> {
    let details = match &cancellation.reason {
        Some(reason) => format!("Cancelled reservation (Reason: {reason})"),
        None => "Cancelled reservation".to_owned(),
    };
    let mut events = Vec::with_capacity(cancellation.reservations.len());
    for reservation in &cancellation.reservations {
        let cancelled = leave_active(
            tx,
            cancellation.resource,
            *reservation,
            "cancelled",
            Some((&cancellation.reason, cancellation.now)),
        )
        .await?;
        events.push(NewEvent::reservation_cancelled(&cancelled, cancellation.now));
        history(
            tx,
            *reservation,
            "cancelled",
            Some(cancellation.by),
            cancellation.now,
            details.clone(),
        )
        .await?;
    }
    Ok(events)
}

async fn load(db: Db, resource: ResourceId) -> Result<Option<LoadedResource>, StoreError> {
    let Some(info) = record::fetch(&db, resource).await? else {
        return Ok(None);
    };
    let rows = db
        .query(
            "SELECT r.id, r.user_id, u.username, r.start_time, r.end_time, r.created_at,
                    r.recurrence_rule_id, r.parent_reservation_id
             FROM reservations r JOIN users u ON u.id = r.user_id
             WHERE r.resource_id = $1 AND r.status = 'active'
             ORDER BY r.start_time",
            params![resource],
        )
        .await?;
    let mut bookings = Vec::with_capacity(rows.len());
    for row in rows {
        let interval = Interval::new(row.get("start_time")?, row.get("end_time")?)
            .map_err(|e| StoreError::Other(format!("stored reservation with {e}")))?;
        let series = row
            .get::<Option<i64>>("recurrence_rule_id")?
            .map(|rule_id| {
                Ok::<_, StorageError>(SeriesLink {
                    rule_id,
                    parent: row.get("parent_reservation_id")?,
                })
            })
            .transpose()?;
        bookings.push(Booking {
            id: row.get("id")?,
            user: UserRef {
                id: row.get("user_id")?,
                name: Arc::from(row.get::<String>("username")?),
            },
            interval,
            created_at: row.get("created_at")?,
            series,
        });
    }
    Ok(Some(LoadedResource { info, bookings }))
}

async fn insert_bookings(db: Db, wake: Wake, new: NewBookings) -> Result<Vec<StoredBooking>, StoreError> {
    let mut tx = db.begin().await?;
    let rule_id = match &new.series {
        None => None,
        Some(series) => {
            let timezone = tx
                .query_opt("SELECT timezone FROM resources WHERE id = $1", params![new.resource])
                .await?
                .map(|row| row.get::<String>("timezone"))
                .transpose()?
                .unwrap_or_else(|| "UTC".into());
            let days = serde_json::to_string(&series.days_of_week).unwrap_or_else(|_| "[]".into());
            let row = tx
                .query_opt(
                    "INSERT INTO recurrence_rules
                         (frequency, repeat_interval, days_of_week, end_type, end_date, occurrence_count, timezone, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    params![
                        series.frequency.as_str(),
                        series.interval,
                        days,
                        series.end_type.as_str(),
                        series.end_date,
                        series.occurrence_count,
                        timezone,
                        new.now
                    ],
                )
                .await?
                .ok_or_else(|| StoreError::Other("no id for the new recurrence rule".into()))?;
            Some(row.get::<i64>("id")?)
        }
    };
    let mut stored = Vec::with_capacity(new.intervals.len());
    let mut events = Vec::with_capacity(new.intervals.len());
    let mut parent: Option<ReservationId> = None;
    for (index, interval) in new.intervals.iter().enumerate() {
        let row = tx
            .query_opt(
                "INSERT INTO reservations
                     (user_id, resource_id, start_time, end_time, status, created_at,
                      recurrence_rule_id, parent_reservation_id, is_recurring_instance)
                 VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8) RETURNING id",
                params![
                    new.user.id,
                    new.resource,
                    interval.start(),
                    interval.end(),
                    new.now,
                    rule_id,
                    parent,
                    parent.is_some()
                ],
            )
            .await?
            .ok_or_else(|| StoreError::Other("no id for the new reservation".into()))?;
        let id: ReservationId = row.get("id")?;
        let details = match rule_id {
            Some(_) => format!("Created recurring reservation #{}", index + 1),
            None => format!(
                "Reserved from {} to {}",
                rfc3339(interval.start()),
                rfc3339(interval.end())
            ),
        };
        history(&mut tx, id, "created", Some(new.user.id), new.now, details).await?;
        events.push(NewEvent::reservation_created(&ReservationRef {
            id,
            resource: new.resource,
            owner: new.user.id,
            interval: *interval,
        }));
        stored.push(StoredBooking {
            id,
            created_at: new.now,
            series: rule_id.map(|rule_id| SeriesLink { rule_id, parent }),
        });
        if rule_id.is_some() && parent.is_none() {
            parent = Some(id);
        }
    }
    if let Some(key) = &new.idempotency_key {
        let ids: Vec<ReservationId> = stored.iter().map(|s| s.id).collect();
        tx.execute(
            "UPDATE idempotency_keys SET reservation_ids = $1 WHERE user_id = $2 AND idempotency_key = $3",
            params![
                serde_json::to_string(&ids).unwrap_or_default(),
                new.user.id,
                key.as_str()
            ],
        )
        .await?;
    }
    commit_with(tx, events, new.now, &wake).await?;
    Ok(stored)
}

async fn cancel_bookings(db: Db, wake: Wake, cancellation: Cancellation) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let events = cancel_in(&mut tx, &cancellation).await?;
    commit_with(tx, events, cancellation.now, &wake).await?;
    Ok(())
}

async fn reschedule(
    db: Db,
    wake: Wake,
    reservation: ReservationId,
    by: UserId,
    to: Interval,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let Some(before) = tx
        .query_opt(
            "SELECT resource_id, user_id, start_time, end_time FROM reservations WHERE id = $1 AND status = 'active'",
            params![reservation],
        )
        .await?
    else {
        return Err(not_active(reservation));
    };
    let previous = reservation_ref(reservation, before.get("resource_id")?, &before)?;
    let (from, until) = (previous.interval.start(), previous.interval.end());
    tx.execute(
        "UPDATE reservations SET start_time = $1, end_time = $2, updated_at = $3 WHERE id = $4",
        params![to.start(), to.end(), now, reservation],
    )
    .await?;
    let details = format!(
        "Moved from {} – {} to {} – {}",
        rfc3339(from),
        rfc3339(until),
        rfc3339(to.start()),
        rfc3339(to.end())
    );
    history(&mut tx, reservation, "modified", Some(by), now, details).await?;
    let moved = ReservationRef {
        interval: to,
        ..previous
    };
    commit_with(
        tx,
        vec![NewEvent::reservation_updated(&moved, previous.interval)],
        now,
        &wake,
    )
    .await?;
    Ok(())
}

async fn expire_bookings(
    db: Db,
    wake: Wake,
    resource: ResourceId,
    reservations: Vec<ReservationId>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let mut events = Vec::with_capacity(reservations.len());
    for reservation in reservations {
        let expired = leave_active(&mut tx, resource, reservation, "expired", None).await?;
        events.push(NewEvent::reservation_expired(&expired, now));
        tx.execute(
            "INSERT INTO reservation_history (reservation_id, action, user_id, created_at, details)
             SELECT id, 'expired', user_id, $1, $2 FROM reservations WHERE id = $3",
            params![
                now,
                format!("Reservation automatically expired at {}", rfc3339(now)),
                reservation
            ],
        )
        .await?;
    }
    commit_with(tx, events, now, &wake).await?;
    Ok(())
}

/// Whether a booking of `resource` is in progress at `now` (for the status word of events).
async fn in_use(tx: &mut Box<dyn Transaction>, resource: ResourceId, now: DateTime<Utc>) -> Result<bool, StorageError> {
    let row = tx
        .query_opt(
            "SELECT COUNT(*) AS n FROM reservations
             WHERE resource_id = $1 AND status = 'active' AND start_time <= $2 AND end_time > $2",
            params![resource, now],
        )
        .await?;
    Ok(row.map(|row| row.get::<i64>("n")).transpose()?.unwrap_or(0) > 0)
}

async fn update_resource(
    db: Db,
    wake: Wake,
    resource: ResourceId,
    patch: ResourcePatch,
    now: DateTime<Utc>,
) -> Result<ResourceInfo, StoreError> {
    // A change of maintenance or of the base flag is a status change (the original's
    // `resource_status_changed`); other fields are announced as `resource_updated`.
    let status_changed = patch.enabled.is_some() || patch.maintenance.is_some();
    let entering_maintenance = matches!(patch.maintenance, Some(Some(_)));
    let details_changed =
        patch.name.is_some() || patch.description.is_some() || patch.tags.is_some() || patch.timezone.is_some();
    let mut assignments: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut set = |column: &str, value: Value| {
        values.push(value);
        assignments.push(format!("{column} = ${}", values.len()));
    };
    if let Some(name) = patch.name {
        set("name", name.into());
    }
    if let Some(description) = patch.description {
        set("description", description.into());
    }
    if let Some(timezone) = patch.timezone {
        set("timezone", timezone.name().into());
    }
    if let Some(enabled) = patch.enabled {
        set("available", enabled.into());
    }
    if let Some(maintenance) = patch.maintenance {
        let status = if maintenance.is_some() {
            "unavailable"
        } else {
            "available"
        };
        set("status", status.into());
        set("unavailable_since", maintenance.as_ref().map(|m| m.since).into());
        set("maintenance_until", maintenance.as_ref().and_then(|m| m.until).into());
        set(
            "auto_reset_hours",
            maintenance.as_ref().and_then(|m| m.auto_reset_hours()).into(),
        );
    }
    set("updated_at", now.into());
    values.push(resource.into());
    let sql = format!(
        "UPDATE resources SET {} WHERE id = ${}",
        assignments.join(", "),
        values.len()
    );

    let mut tx = db.begin().await?;
    tx.execute(&sql, values).await?;
    if let Some(tags) = patch.tags {
        record::write_tags(&mut tx, resource, &tags).await?;
    }
    let info = record::fetch_in(&mut tx, resource)
        .await?
        .ok_or_else(|| StoreError::Other(format!("resource {resource} vanished")))?;
    let mut events = Vec::new();
    if status_changed {
        let status = live_status(&info, in_use(&mut tx, resource, now).await?, now);
        events.push(NewEvent::resource_status_changed(&info, status, entering_maintenance));
    }
    if details_changed {
        events.push(NewEvent::resource_updated(&info));
    }
    commit_with(tx, events, now, &wake).await?;
    Ok(info)
}

async fn delete_resource(db: Db, wake: Wake, cancellation: Cancellation) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    let mut events = cancel_in(&mut tx, &cancellation).await?;
    tx.execute("DELETE FROM resources WHERE id = $1", params![cancellation.resource])
        .await?;
    events.push(NewEvent::resource_deleted(cancellation.resource));
    commit_with(tx, events, cancellation.now, &wake).await?;
    Ok(())
}

async fn pending_deadlines(db: Db) -> Result<Vec<(ResourceId, DateTime<Utc>)>, StoreError> {
    let rows = db
        .query(
            "SELECT resource_id, MIN(end_time) AS due FROM reservations WHERE status = 'active' GROUP BY resource_id
             UNION ALL
             SELECT id AS resource_id, maintenance_until AS due FROM resources WHERE maintenance_until IS NOT NULL",
            vec![],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((row.get("resource_id")?, row.get("due")?)))
        .collect::<Result<_, StorageError>>()
        .map_err(StoreError::from)
}

impl ScheduleStore for SqlScheduleStore {
    fn load(&self, resource: ResourceId) -> StoreResult<Option<LoadedResource>> {
        Box::pin(load(self.db.clone(), resource))
    }

    fn insert_bookings(&self, bookings: NewBookings) -> StoreResult<Vec<StoredBooking>> {
        Box::pin(insert_bookings(self.db.clone(), self.wake.clone(), bookings))
    }

    fn cancel_bookings(&self, cancellation: Cancellation) -> StoreResult<()> {
        Box::pin(cancel_bookings(self.db.clone(), self.wake.clone(), cancellation))
    }

    fn reschedule(&self, reservation: ReservationId, by: UserId, to: Interval, now: DateTime<Utc>) -> StoreResult<()> {
        Box::pin(reschedule(self.db.clone(), self.wake.clone(), reservation, by, to, now))
    }

    fn expire_bookings(
        &self,
        resource: ResourceId,
        reservations: Vec<ReservationId>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        Box::pin(expire_bookings(
            self.db.clone(),
            self.wake.clone(),
            resource,
            reservations,
            now,
        ))
    }

    fn update_resource(
        &self,
        resource: ResourceId,
        patch: ResourcePatch,
        now: DateTime<Utc>,
    ) -> StoreResult<ResourceInfo> {
        Box::pin(update_resource(
            self.db.clone(),
            self.wake.clone(),
            resource,
            patch,
            now,
        ))
    }

    fn delete_resource(&self, cancellation: Cancellation) -> StoreResult<()> {
        Box::pin(delete_resource(self.db.clone(), self.wake.clone(), cancellation))
    }

    fn pending_deadlines(&self) -> StoreResult<Vec<(ResourceId, DateTime<Utc>)>> {
        Box::pin(pending_deadlines(self.db.clone()))
    }
}
