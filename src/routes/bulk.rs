//! `/api/v1/bulk/reservations`: many bookings at once, all or nothing (see [`crate::bulk`]);
//! many cancellations at once, each on its own; the CSV export of what the caller may read.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use reserver_actors::resource::{CancelScope, ReservationStatus};
use serde::Deserialize;
use serde_json::json;

use super::reservations::cancel_for;
use super::table::RouteTable;
use crate::auth::{Access, Permission, Principal};
use crate::bulk::export::{self, ExportFilter};
use crate::bulk::{Batch, MAX_ITEMS, Requested, import};
use crate::error::ApiError;
use crate::http::{Json, Query};
use crate::scheduling::user_ref;
use crate::state::AppState;
use crate::wire::bounded::Bounded;
use crate::wire::time::WireTime;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Authenticated, Permission as Needs};
    use Permission::ReservationCreate;
    table
        .route(Method::POST, "/api/v1/bulk/reservations", Needs(ReservationCreate), &[], create)
        .route(Method::POST, "/api/v1/bulk/reservations/validate", Needs(ReservationCreate), &[], validate)
        .route(Method::POST, "/api/v1/bulk/reservations/import", Needs(ReservationCreate), &[], import_csv)
        .route(Method::POST, "/api/v1/bulk/reservations/cancel", Authenticated, &[], cancel)
        .route(Method::GET, "/api/v1/bulk/reservations/export", Authenticated, &[], export_csv);
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Item {
    resource_id: i64,
    start_time: WireTime,
    end_time: WireTime,
}

/// The items of a batch (an alias: the schema derive reads no const argument).
type Items = Bounded<Item, MAX_ITEMS>;

/// The ids of a batch.
type Ids = Bounded<i64, MAX_ITEMS>;

#[derive(Deserialize, utoipa::ToSchema)]
struct NewBatch {
    #[schema(inline)]
    reservations: Items,
    #[serde(default)]
    dry_run: bool,
}

impl NewBatch {
    /// The batch, or a 422 for an empty list (Pydantic's `too_short`).
    fn batch(self) -> Result<(Batch, bool), ApiError> {
        if self.reservations.is_empty() {
            return Err(ApiError::invalid(
                &["body", "reservations"],
                "List should have at least 1 item after validation, not 0",
                json!([]),
            ));
        }
        let items = self
            .reservations
            .into_inner()
            .into_iter()
            .map(|item| Requested {
                resource: item.resource_id,
                start: item.start_time.0,
                end: item.end_time.0,
                row: None,
            })
            .collect();
        Ok((Batch::new(items, Vec::new()), self.dry_run))
    }
}

/// Books the batch (or, as a dry run, checks it): 200 with what was booked or refused.
async fn run(state: &AppState, principal: &Principal, batch: Batch, dry_run: bool) -> Result<HttpResponse, ApiError> {
    let outcome = if dry_run {
        batch.check(&state.resources, &user_ref(principal)).await?
    } else {
        batch.book(&state.resources, user_ref(principal)).await?
    };
    Ok(HttpResponse::Ok().json(outcome.answer()))
}

async fn create(
    state: web::Data<AppState>,
    principal: Principal,
    Json(body): Json<NewBatch>,
) -> Result<HttpResponse, ApiError> {
    let (batch, dry_run) = body.batch()?;
    run(&state, &principal, batch, dry_run).await
}

async fn validate(
    state: web::Data<AppState>,
    principal: Principal,
    Json(body): Json<NewBatch>,
) -> Result<HttpResponse, ApiError> {
    let (batch, _) = body.batch()?;
    let outcome = batch.check(&state.resources, &user_ref(&principal)).await?;
    Ok(HttpResponse::Ok().json(outcome.validation()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportParams {
    #[serde(default)]
    dry_run: bool,
}

async fn import_csv(
    state: web::Data<AppState>,
    principal: Principal,
    Query(params): Query<ImportParams>,
    multipart: actix_multipart::Multipart,
) -> Result<HttpResponse, ApiError> {
    let batch = import::read(&state.db, multipart).await?;
    run(&state, &principal, batch, params.dry_run).await
}

/// Longest cancellation reason accepted.
const MAX_REASON_CHARS: usize = 500;

#[derive(Deserialize, utoipa::ToSchema)]
struct CancelBatch {
    #[schema(inline)]
    reservation_ids: Ids,
    reason: Option<String>,
}

/// Cancels each reservation as `POST /reservations/{id}/cancel` would (freeing its slot for the
/// waitlist); each succeeds or fails on its own.
async fn cancel(
    state: web::Data<AppState>,
    principal: Principal,
    Json(body): Json<CancelBatch>,
) -> Result<HttpResponse, ApiError> {
    if body.reservation_ids.is_empty() {
        return Err(ApiError::invalid(
            &["body", "reservation_ids"],
            "List should have at least 1 item after validation, not 0",
            json!([]),
        ));
    }
    if let Some(reason) = body.reason.as_deref().filter(|r| r.chars().count() > MAX_REASON_CHARS) {
        return Err(ApiError::invalid(
            &["body", "reason"],
            format!("String should have at most {MAX_REASON_CHARS} characters"),
            reason,
        ));
    }
    let (mut cancelled, mut errors) = (Vec::new(), Vec::new());
    for &id in body.reservation_ids.iter() {
        match cancel_for(&state, &principal, id, body.reason.clone(), CancelScope::One).await {
            Ok((resource, done)) => cancelled.extend(
                done.bookings
                    .iter()
                    .map(|b| json!({ "reservation_id": b.id, "resource_id": resource })),
            ),
            Err(error) => errors.push(json!({ "reservation_id": id, "error": cancel_error(id, &error) })),
        }
    }
    Ok(HttpResponse::Ok().json(json!({
        "total": body.reservation_ids.len(),
        "success": cancelled.len(),
        "failed": errors.len(),
        "cancelled": cancelled,
        "errors": errors,
    })))
}

/// An item's error in the original's words: a reservation the caller may not see does not
/// exist, one they may see but not cancel belongs to someone else.
fn cancel_error(id: i64, error: &ApiError) -> String {
    match error {
        ApiError::NotFound(_) => format!("Reservation {id} not found"),
        ApiError::Forbidden(_) => "Cannot cancel reservations owned by other users".into(),
        other => other.to_string(),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportParams {
    user_id: Option<i64>,
    resource_id: Option<i64>,
    #[param(value_type = Option<String>, format = DateTime)]
    start_from: Option<WireTime>,
    #[param(value_type = Option<String>, format = DateTime)]
    start_until: Option<WireTime>,
    status: Option<String>,
}

/// The caller's reservations, or anyone's with `reservation:read_any`; asking for another user's
/// without it is a 403.
async fn export_csv(
    state: web::Data<AppState>,
    principal: Principal,
    Query(params): Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let user = match params.user_id {
        _ if principal.can(Permission::ReservationReadAny) => params.user_id,
        Some(other) if other != principal.user_id => {
            principal.require(Permission::ReservationReadAny)?;
            Some(other)
        }
        _ => Some(principal.user_id),
    };
    let status = params
        .status
        .as_deref()
        .map(|raw| {
            raw.parse::<ReservationStatus>()
                .map_err(|_| ApiError::invalid(&["query", "status"], format!("Unknown status '{raw}'"), raw))
        })
        .transpose()?;
    let filter = ExportFilter {
        user,
        resource: params.resource_id,
        start_from: params.start_from.map(|t| t.0),
        start_until: params.start_until.map(|t| t.0),
        status,
    };
    export::csv(&state.db, &filter)
        .await?
        .into_response("reservations_export.csv")
}
