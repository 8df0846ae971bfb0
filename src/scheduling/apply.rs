//! One [`Change`] of a resource actor's batch, as SQL inside the batch's transaction, with the
//! reservation history and the events (for `/ws`) it implies, gathered in [`Effects`] for the
//! group commit to write.
//!
//! The actor planned the change on its cached state, which another process may have changed
//! since. So every write to an existing row is conditional on the state it was planned from
//! (`… WHERE status = …`), and one that finds the row changed or gone is refused with
//! [`StoreError::Stale`] (the whole batch with it): never written over another process's change,
//! never a fault. A row the batch itself has just written or checked that is missing is a fault
//! ([`StoreError::Other`]).

use chrono::{DateTime, Utc};
use reserver_actors::domain::Interval;
use reserver_actors::fault::Fault;
use reserver_actors::resource::rules::Admission;
use reserver_actors::resource::store::{
    Applied, ApprovalRequest, Change, NewBookings, Outcome, ResourcePatch, StoredBooking, WaitlistClosed,
};
use reserver_actors::resource::{
    Booking, BookingStatus, ReservationId, ResourceId, ResourceInfo, SeriesLink, StaleRow, StoreError, UserId,
};

use crate::events::NewEvent;
use crate::events::event::ReservationRef as EventRef;
use crate::params;
use crate::resources::model::live_status;
use crate::resources::record;
use crate::storage::{Binder, Row, StorageError, Transaction, Value};

type Tx = Box<dyn Transaction>;

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A `reservation_history` row, written with the other rows of its group (see [`Effects`]).
struct HistoryRow {
    reservation: ReservationId,
    action: &'static str,
    user: Option<UserId>,
    at: DateTime<Utc>,
    details: String,
}

/// What changes imply besides their own rows: history rows and events. A group commit gathers
/// them from the changes that stood and writes each kind for the whole group at once
/// ([`Effects::write_history`], then the events through the event writer).
#[derive(Default)]
pub struct Effects {
    pub events: Vec<NewEvent>,
    history: Vec<HistoryRow>,
}

/// Most history rows written by one statement (five parameters a row).
const HISTORY_CHUNK: usize = 200;

impl Effects {
    fn history(
        &mut self,
        reservation: ReservationId,
        action: &'static str,
        user: Option<UserId>,
        at: DateTime<Utc>,
        details: String,
    ) {
        self.history.push(HistoryRow {
            reservation,
            action,
            user,
            at,
            details,
        });
    }

    /// Moves `other`'s effects after this one's.
    pub fn append(&mut self, other: Effects) {
        self.events.extend(other.events);
        self.history.extend(other.history);
    }

    /// Writes the history rows gathered, in order, and leaves the events.
    pub async fn write_history(&mut self, tx: &mut Tx) -> Result<(), StorageError> {
        for chunk in std::mem::take(&mut self.history).chunks(HISTORY_CHUNK) {
            let mut binder = Binder::new();
            let rows: Vec<String> = chunk
                .iter()
                .map(|row| {
                    let cells = [
                        binder.bind(row.reservation),
                        binder.bind(row.action),
                        binder.bind(row.user),
                        binder.bind(row.at),
                        binder.bind(row.details.as_str()),
                    ];
                    format!("({})", cells.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO reservation_history (reservation_id, action, user_id, created_at, details) VALUES {}",
                rows.join(", ")
            );
            tx.execute(&sql, binder.into_values()).await?;
        }
        Ok(())
    }
}

fn new_id(row: Option<Row>, what: &str) -> Result<i64, StoreError> {
    let row = row.ok_or_else(|| StoreError::Other(format!("no id for the new {what}").into()))?;
    Ok(row.get("id")?)
}

/// A reservation as events describe it, from a row with `user_id`, `start_time`, `end_time`.
fn event_ref(id: ReservationId, resource: ResourceId, row: &Row) -> Result<EventRef, StoreError> {
    let interval = Interval::new(row.get("start_time")?, row.get("end_time")?)
        .map_err(|e| StoreError::Other(Fault::context("a stored reservation", e)))?;
    Ok(EventRef {
        id,
        resource,
        owner: row.get("user_id")?,
        interval,
    })
}

/// The reservation `id` of `resource`, as events describe it.
async fn reservation_ref(tx: &mut Tx, resource: ResourceId, id: ReservationId) -> Result<EventRef, StoreError> {
    let row = tx
        .query_opt(
            "SELECT user_id, start_time, end_time FROM reservations WHERE id = $1",
            params![id],
        )
        .await?
        .ok_or_else(|| StoreError::Other(format!("reservation {id} is gone").into()))?;
    event_ref(id, resource, &row)
}

async fn resource_name(tx: &mut Tx, resource: ResourceId) -> Result<String, StoreError> {
    let row = tx
        .query_opt("SELECT name FROM resources WHERE id = $1", params![resource])
        .await?;
    Ok(row
        .map(|row| row.get::<String>("name"))
        .transpose()?
        .unwrap_or_default())
}

/// Whether a booking of `resource` is in progress at `now` (for the status word of events).
async fn in_use(tx: &mut Tx, resource: ResourceId, now: DateTime<Utc>) -> Result<bool, StorageError> {
    let row = tx
        .query_opt(
            "SELECT COUNT(*) AS n FROM reservations
             WHERE resource_id = $1 AND status = 'active' AND start_time <= $2 AND end_time > $2",
            params![resource, now],
        )
        .await?;
    Ok(row.map(|row| row.get::<i64>("n")).transpose()?.unwrap_or(0) > 0)
}

/// Applies `change` to `resource`; `earlier` holds the results of the batch's previous changes.
/// The events announcing it are added to `events`.
pub async fn one(
    tx: &mut Tx,
    resource: ResourceId,
    now: DateTime<Utc>,
    change: &Change,
    earlier: &[Applied],
    out: &mut Effects,
) -> Result<Applied, StoreError> {
    match change {
        Change::Book(new) => book(tx, resource, now, new, out).await.map(Applied::Booked),
        Change::Hold {
            user,
            interval,
            until,
            offer_for,
        } => {
            let row = tx
                .query_opt(
                    "INSERT INTO reservations (user_id, resource_id, start_time, end_time, status, created_at, hold_expires_at)
                     VALUES ($1, $2, $3, $4, 'held', $5, $6) RETURNING id",
                    params![user.id, resource, interval.start(), interval.end(), now, *until],
                )
                .await?;
            let id = new_id(row, "hold")?;
            let offered_to = offer_for.and_then(|entry| entry.resolve(earlier));
            let details = match offered_to {
                Some(entry) => format!("Offered to waitlist entry #{entry} until {}", rfc3339(*until)),
                None => format!("Held until {}", rfc3339(*until)),
            };
            out.history(id, "held", Some(user.id), now, details);
            // An offer is announced by its `Offer` change.
            if offer_for.is_none() {
                let held = EventRef {
                    id,
                    resource,
                    owner: user.id,
                    interval: *interval,
                };
                let booking = Booking {
                    status: BookingStatus::Held,
                    hold_expires_at: Some(*until),
                    ..Booking::active(id, user.clone(), *interval, now)
                };
                out.events
                    .push(NewEvent::hold_created(&held, *until).with_booking(booking));
            }
            Ok(Applied::Reservation(id))
        }
        Change::Transition {
            reservation,
            from,
            to,
            by,
            reason,
            checkin_deadline,
        } => {
            let moved = Transition {
                reservation: *reservation,
                from: *from,
                to: *to,
                by: *by,
                reason: reason.as_deref(),
            }
            .apply(tx, resource, now, *checkin_deadline, out)
            .await?;
            out.events
                .push(transition_event(tx, resource, now, &moved, *from, *to, reason.as_deref()).await?);
            Ok(Applied::Done)
        }
        Change::Move {
            reservation,
            from: was,
            by,
            to,
            status,
        } => {
            let changed = || StoreError::Stale(StaleRow::Reservation(*reservation));
            let before = tx
                .query_opt(
                    "SELECT r.user_id, r.start_time, r.end_time, s.checkin_window_minutes FROM reservations r
                     JOIN resources s ON s.id = r.resource_id WHERE r.id = $1 AND r.resource_id = $2 AND r.status = $3",
                    params![*reservation, resource, was.as_str()],
                )
                .await?
                .ok_or_else(changed)?;
            let previous = event_ref(*reservation, resource, &before)?;
            // Only an active booking has a check-in deadline; a pending one gets it when approved.
            let deadline = before
                .get::<Option<i64>>("checkin_window_minutes")?
                .filter(|_| *status == BookingStatus::Active)
                .map(|minutes| to.start() + chrono::Duration::minutes(minutes));
            // Guarded again: on PostgreSQL another transaction may change the row after the read.
            let moved = tx
                .execute(
                    "UPDATE reservations SET start_time = $1, end_time = $2, updated_at = $3, checkin_deadline = $4, status = $5
                     WHERE id = $6 AND status = $7",
                    params![to.start(), to.end(), now, deadline, status.as_str(), *reservation, was.as_str()],
                )
                .await?;
            if moved != 1 {
                return Err(changed());
            }
            let (from, until) = (previous.interval.start(), previous.interval.end());
            let waits = match status {
                BookingStatus::PendingApproval => ", waiting for approval",
                _ => "",
            };
            let details = format!(
                "Moved from {} – {} to {} – {}{waits}",
                rfc3339(from),
                rfc3339(until),
                rfc3339(to.start()),
                rfc3339(to.end())
            );
            out.history(*reservation, "modified", Some(*by), now, details);
            out.events.push(NewEvent::reservation_updated(
                &EventRef {
                    interval: *to,
                    ..previous
                },
                previous.interval,
                status.as_str(),
            ));
            Ok(Applied::Done)
        }
        Change::RequestApproval { reservation, request } => {
            let requester = tx
                .query_opt(
                    "SELECT u.username FROM reservations r JOIN users u ON u.id = r.user_id WHERE r.id = $1",
                    params![*reservation],
                )
                .await?
                .ok_or_else(|| StoreError::Other(format!("reservation {reservation} is gone").into()))?
                .get::<String>("username")?;
            request_approval(tx, resource, *reservation, request, &requester, now, out).await?;
            Ok(Applied::Done)
        }
        Change::CheckIn { reservation } => {
            let changed = tx
                .execute(
                    "UPDATE reservations SET checked_in_at = $1 WHERE id = $2 AND status = 'active' AND checked_in_at IS NULL",
                    params![now, *reservation],
                )
                .await?;
            if changed != 1 {
                return Err(StoreError::Stale(StaleRow::Reservation(*reservation)));
            }
            let checked = reservation_ref(tx, resource, *reservation).await?;
            out.history(
                *reservation,
                "checked_in",
                Some(checked.owner),
                now,
                "Checked in".into(),
            );
            out.events.push(NewEvent::reservation_checked_in(&checked, now));
            Ok(Applied::Done)
        }
        Change::Answer {
            reservation,
            approved,
            by: _,
            message,
        } => {
            // Announced by the booking's transition, which comes with it.
            let status = if *approved { "approved" } else { "rejected" };
            tx.execute(
                "UPDATE approval_requests SET status = $1, response_message = $2, responded_at = $3
                 WHERE reservation_id = $4 AND status = 'pending'",
                params![status, message.clone(), now, *reservation],
            )
            .await?;
            Ok(Applied::Done)
        }
        Change::JoinWaitlist {
            user,
            desired,
            flexible,
        } => {
            let row = tx
                .query_opt(
                    "INSERT INTO waitlist (resource_id, user_id, desired_start, desired_end, flexible_time, status, created_at)
                     VALUES ($1, $2, $3, $4, $5, 'waiting', $6) RETURNING id",
                    params![resource, user.id, desired.start(), desired.end(), *flexible, now],
                )
                .await?;
            out.events.push(NewEvent::waitlist_changed(resource));
            Ok(Applied::Waitlist(new_id(row, "waitlist entry")?))
        }
        Change::Offer { entry, hold, until } => {
            let unresolved = || StoreError::Other("an offer refers to nothing in its batch".into());
            let hold = hold.resolve(earlier).ok_or_else(unresolved)?;
            let entry = entry.resolve(earlier).ok_or_else(unresolved)?;
            let changed = tx
                .execute(
                    "UPDATE waitlist SET status = 'offered', offered_at = $1, offer_expires_at = $2, offered_reservation_id = $3
                     WHERE id = $4 AND status = 'waiting'",
                    params![now, *until, hold, entry],
                )
                .await?;
            if changed != 1 {
                return Err(StoreError::Stale(StaleRow::WaitlistEntry(entry)));
            }
            let held = reservation_ref(tx, resource, hold).await?;
            let name = resource_name(tx, resource).await?;
            out.events
                .push(NewEvent::waitlist_offer(entry, held.owner, &held, &name, *until));
            Ok(Applied::Done)
        }
        Change::CloseWaitlist { entry, status } => {
            let row = tx
                .query_opt(
                    "UPDATE waitlist SET status = $1 WHERE id = $2 AND status IN ('waiting', 'offered')
                     RETURNING user_id, offered_reservation_id",
                    params![status.as_str(), *entry],
                )
                .await?
                .ok_or(StoreError::Stale(StaleRow::WaitlistEntry(*entry)))?;
            match status {
                WaitlistClosed::Expired => {
                    out.events
                        .push(NewEvent::waitlist_offer_expired(*entry, row.get("user_id")?, resource));
                }
                WaitlistClosed::Fulfilled => out.events.push(NewEvent::waitlist_accepted(
                    *entry,
                    row.get("user_id")?,
                    resource,
                    row.get("offered_reservation_id")?,
                )),
                WaitlistClosed::Cancelled => out.events.push(NewEvent::waitlist_changed(resource)),
            }
            Ok(Applied::Done)
        }
        Change::UpdateResource(patch) => {
            let info = update_resource(tx, resource, patch, now).await?;
            // A change of maintenance or of the base flag is announced as
            // `resource_status_changed`; other fields are announced as `resource_updated`.
            if patch.enabled.is_some() || patch.maintenance.is_some() {
                let status = live_status(&info, in_use(tx, resource, now).await?, now);
                let entering_maintenance = matches!(patch.maintenance, Some(Some(_)));
                out.events
                    .push(NewEvent::resource_status_changed(&info, status, entering_maintenance));
            }
            if patch.name.is_some() || patch.description.is_some() || patch.tags.is_some() || patch.timezone.is_some() {
                out.events.push(NewEvent::resource_updated(&info));
            }
            Ok(Applied::Resource(info))
        }
        Change::DeleteResource => {
            // The history of the batch's cancellations goes first: the delete takes the
            // resource's reservations, and their history, with it (written later, those rows
            // would point at nothing).
            out.write_history(tx).await?;
            let deleted = tx
                .execute("DELETE FROM resources WHERE id = $1", params![resource])
                .await?;
            if deleted != 1 {
                return Err(StoreError::Stale(StaleRow::Resource(resource)));
            }
            out.events.push(NewEvent::resource_deleted(resource));
            Ok(Applied::Done)
        }
    }
}

async fn book(
    tx: &mut Tx,
    resource: ResourceId,
    now: DateTime<Utc>,
    new: &NewBookings,
    out: &mut Effects,
) -> Result<Vec<StoredBooking>, StoreError> {
    let rule_id = match &new.series {
        None => None,
        Some(series) => {
            let timezone = tx
                .query_opt("SELECT timezone FROM resources WHERE id = $1", params![resource])
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
                        now
                    ],
                )
                .await?;
            Some(new_id(row, "recurrence rule")?)
        }
    };
    let mut stored = Vec::with_capacity(new.intervals.len());
    let mut parent: Option<ReservationId> = None;
    for (index, interval) in new.intervals.iter().enumerate() {
        let deadline = new.checkin_window.map(|window| interval.start() + window);
        let row = tx
            .query_opt(
                "INSERT INTO reservations
                     (user_id, resource_id, start_time, end_time, status, created_at,
                      recurrence_rule_id, parent_reservation_id, is_recurring_instance, checkin_deadline)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                params![
                    new.user.id,
                    resource,
                    interval.start(),
                    interval.end(),
                    new.admission.status().as_str(),
                    now,
                    rule_id,
                    parent,
                    parent.is_some(),
                    deadline
                ],
            )
            .await?;
        let id = new_id(row, "reservation")?;
        let details = match rule_id {
            Some(_) => format!("Created recurring reservation #{}", index + 1),
            None => format!(
                "Reserved from {} to {}",
                rfc3339(interval.start()),
                rfc3339(interval.end())
            ),
        };
        out.history(id, "created", Some(new.user.id), now, details);
        let booked = EventRef {
            id,
            resource,
            owner: new.user.id,
            interval: *interval,
        };
        let series = rule_id.map(|rule_id| SeriesLink { rule_id, parent });
        // The booking as it is stored: other processes' actors take it from the event.
        let booking = Booking {
            series,
            status: new.admission.status(),
            checkin_deadline: deadline,
            ..Booking::active(id, new.user.clone(), *interval, now)
        };
        match &new.admission {
            Admission::Active => out
                .events
                .push(NewEvent::reservation_created(&booked).with_booking(booking)),
            Admission::Pending(request) => {
                out.events
                    .push(NewEvent::reservation_requested(&booked).with_booking(booking));
                request_approval(tx, resource, id, request, &new.user.name, now, out).await?;
            }
        }
        stored.push(StoredBooking {
            id,
            created_at: now,
            series,
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
    Ok(stored)
}

/// Asks the approver about `reservation` of `resource`, made by `requester`, and announces it
/// to them. A reservation has at most one request: one it had before (approved, before the
/// booking was moved) is reopened.
async fn request_approval(
    tx: &mut Tx,
    resource: ResourceId,
    reservation: ReservationId,
    request: &ApprovalRequest,
    requester: &str,
    now: DateTime<Utc>,
    out: &mut Effects,
) -> Result<(), StoreError> {
    let row = tx
        .query_opt(
            "INSERT INTO approval_requests (reservation_id, approver_id, status, request_message, created_at)
             VALUES ($1, $2, 'pending', $3, $4)
             ON CONFLICT (reservation_id) DO UPDATE SET approver_id = excluded.approver_id, status = 'pending',
                 request_message = excluded.request_message, response_message = NULL,
                 created_at = excluded.created_at, responded_at = NULL
             RETURNING id",
            params![reservation, request.approver, request.message.clone(), now],
        )
        .await?;
    let approval_id = new_id(row, "approval request")?;
    let name = resource_name(tx, resource).await?;
    out.events.push(NewEvent::approval_request(
        approval_id,
        request.approver,
        reservation,
        &name,
        requester,
    ));
    Ok(())
}

/// The history action of a transition.
fn action(from: BookingStatus, to: Outcome) -> &'static str {
    match (from, to) {
        (BookingStatus::Held, Outcome::Active) => "confirmed",
        // A hold confirmed (an offer accepted) on a resource that requires approval.
        (_, Outcome::PendingApproval) => "confirmed",
        (BookingStatus::PendingApproval, Outcome::Active) => "approved",
        (BookingStatus::Active, Outcome::Active) => "modified",
        (BookingStatus::Held, Outcome::Expired) => "hold_expired",
        (_, Outcome::Expired) => "expired",
        (_, Outcome::Cancelled) => "cancelled",
        (_, Outcome::Released) => "released",
        (_, Outcome::Rejected) => "rejected",
    }
}

/// A blocking booking changing state.
struct Transition<'a> {
    reservation: ReservationId,
    from: BookingStatus,
    to: Outcome,
    by: Option<UserId>,
    reason: Option<&'a str>,
}

impl Transition<'_> {
    /// Stores it (refused unless the booking is still in `from`) with its history; returns the
    /// booking as events describe it.
    async fn apply(
        &self,
        tx: &mut Tx,
        resource: ResourceId,
        now: DateTime<Utc>,
        checkin_deadline: Option<DateTime<Utc>>,
        out: &mut Effects,
    ) -> Result<EventRef, StoreError> {
        let Transition {
            reservation,
            from,
            to,
            by,
            reason,
        } = *self;
        let cancelled_at = matches!(to, Outcome::Cancelled | Outcome::Released | Outcome::Rejected).then_some(now);
        let row = tx
            .query_opt(
                "UPDATE reservations
                    SET status = $1, cancelled_at = COALESCE($2, cancelled_at),
                        cancellation_reason = COALESCE($3, cancellation_reason), hold_expires_at = NULL,
                        checkin_deadline = COALESCE($4, checkin_deadline), updated_at = $5
                  WHERE id = $6 AND resource_id = $7 AND status = $8
                  RETURNING user_id, start_time, end_time",
                params![
                    to.as_str(),
                    cancelled_at,
                    reason,
                    checkin_deadline,
                    now,
                    reservation,
                    resource,
                    from.as_str()
                ],
            )
            .await?
            .ok_or(StoreError::Stale(StaleRow::Reservation(reservation)))?;
        let moved = event_ref(reservation, resource, &row)?;
        let details = match (to, reason) {
            (Outcome::Cancelled, Some(reason)) => format!("Cancelled reservation (Reason: {reason})"),
            (Outcome::Cancelled, None) => "Cancelled reservation".to_owned(),
            (Outcome::Expired, _) if from == BookingStatus::Active => {
                format!("Reservation automatically expired at {}", rfc3339(now))
            }
            (Outcome::PendingApproval, _) => "Confirmed, waiting for approval".to_owned(),
            (_, Some(reason)) => reason.to_owned(),
            (_, None) => action(from, to).replace('_', " "),
        };
        out.history(
            reservation,
            action(from, to),
            Some(by.unwrap_or(moved.owner)),
            now,
            details,
        );
        Ok(moved)
    }
}

/// The event announcing a transition.
async fn transition_event(
    tx: &mut Tx,
    resource: ResourceId,
    now: DateTime<Utc>,
    reservation: &EventRef,
    from: BookingStatus,
    to: Outcome,
    reason: Option<&str>,
) -> Result<NewEvent, StoreError> {
    Ok(match (from, to) {
        // Only a request is rejected.
        (BookingStatus::PendingApproval, Outcome::Active) | (_, Outcome::Rejected) => {
            let approval = tx
                .query_opt(
                    "SELECT id FROM approval_requests WHERE reservation_id = $1",
                    params![reservation.id],
                )
                .await?
                .map(|row| row.get::<i64>("id"))
                .transpose()?;
            let name = resource_name(tx, resource).await?;
            NewEvent::approval_answer(to == Outcome::Active, reservation, approval, &name, reason)
        }
        // A confirmed hold or an accepted offer is a new booking (a request, where approval is
        // required: its `approval_request` comes with it).
        (BookingStatus::Held, Outcome::Active) => NewEvent::reservation_created(reservation),
        (_, Outcome::PendingApproval) => NewEvent::reservation_requested(reservation),
        (BookingStatus::Held, Outcome::Expired) => NewEvent::hold_expired(reservation),
        (BookingStatus::Held, _) => NewEvent::hold_released(reservation),
        (_, Outcome::Cancelled) => NewEvent::reservation_cancelled(reservation, now),
        (_, Outcome::Expired) => NewEvent::reservation_expired(reservation, now),
        (_, Outcome::Released) => NewEvent::reservation_released(reservation, now, reason),
        (_, Outcome::Active) => NewEvent::reservation_reactivated(reservation),
    })
}

async fn update_resource(
    tx: &mut Tx,
    resource: ResourceId,
    patch: &ResourcePatch,
    now: DateTime<Utc>,
) -> Result<ResourceInfo, StoreError> {
    let mut assignments: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut set = |column: &str, value: Value| {
        values.push(value);
        assignments.push(format!("{column} = ${}", values.len()));
    };
    if let Some(name) = &patch.name {
        set("name", name.into());
    }
    if let Some(description) = &patch.description {
        set("description", description.clone().into());
    }
    if let Some(timezone) = patch.timezone {
        set("timezone", timezone.name().into());
    }
    if let Some(enabled) = patch.enabled {
        set("available", enabled.into());
    }
    if let Some(maintenance) = &patch.maintenance {
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
    if let Some(requires_approval) = patch.requires_approval {
        set("requires_approval", requires_approval.into());
    }
    if let Some(approver) = patch.approver {
        set("default_approver_id", approver.into());
    }
    if let Some(window) = patch.checkin_window {
        set("checkin_window_minutes", window.map(|w| w.num_minutes()).into());
    }
    set("updated_at", now.into());
    values.push(resource.into());
    let sql = format!(
        "UPDATE resources SET {} WHERE id = ${}",
        assignments.join(", "),
        values.len()
    );
    tx.execute(&sql, values).await?;
    if let Some(tags) = &patch.tags {
        record::write_tags(tx, resource, tags).await?;
    }
    record::fetch_in(tx, resource)
        .await?
        .ok_or(StoreError::Stale(StaleRow::Resource(resource)))
}
