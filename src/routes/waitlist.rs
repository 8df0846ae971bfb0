//! `/api/v1/waitlist`: join a resource's queue for a slot, follow it, leave it, accept an offer.
//! The resource's actor offers freed slots in queue order and expires offers by its timer.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use reserver_actors::domain::Interval;
use reserver_actors::resource::{AcceptOffer, JoinWaitlist, LeaveWaitlist, ScheduleError};
use serde::Deserialize;
use serde_json::json;

use super::reservations::created;
use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::{Permission, Principal, authorize_owner};
use crate::error::ApiError;
use crate::http::{Json, Path, Query};
use crate::pagination::{Page, PageParams};
use crate::scheduling::user_ref;
use crate::state::AppState;
use crate::waitlist;
use crate::wire::time::OutputZone;
use crate::wire::time::WireTime;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Authenticated, Permission as Needs};
    table
        .route(Method::POST, "/api/v1/waitlist", Needs(Permission::WaitlistJoin), &[], join)
        .route(Method::GET, "/api/v1/waitlist", Authenticated, &[], list)
        .route(Method::GET, "/api/v1/waitlist/resource/{resource_id}", Authenticated, &[], queue)
        .route(Method::GET, "/api/v1/waitlist/{waitlist_id}", Authenticated, &[], get_one)
        .route(Method::DELETE, "/api/v1/waitlist/{waitlist_id}", Authenticated, &[], leave)
        .route(Method::POST, "/api/v1/waitlist/{waitlist_id}/accept", Authenticated, &[], accept);
}

#[derive(Deserialize)]
struct WaitlistId {
    waitlist_id: i64,
}

fn not_found() -> ApiError {
    ApiError::NotFound("Waitlist entry not found".into())
}

/// Owner, resource and status of an entry the caller may act on (its owner, or a role that
/// manages anyone's); anyone else gets a 404.
async fn visible(state: &AppState, principal: &Principal, id: i64) -> Result<(i64, i64, String), ApiError> {
    let (owner, resource, status) = waitlist::record(&state.db, id).await?.ok_or_else(not_found)?;
    authorize_owner(principal, owner, Permission::WaitlistManageAny, not_found())?;
    Ok((owner, resource, status))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewEntry {
    resource_id: i64,
    desired_start: WireTime,
    desired_end: WireTime,
    #[serde(default)]
    flexible_time: bool,
}

async fn join(
    state: web::Data<AppState>,
    principal: Principal,
    Json(new): Json<NewEntry>,
) -> Result<HttpResponse, ApiError> {
    let desired = Interval::new(new.desired_start.0, new.desired_end.0)
        .map_err(|e| ApiError::invalid(&["body", "desired_end"], e, serde_json::Value::Null))?;
    let message = JoinWaitlist {
        user: user_ref(&principal),
        desired,
        flexible: new.flexible_time,
    };
    let joined = state
        .resources
        .send(new.resource_id, message)
        .await
        .map_err(|error| match error {
            ScheduleError::StartInPast => ApiError::invalid(
                &["body", "desired_start"],
                "Desired start time must be in the future",
                serde_json::Value::Null,
            ),
            other => other.into(),
        })?;
    let entry = waitlist::one(&state.db, joined.entry.id, state.clock.now())
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Created().json(entry))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    #[serde(default)]
    include_completed: bool,
}

async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    Query(params): Query<ListParams>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::parse(&page, waitlist::SORT_KEYS, "created_at", true)?;
    let body = waitlist::page_of_user(
        &state.db,
        principal.user_id,
        params.include_completed,
        &page,
        state.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

async fn get_one(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<WaitlistId>,
) -> Result<HttpResponse, ApiError> {
    visible(&state, &principal, path.waitlist_id).await?;
    let entry = waitlist::one(&state.db, path.waitlist_id, state.clock.now())
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(entry))
}

async fn leave(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<WaitlistId>,
) -> Result<HttpResponse, ApiError> {
    let (_, resource, status) = visible(&state, &principal, path.waitlist_id).await?;
    if !matches!(status.as_str(), "waiting" | "offered") {
        return Err(ApiError::BadRequest(
            "Cannot leave waitlist - entry is no longer active".into(),
        ));
    }
    state
        .resources
        .send(
            resource,
            LeaveWaitlist {
                entry: path.waitlist_id,
            },
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": "Successfully left the waitlist",
        "waitlist_id": path.waitlist_id,
        "status": "cancelled",
    })))
}

async fn accept(
    state: web::Data<AppState>,
    principal: Principal,
    zone: OutputZone,
    Path(path): Path<WaitlistId>,
) -> Result<HttpResponse, ApiError> {
    let (owner, resource, status) = visible(&state, &principal, path.waitlist_id).await?;
    if owner != principal.user_id {
        return Err(ApiError::Forbidden(
            "Only the waitlist entry's owner can accept its offer".into(),
        ));
    }
    match status.as_str() {
        "offered" => {}
        "expired" => return Err(ApiError::Gone("Offer has expired".into())),
        _ => return Err(ApiError::BadRequest("No active offer for this waitlist entry".into())),
    }
    let booked = state
        .resources
        .send(
            resource,
            AcceptOffer {
                entry: path.waitlist_id,
                by: principal.user_id,
            },
        )
        .await?;
    created(&booked, zone, state.clock.now())
}

#[derive(Deserialize)]
struct ResourceId {
    resource_id: i64,
}

async fn queue(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<ResourceId>,
) -> Result<HttpResponse, ApiError> {
    let see_everyone = principal.can(Permission::WaitlistManageAny);
    let entries = waitlist::queue(&state.db, path.resource_id, principal.user_id, see_everyone).await?;
    Ok(HttpResponse::Ok().json(entries))
}
