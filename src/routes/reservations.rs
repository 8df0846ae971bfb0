//! `/api/v1/reservations`: booking, listing one's own reservations, rescheduling, cancelling,
//! history, and the admin clean-up of ended reservations.
//!
//! Writes go to the resource's actor, which checks the rules and the schedule and writes the
//! database before it looks at the next request for that resource.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use reserver_actors::domain::Interval;
use reserver_actors::request::Traced;
use reserver_actors::resource::actor::ResourceMessage;
use reserver_actors::resource::{
    Book, Booked, Cancel, CancelScope, Cancelled, CheckIn, ExpireEnded, Reschedule, ReservationStatus, ResourceActor,
    ScheduleError,
};
use serde::Deserialize;
use serde_json::json;

use super::idempotency::key_of;
use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::{Permission, Principal, authorize_owner};
use crate::error::ApiError;
use crate::http::{Json, Path, Query};
use crate::pagination::{Page, PageParams};
use crate::reservations::access::{not_found, visible};
use crate::reservations::model::ReservationOut;
use crate::reservations::queries::{self, MyFilter};
use crate::scheduling::user_ref;
use crate::state::AppState;
use crate::wire::time::OutputZone;
use crate::wire::time::WireTime;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Authenticated, Permission as Needs};
    use Permission::{ReservationCreate, SystemAdmin};
    table
        .route(Method::POST, "/api/v1/reservations", Needs(ReservationCreate), &["/reservations"], create)
        .route(Method::GET, "/api/v1/reservations/my", Authenticated, &["/reservations/my"], my_reservations)
        .route(Method::GET, "/api/v1/reservations/{reservation_id}", Authenticated, &[], get_one)
        .route(Method::PATCH, "/api/v1/reservations/{reservation_id}", Needs(ReservationCreate), &[], reschedule)
        .route(Method::POST, "/api/v1/reservations/{reservation_id}/cancel", Authenticated, &[], cancel)
        .route(Method::GET, "/api/v1/reservations/{reservation_id}/history", Authenticated, &[], history)
        .route(Method::POST, "/api/v1/reservations/{reservation_id}/check-in", Authenticated, &[], check_in)
        .route(Method::POST, "/api/v1/admin/cleanup-expired", Needs(SystemAdmin), &[], cleanup_expired);
}

#[derive(Deserialize)]
struct ReservationId {
    reservation_id: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewReservation {
    resource_id: i64,
    start_time: WireTime,
    end_time: WireTime,
}

/// The requested slot, or a 422 when the end is not after the start.
pub fn slot(start: WireTime, end: WireTime) -> Result<Interval, ApiError> {
    Interval::new(start.0, end.0).map_err(|e| ApiError::invalid(&["body", "end_time"], e, serde_json::Value::Null))
}

/// The wire format refuses bookings longer than this with a 422, before the shorter configurable
/// maximum answers its 400. An operator who allows longer bookings (`RESERVATION_MAX_HOURS` over
/// 168) gets only that maximum's 400.
const SCHEMA_MAX_DAYS: i64 = 7;

/// The schema's 422 for a booking longer than [`SCHEMA_MAX_DAYS`], unless longer ones are allowed.
fn within_schema_limit(interval: &Interval, max_duration: chrono::Duration) -> Result<(), ApiError> {
    let limit = chrono::Duration::days(SCHEMA_MAX_DAYS);
    if interval.duration() > limit && max_duration <= limit {
        return Err(ApiError::invalid(
            &["body", "end_time"],
            format!("Reservation cannot exceed {SCHEMA_MAX_DAYS} days"),
            serde_json::Value::Null,
        ));
    }
    Ok(())
}

async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    zone: OutputZone,
    req: actix_web::HttpRequest,
    Json(new): Json<NewReservation>,
) -> Result<HttpResponse, ApiError> {
    let interval = slot(new.start_time, new.end_time)?;
    within_schema_limit(&interval, state.settings.actors.rules.max_duration)?;
    let message = Book {
        message: None,
        user: user_ref(&principal),
        interval,
        idempotency_key: key_of(&req),
    };
    let booked = send_to_named_resource(&state, new.resource_id, message).await?;
    created(&booked, zone, state.clock.now())
}

/// Sends a booking message to the resource a request body names. An unknown resource there is a 400
/// (it is bad input, not a missing path).
pub async fn send_to_named_resource<M, T>(state: &AppState, resource: i64, message: M) -> Result<T, ApiError>
where
    M: ResourceMessage<Result = Result<T, ScheduleError>> + Clone + Send + 'static,
    T: Send + 'static,
    ResourceActor: actix::Handler<Traced<M>>,
{
    state
        .resources
        .send(resource, message)
        .await
        .map_err(|error| match error {
            ScheduleError::ResourceNotFound => ApiError::BadRequest("Resource not found".into()),
            other => other.into(),
        })
}

/// The 201 answer of a booking: the (first) reservation made, resource embedded.
pub fn created(
    booked: &Booked,
    zone: OutputZone,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<HttpResponse, ApiError> {
    let reservation = ReservationOut::from_booked(booked, zone, now).into_iter().next();
    Ok(HttpResponse::Created().json(reservation.ok_or_else(|| ApiError::Internal("booking returned nothing".into()))?))
}

/// Filters of `/my`; the pagination parameters are read separately.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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

async fn get_one(
    state: web::Data<AppState>,
    principal: Principal,
    zone: OutputZone,
    Path(path): Path<ReservationId>,
) -> Result<HttpResponse, ApiError> {
    visible(&state.db, &principal, path.reservation_id).await?;
    let reservation = queries::one(&state.db, path.reservation_id, state.clock.now(), zone)
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(reservation))
}

#[derive(Deserialize, utoipa::ToSchema)]
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
    let record = visible(&state.db, &principal, path.reservation_id).await?;
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

#[derive(Deserialize, utoipa::ToSchema)]
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
    let (_, cancelled) = cancel_for(&state, &principal, path.reservation_id, body.reason, scope).await?;
    let ids: Vec<i64> = cancelled.bookings.iter().map(|b| b.id).collect();
    Ok(HttpResponse::Ok().json(json!({
        "message": "Reservation cancelled successfully",
        "reservation_id": path.reservation_id,
        "cancelled_at": crate::wire::time::utc(cancelled.at),
        "cancelled_reservation_ids": ids,
    })))
}

/// Cancels reservation `id` for `principal` through its resource's actor (which frees the slot
/// and offers it to the waitlist): the owner, or a holder of `reservation:cancel_any`. A
/// reservation the caller may not see is not found. Every cancelling path goes through here.
/// Answers with the reservation's resource and what was cancelled.
pub async fn cancel_for(
    state: &AppState,
    principal: &Principal,
    id: i64,
    reason: Option<String>,
    scope: CancelScope,
) -> Result<(i64, Cancelled), ApiError> {
    let record = visible(&state.db, principal, id).await?;
    authorize_owner(
        principal,
        record.user_id,
        Permission::ReservationCancelAny,
        ApiError::Forbidden("You can only cancel your own reservations".into()),
    )?;
    match record.status {
        ReservationStatus::Cancelled => return Err(ApiError::BadRequest("Reservation is already cancelled".into())),
        ReservationStatus::Active | ReservationStatus::PendingApproval | ReservationStatus::Held => {}
        ReservationStatus::Expired | ReservationStatus::Released | ReservationStatus::Rejected => {
            return Err(ApiError::BadRequest(format!(
                "Cannot cancel a reservation that is {}",
                record.status
            )));
        }
    }
    let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    let message = Cancel {
        reservation: record.id,
        by: principal.user_id,
        reason,
        scope,
        only_if: None,
    };
    let cancelled = state.resources.send(record.resource_id, message).await?;
    Ok((record.resource_id, cancelled))
}

async fn history(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<ReservationId>,
) -> Result<HttpResponse, ApiError> {
    visible(&state.db, &principal, path.reservation_id).await?;
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
        "timestamp": crate::wire::time::utc(now),
    })))
}

/// Checks in to a booking on a resource that requires it (from 15 minutes before its start to
/// the deadline); a booking not checked in by then is released.
async fn check_in(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<ReservationId>,
) -> Result<HttpResponse, ApiError> {
    let record = visible(&state.db, &principal, path.reservation_id).await?;
    authorize_owner(
        &principal,
        record.user_id,
        Permission::ReservationCancelAny,
        ApiError::Forbidden("You can only check in to your own reservations".into()),
    )?;
    let at = state
        .resources
        .send(record.resource_id, CheckIn { reservation: record.id })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": "Checked in",
        "reservation_id": record.id,
        "checked_in_at": crate::wire::time::utc(at),
    })))
}
