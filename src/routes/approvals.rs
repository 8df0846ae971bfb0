//! `/api/v1/approvals`: bookings of resources that require approval. A request creates a
//! pending reservation that holds its slot; the resource's approver (or an admin) approves it —
//! which cannot conflict, the slot being held — or rejects it, which frees the slot. Only
//! admins choose approvers. A request nobody answers is rejected at its start.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use reserver_actors::resource::store::ResourcePatch;
use reserver_actors::resource::{Answer, Book, BookingStatus, Cancel, CancelScope, ScheduleError, UpdateResource};
use serde::Deserialize;
use serde_json::json;

use super::idempotency::key_of;
use super::reservations::slot;
use super::table::RouteTable;
use crate::approvals::{self, ApprovalRecord};
use crate::auth::Access;
use crate::auth::{Permission, Principal};
use crate::error::ApiError;
use crate::http::{Json, Path};
use crate::scheduling::user_ref;
use crate::state::AppState;
use crate::wire::time::WireTime;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Authenticated, Permission as Needs};
    use Permission::{ReservationCreate, ResourceUpdate};
    table
        .route(Method::GET, "/api/v1/approvals/pending", Authenticated, &[], pending)
        .route(Method::GET, "/api/v1/approvals/my-requests", Authenticated, &[], my_requests)
        .route(Method::POST, "/api/v1/approvals/reservations", Needs(ReservationCreate), &[], request)
        .route(Method::GET, "/api/v1/approvals/resources/{resource_id}/settings", Authenticated, &[], settings)
        .route(Method::PUT, "/api/v1/approvals/resources/{resource_id}/settings", Needs(ResourceUpdate), &[], update_settings)
        .route(Method::GET, "/api/v1/approvals/{approval_id}", Authenticated, &[], get_one)
        .route(Method::DELETE, "/api/v1/approvals/{approval_id}", Authenticated, &[], withdraw)
        .route(Method::POST, "/api/v1/approvals/{approval_id}/respond", Authenticated, &[], respond);
}

#[derive(Deserialize)]
struct ApprovalId {
    approval_id: i64,
}

#[derive(Deserialize)]
struct ResourceId {
    resource_id: i64,
}

fn not_found() -> ApiError {
    ApiError::NotFound("Approval request not found".into())
}

/// The request, if the caller is its requester, its approver, or may read anyone's bookings.
async fn visible(state: &AppState, principal: &Principal, id: i64) -> Result<ApprovalRecord, ApiError> {
    let record = approvals::record(&state.db, id).await?.ok_or_else(not_found)?;
    let involved = principal.user_id == record.requester_id || principal.user_id == record.approver_id;
    if involved || principal.can(Permission::ReservationReadAny) {
        Ok(record)
    } else {
        Err(not_found())
    }
}

async fn pending(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    let pending = approvals::pending_for(&state.db, principal.user_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": pending.len(), "pending_approvals": pending })))
}

async fn my_requests(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    let mine = approvals::pending_of(&state.db, principal.user_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": mine.len(), "my_requests": mine })))
}

async fn get_one(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<ApprovalId>,
) -> Result<HttpResponse, ApiError> {
    visible(&state, &principal, path.approval_id).await?;
    Ok(HttpResponse::Ok().json(
        approvals::one(&state.db, path.approval_id)
            .await?
            .ok_or_else(not_found)?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewApprovalRequest)]
struct NewRequest {
    resource_id: i64,
    start_time: WireTime,
    end_time: WireTime,
    request_message: Option<String>,
}

/// A booking through the approval endpoint: pending on a resource that requires approval,
/// active otherwise; answered in the `{success, …}` shape.
async fn request(
    state: web::Data<AppState>,
    principal: Principal,
    req: actix_web::HttpRequest,
    Json(new): Json<NewRequest>,
) -> Result<HttpResponse, ApiError> {
    if new.request_message.as_ref().is_some_and(|m| m.chars().count() > 500) {
        return Err(ApiError::invalid(
            &["body", "request_message"],
            "request_message is at most 500 characters",
            (),
        ));
    }
    let message = Book {
        user: user_ref(&principal),
        interval: slot(new.start_time, new.end_time)?,
        message: new.request_message,
        idempotency_key: key_of(&req),
    };
    let booked = state.resources.send(new.resource_id, message).await?;
    let booking = booked
        .bookings
        .first()
        .ok_or_else(|| ApiError::Internal("booking returned nothing".into()))?;
    if booking.status == BookingStatus::PendingApproval {
        let approval_id = approvals::of_reservation(&state.db, booking.id).await?;
        return Ok(HttpResponse::Ok().json(json!({
            "success": true,
            "requires_approval": true,
            "status": "pending_approval",
            "reservation_id": booking.id,
            "approval_id": approval_id,
            "message": "Reservation request submitted for approval",
        })));
    }
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "requires_approval": false,
        "status": "active",
        "reservation_id": booking.id,
        "message": "Reservation created successfully",
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ApprovalAction)]
enum Action {
    Approve,
    Reject,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ApprovalResponse)]
struct Response {
    action: Action,
    response_message: Option<String>,
}

async fn respond(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<ApprovalId>,
    Json(body): Json<Response>,
) -> Result<HttpResponse, ApiError> {
    let record = visible(&state, &principal, path.approval_id).await?;
    if principal.user_id != record.approver_id && !principal.is_admin() {
        return Err(ApiError::BadRequest(
            "You are not the designated approver for this request".into(),
        ));
    }
    if record.status != "pending" {
        return Err(ApiError::BadRequest(format!(
            "Request has already been {}",
            record.status
        )));
    }
    let approve = matches!(body.action, Action::Approve);
    let message = Answer {
        reservation: record.reservation_id,
        approve,
        by: principal.user_id,
        message: body.response_message,
    };
    state
        .resources
        .send(record.resource_id, message)
        .await
        .map_err(|error| match error {
            ScheduleError::StartInPast => {
                ApiError::BadRequest("The request's start has passed; it can no longer be approved".into())
            }
            other => other.into(),
        })?;
    let status = if approve { "approved" } else { "rejected" };
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "message": format!("Request has been {status}"),
        "approval_id": record.id,
        "status": status,
    })))
}

async fn withdraw(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<ApprovalId>,
) -> Result<HttpResponse, ApiError> {
    let record = visible(&state, &principal, path.approval_id).await?;
    if principal.user_id != record.requester_id {
        return Err(ApiError::BadRequest("You can only cancel your own requests".into()));
    }
    if record.status != "pending" {
        return Err(ApiError::BadRequest(format!(
            "Request has already been {}",
            record.status
        )));
    }
    let message = Cancel {
        reservation: record.reservation_id,
        by: principal.user_id,
        reason: Some("Cancelled pending approval".into()),
        scope: CancelScope::One,
        only_if: Some(BookingStatus::PendingApproval),
    };
    state.resources.send(record.resource_id, message).await?;
    Ok(HttpResponse::Ok().json(json!({ "success": true, "message": "Request cancelled", "approval_id": record.id })))
}

async fn settings(state: web::Data<AppState>, Path(path): Path<ResourceId>) -> Result<HttpResponse, ApiError> {
    let snapshot = state.resources.snapshot(path.resource_id).await?;
    let resource = &snapshot.resource;
    let approver_name = match resource.approver {
        Some(approver) => approvals::username(&state.db, approver).await?,
        None => None,
    };
    Ok(HttpResponse::Ok().json(json!({
        "resource_id": resource.id,
        "resource_name": resource.name,
        "requires_approval": resource.requires_approval,
        "default_approver_id": resource.approver,
        "default_approver_username": approver_name,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ApprovalSettings)]
struct Settings {
    requires_approval: bool,
    default_approver_id: Option<i64>,
}

async fn update_settings(
    state: web::Data<AppState>,
    Path(path): Path<ResourceId>,
    Json(body): Json<Settings>,
) -> Result<HttpResponse, ApiError> {
    if let Some(approver) = body.default_approver_id
        && approvals::username(&state.db, approver).await?.is_none()
    {
        return Err(ApiError::BadRequest("Default approver not found".into()));
    }
    if body.requires_approval && body.default_approver_id.is_none() {
        return Err(ApiError::BadRequest(
            "A resource that requires approval needs a default approver".into(),
        ));
    }
    let patch = ResourcePatch {
        requires_approval: Some(body.requires_approval),
        approver: Some(body.default_approver_id),
        ..ResourcePatch::default()
    };
    let resource = state.resources.send(path.resource_id, UpdateResource(patch)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "success": true,
        "resource_id": resource.id,
        "requires_approval": resource.requires_approval,
        "default_approver_id": resource.approver,
    })))
}
