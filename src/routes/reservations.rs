//! `/api/v1/reservations`: booking, listing one's own reservations, rescheduling, cancelling,
//! history, and the admin clean-up of ended reservations.
//!
//! Writes go to the resource's actor, which checks the rules and the schedule and writes the
//! database before it looks at the next request for that resource.

use std::sync::Arc;

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use reserver_actors::domain::{Frequency, Interval};
use reserver_actors::resource::store::SeriesRecord;
use reserver_actors::resource::{
    Book, BookSeries, Cancel, CancelScope, ExpireEnded, Reschedule, ScheduleError, SeriesUntil, UserRef,
};
use serde::Deserialize;
use serde_json::json;

use crate::auth::{Permission, Principal, authorize_owner};
use crate::error::ApiError;
use crate::http::pagination::{Page, PageParams};
use crate::http::wire_time::WireTime;
use crate::http::{Access, Json, Path, Query, RouteTable};
use crate::reservations::model::{OutputZone, ReservationOut};
use crate::reservations::queries::{self, MyFilter, ReservationRecord};
use crate::resources::model::ResourceOut;
use crate::state::AppState;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Authenticated, Permission as Needs};
    use Permission::{ReservationCreate, SystemAdmin};
    table
        .route(Method::POST, "/api/v1/reservations", Needs(ReservationCreate), &["/reservations"], create)
        .route(Method::POST, "/api/v1/reservations/recurring", Needs(ReservationCreate), &[], create_series)
        .route(Method::GET, "/api/v1/reservations/my", Authenticated, &["/reservations/my"], my_reservations)
        .route(Method::GET, "/api/v1/reservations/{reservation_id}", Authenticated, &[], get_one)
        .route(Method::PATCH, "/api/v1/reservations/{reservation_id}", Needs(ReservationCreate), &[], reschedule)
        .route(Method::POST, "/api/v1/reservations/{reservation_id}/cancel", Authenticated, &[], cancel)
        .route(Method::GET, "/api/v1/reservations/{reservation_id}/history", Authenticated, &[], history)
        .route(Method::POST, "/api/v1/admin/cleanup-expired", Needs(SystemAdmin), &[], cleanup_expired);
}

#[derive(Deserialize)]
struct ReservationId {
    reservation_id: i64,
}

#[derive(Deserialize)]
struct NewReservation {
    resource_id: i64,
    start_time: WireTime,
    end_time: WireTime,
}

/// The requested slot, or the original's 422 when the end is not after the start.
pub fn slot(start: WireTime, end: WireTime) -> Result<Interval, ApiError> {
    Interval::new(start.0, end.0).map_err(|e| ApiError::invalid(&["body", "end_time"], e, serde_json::Value::Null))
}

fn user_of(principal: &Principal) -> UserRef {
    UserRef {
        id: principal.user_id,
        name: Arc::from(principal.username.as_str()),
    }
}

/// The `Idempotency-Key` header, tied to the booking in the database.
fn idempotency_key(req: &actix_web::HttpRequest) -> Option<String> {
    req.headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    zone: OutputZone,
    req: actix_web::HttpRequest,
    Json(new): Json<NewReservation>,
) -> Result<HttpResponse, ApiError> {
    let interval = slot(new.start_time, new.end_time)?;
    let message = Book {
        user: user_of(&principal),
        interval,
        idempotency_key: idempotency_key(&req),
    };
    let booked = state
        .resources
        .send(new.resource_id, message)
        .await
        .map_err(|error| match error {
            // The original answers a booking on an unknown resource with 400.
            ScheduleError::ResourceNotFound => ApiError::BadRequest("Resource not found".into()),
            other => other.into(),
        })?;
    let now = state.clock.now();
    let booking = booked
        .bookings
        .first()
        .ok_or_else(|| ApiError::Internal("booking returned nothing".into()))?;
    let status = crate::resources::model::live_status(&booked.resource, booking.interval.contains(now), now);
    let resource = ResourceOut::embedded(&booked.resource, status);
    Ok(HttpResponse::Created().json(ReservationOut::from_booking(booking, resource, zone)))
}

/// Filters of `/my`; the pagination parameters are read separately.
#[derive(Deserialize)]
struct NewSeries {
    resource_id: i64,
    start_time: WireTime,
    end_time: WireTime,
    recurrence: Recurrence,
    #[serde(default)]
    skip_conflicts: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FrequencyName {
    Daily,
    Weekly,
    Monthly,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum EndType {
    Never,
    OnDate,
    AfterCount,
}

/// The original's recurrence object.
#[derive(Deserialize)]
struct Recurrence {
    frequency: FrequencyName,
    #[serde(default = "one")]
    interval: u32,
    #[serde(default)]
    days_of_week: Vec<u8>,
    #[serde(default = "after_count")]
    end_type: EndType,
    end_date: Option<String>,
    occurrence_count: Option<u32>,
}

fn one() -> u32 {
    1
}

fn after_count() -> EndType {
    EndType::AfterCount
}

/// Weekday numbers as the original takes them: 0 is Monday, 6 is Sunday.
fn weekday(number: u8) -> Result<chrono::Weekday, ApiError> {
    chrono::Weekday::try_from(number).map_err(|_| {
        ApiError::invalid(
            &["body", "recurrence", "days_of_week"],
            "days_of_week must be between 0 (Mon) and 6 (Sun)",
            number,
        )
    })
}

/// The end of the series: a count (default 5), a date or date-time, or never.
fn series_until(recurrence: &Recurrence) -> Result<SeriesUntil, ApiError> {
    match recurrence.end_type {
        EndType::AfterCount => Ok(SeriesUntil::Count(recurrence.occurrence_count.unwrap_or(5))),
        EndType::Never => Ok(SeriesUntil::Never),
        EndType::OnDate => {
            let raw = recurrence.end_date.as_deref().ok_or_else(|| {
                ApiError::invalid(
                    &["body", "recurrence", "end_date"],
                    "end_date is required when end_type is on_date",
                    (),
                )
            })?;
            if let Ok(date) = chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
                return Ok(SeriesUntil::Date(date));
            }
            crate::http::wire_time::parse(raw)
                .map(SeriesUntil::Instant)
                .ok_or_else(|| {
                    ApiError::invalid(
                        &["body", "recurrence", "end_date"],
                        "Input should be a valid date or datetime",
                        raw,
                    )
                })
        }
    }
}

/// `POST /api/v1/reservations/recurring`: a series, all or nothing, or with `skip_conflicts` the
/// free occurrences and a report of the others.
async fn create_series(
    state: web::Data<AppState>,
    principal: Principal,
    zone: OutputZone,
    req: actix_web::HttpRequest,
    Json(new): Json<NewSeries>,
) -> Result<HttpResponse, ApiError> {
    let first = slot(new.start_time, new.end_time)?;
    let recurrence = &new.recurrence;
    let weekdays = recurrence
        .days_of_week
        .iter()
        .map(|n| weekday(*n))
        .collect::<Result<Vec<_>, _>>()?;
    let until = series_until(recurrence)?;
    let (frequency, frequency_name) = match recurrence.frequency {
        FrequencyName::Daily => (Frequency::Daily, "daily"),
        FrequencyName::Weekly => (Frequency::Weekly, "weekly"),
        FrequencyName::Monthly => (Frequency::Monthly, "monthly"),
    };
    let (end_type, end_date, occurrence_count) = match until {
        SeriesUntil::Count(count) => ("after_count", None, Some(count)),
        SeriesUntil::Date(date) => ("on_date", date.and_hms_opt(23, 59, 59).map(|t| t.and_utc()), None),
        SeriesUntil::Instant(instant) => ("on_date", Some(instant), None),
        SeriesUntil::Never => ("never", None, None),
    };
    let record = SeriesRecord {
        frequency: frequency_name.into(),
        interval: recurrence.interval,
        days_of_week: recurrence.days_of_week.iter().map(|d| u32::from(*d)).collect(),
        end_type: end_type.into(),
        end_date,
        occurrence_count,
    };
    let message = BookSeries {
        user: user_of(&principal),
        first,
        frequency,
        interval: recurrence.interval,
        weekdays,
        until,
        record,
        skip_conflicts: new.skip_conflicts,
        idempotency_key: idempotency_key(&req),
    };
    let series = state
        .resources
        .send(new.resource_id, message)
        .await
        .map_err(|error| match error {
            ScheduleError::ResourceNotFound => ApiError::BadRequest("Resource not found".into()),
            other => other.into(),
        })?;
    let now = state.clock.now();
    let booked = &series.booked;
    let created: Vec<ReservationOut> = booked
        .bookings
        .iter()
        .map(|booking| {
            let status = crate::resources::model::live_status(&booked.resource, booking.interval.contains(now), now);
            ReservationOut::from_booking(booking, ResourceOut::embedded(&booked.resource, status), zone)
        })
        .collect();
    if !new.skip_conflicts {
        return Ok(HttpResponse::Created().json(created));
    }
    let skipped: Vec<_> = series
        .skipped
        .iter()
        .map(|i| json!({ "start_time": zone.format(i.start()), "end_time": zone.format(i.end()) }))
        .collect();
    Ok(HttpResponse::Created().json(json!({ "created": created, "skipped": skipped })))
}

#[derive(Deserialize)]
struct MyParams {
    #[serde(default)]
    include_cancelled: bool,
    #[serde(default)]
    upcoming: bool,
}

async fn my_reservations(
    state: web::Data<AppState>,
    principal: Principal,
    zone: OutputZone,
    Query(params): Query<MyParams>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::parse(&page, queries::SORT_KEYS, "start_time", true)?;
    let filter = MyFilter {
        include_cancelled: params.include_cancelled,
        upcoming: params.upcoming,
    };
    let body = queries::page_of_user(&state.db, principal.user_id, filter, &page, state.clock.now(), zone).await?;
    Ok(HttpResponse::Ok().json(body))
}

fn not_found() -> ApiError {
    ApiError::NotFound("Reservation not found".into())
}

/// The reservation, if the caller may see it (its owner, or a role that reads anyone's).
async fn visible_record(state: &AppState, principal: &Principal, id: i64) -> Result<ReservationRecord, ApiError> {
    let record = queries::record(&state.db, id).await?.ok_or_else(not_found)?;
    authorize_owner(principal, record.user_id, Permission::ReservationReadAny, not_found())?;
    Ok(record)
}

async fn get_one(
    state: web::Data<AppState>,
    principal: Principal,
    zone: OutputZone,
    Path(path): Path<ReservationId>,
) -> Result<HttpResponse, ApiError> {
    visible_record(&state, &principal, path.reservation_id).await?;
    let reservation = queries::one(&state.db, path.reservation_id, state.clock.now(), zone)
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(reservation))
}

#[derive(Deserialize)]
struct NewSlot {
    start_time: WireTime,
    end_time: WireTime,
}

async fn reschedule(
    state: web::Data<AppState>,
    principal: Principal,
    zone: OutputZone,
    Path(path): Path<ReservationId>,
    Json(body): Json<NewSlot>,
) -> Result<HttpResponse, ApiError> {
    let record = visible_record(&state, &principal, path.reservation_id).await?;
    authorize_owner(
        &principal,
        record.user_id,
        Permission::ReservationCancelAny,
        ApiError::Forbidden("You can only change your own reservations".into()),
    )?;
    let message = Reschedule {
        reservation: record.id,
        by: principal.user_id,
        to: slot(body.start_time, body.end_time)?,
    };
    state.resources.send(record.resource_id, message).await?;
    let reservation = queries::one(&state.db, record.id, state.clock.now(), zone)
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(reservation))
}

#[derive(Deserialize)]
struct CancelBody {
    reason: Option<String>,
    /// `occurrence` (default) or `following`: this and every later booking of its series.
    scope: Option<String>,
}

async fn cancel(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<ReservationId>,
    Json(body): Json<CancelBody>,
) -> Result<HttpResponse, ApiError> {
    let record = visible_record(&state, &principal, path.reservation_id).await?;
    authorize_owner(
        &principal,
        record.user_id,
        Permission::ReservationCancelAny,
        ApiError::Forbidden("You can only cancel your own reservations".into()),
    )?;
    let scope = match body.scope.as_deref() {
        None | Some("occurrence") => CancelScope::One,
        Some("following") => CancelScope::Following,
        Some(other) => {
            return Err(ApiError::invalid(
                &["body", "scope"],
                "scope must be 'occurrence' or 'following'",
                other,
            ));
        }
    };
    match record.status.as_str() {
        "cancelled" => return Err(ApiError::BadRequest("Reservation is already cancelled".into())),
        "active" => {}
        _ => {
            return Err(ApiError::BadRequest(format!(
                "Cannot cancel a reservation that is {}",
                record.status
            )));
        }
    }
    let reason = body.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    let message = Cancel {
        reservation: record.id,
        by: principal.user_id,
        reason,
        scope,
    };
    let cancelled = state.resources.send(record.resource_id, message).await?;
    let ids: Vec<i64> = cancelled.bookings.iter().map(|b| b.id).collect();
    Ok(HttpResponse::Ok().json(json!({
        "message": "Reservation cancelled successfully",
        "reservation_id": record.id,
        "cancelled_at": crate::reservations::model::utc(cancelled.at),
        "cancelled_reservation_ids": ids,
    })))
}

async fn history(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<ReservationId>,
) -> Result<HttpResponse, ApiError> {
    visible_record(&state, &principal, path.reservation_id).await?;
    Ok(HttpResponse::Ok().json(queries::history(&state.db, path.reservation_id).await?))
}

/// Marks every reservation that has ended as expired, through each resource's actor.
async fn cleanup_expired(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let mut expired = 0;
    for resource in queries::resources_with_ended_bookings(&state.db, now).await? {
        expired += state.resources.send(resource, ExpireEnded).await?;
    }
    Ok(HttpResponse::Ok().json(json!({
        "message": format!("Successfully cleaned up {expired} expired reservations"),
        "expired_count": expired,
        "timestamp": crate::reservations::model::utc(now),
    })))
}
