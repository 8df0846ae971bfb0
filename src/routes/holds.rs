//! `/api/v1/holds`: a few minutes' hold on a free slot while its user completes a booking. The
//! hold blocks everyone else, lapses by itself (the resource actor's timer), and its holder turns
//! it into a reservation.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use reserver_actors::resource::{
    Booking, BookingStatus, Cancel, CancelScope, ConfirmHold, PlaceHold, ReservationStatus,
};
use serde::Deserialize;
use serde_json::json;

use super::reservations::{created, send_to_named_resource, slot};
use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::{Permission, Principal, authorize_owner};
use crate::error::ApiError;
use crate::http::{Json, Path};
use crate::reservations::{holds, queries};
use crate::scheduling::user_ref;
use crate::state::AppState;
use crate::wire::time::WireTime;
use crate::wire::time::{OutputZone, utc};

/// Longest and default hold, in minutes.
const MAX_HOLD_MINUTES: i64 = 15;
const DEFAULT_HOLD_MINUTES: i64 = 5;
/// Holds one user may keep at once: a hold blocks others, so hoarding is bounded.
const MAX_HOLDS_PER_USER: i64 = 5;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Authenticated, Permission as Needs};
    table
        .route(Method::POST, "/api/v1/holds", Needs(Permission::ReservationCreate), &[], place)
        .route(Method::GET, "/api/v1/holds", Authenticated, &[], mine)
        .route(Method::POST, "/api/v1/holds/{hold_id}/confirm", Needs(Permission::ReservationCreate), &[], confirm)
        .route(Method::DELETE, "/api/v1/holds/{hold_id}", Authenticated, &[], release);
}

#[derive(Deserialize)]
struct HoldId {
    hold_id: i64,
}

fn not_found() -> ApiError {
    ApiError::NotFound("Hold not found".into())
}

fn hold_out(hold: &Booking, resource: i64) -> serde_json::Value {
    json!({
        "id": hold.id,
        "resource_id": resource,
        "start_time": utc(hold.interval.start()),
        "end_time": utc(hold.interval.end()),
        "status": "held",
        "expires_at": hold.hold_expires_at.map(utc),
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewHold {
    resource_id: i64,
    start_time: WireTime,
    end_time: WireTime,
    minutes: Option<i64>,
}

async fn place(
    state: web::Data<AppState>,
    principal: Principal,
    Json(new): Json<NewHold>,
) -> Result<HttpResponse, ApiError> {
    let minutes = new.minutes.unwrap_or(DEFAULT_HOLD_MINUTES);
    if !(1..=MAX_HOLD_MINUTES).contains(&minutes) {
        let why = format!("minutes must be between 1 and {MAX_HOLD_MINUTES}");
        return Err(ApiError::invalid(&["body", "minutes"], why, minutes));
    }
    let held = holds::count_of(&state.db, principal.user_id).await?;
    if held >= MAX_HOLDS_PER_USER {
        return Err(ApiError::Conflict(format!(
            "At most {MAX_HOLDS_PER_USER} holds at a time"
        )));
    }
    let message = PlaceHold {
        user: user_ref(&principal),
        interval: slot(new.start_time, new.end_time)?,
        minutes,
    };
    let booked = send_to_named_resource(&state, new.resource_id, message).await?;
    let hold = booked
        .bookings
        .first()
        .ok_or_else(|| ApiError::Internal("hold returned nothing".into()))?;
    Ok(HttpResponse::Created().json(hold_out(hold, booked.resource.id)))
}

async fn mine(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    let holds: Vec<_> = holds::of_user(&state.db, principal.user_id)
        .await?
        .into_iter()
        .map(|hold| {
            json!({
                "id": hold.id,
                "resource_id": hold.resource_id,
                "start_time": utc(hold.start_time),
                "end_time": utc(hold.end_time),
                "status": "held",
                "expires_at": hold.expires_at.map(utc),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(holds))
}

/// The caller's hold: its resource. Others' holds do not exist for them.
async fn own_hold(state: &AppState, principal: &Principal, id: i64) -> Result<i64, ApiError> {
    let record = queries::record(&state.db, id).await?.ok_or_else(not_found)?;
    authorize_owner(principal, record.user_id, Permission::ReservationCancelAny, not_found())?;
    match record.status {
        ReservationStatus::Held => Ok(record.resource_id),
        ReservationStatus::Expired => Err(ApiError::Gone("Hold has expired".into())),
        _ => Err(not_found()),
    }
}

async fn confirm(
    state: web::Data<AppState>,
    principal: Principal,
    zone: OutputZone,
    Path(path): Path<HoldId>,
) -> Result<HttpResponse, ApiError> {
    let resource = own_hold(&state, &principal, path.hold_id).await?;
    let booked = state
        .resources
        .send(
            resource,
            ConfirmHold {
                reservation: path.hold_id,
                by: principal.user_id,
            },
        )
        .await?;
    created(&booked, zone, state.clock.now())
}

async fn release(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<HoldId>,
) -> Result<HttpResponse, ApiError> {
    let resource = own_hold(&state, &principal, path.hold_id).await?;
    let message = Cancel {
        reservation: path.hold_id,
        by: principal.user_id,
        reason: Some("Hold released".into()),
        scope: CancelScope::One,
        only_if: Some(BookingStatus::Held),
    };
    state.resources.send(resource, message).await?;
    Ok(HttpResponse::Ok().json(json!({ "message": "Hold released", "hold_id": path.hold_id })))
}
