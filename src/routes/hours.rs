//! Opening hours, blackout dates and bookable slots: reads for any
//! signed-in user, writes for those who may update (delete: delete) resources. Each write
//! answers once the resource actors it concerns have reloaded, so the next booking obeys it and
//! the next read shows it (other server processes refresh theirs from the write's outbox event,
//! within their poll interval).

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use reserver_actors::resource::ScheduleSnapshot;
use serde::Deserialize;
use serde_json::json;

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::Permission;
use crate::error::ApiError;
use crate::hours::model::{BlackoutInput, DayInput, HoursInput, NewBlackout};
use crate::hours::{slots, store};
use crate::http::{Json, Path, Query};
use crate::state::AppState;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Authenticated, Permission as Needs};
    use Permission::{ResourceDelete, ResourceUpdate};
    table
        .route(Method::GET, "/api/v1/resources/{resource_id}/business-hours", Authenticated, &[], resource_hours)
        .route(Method::PUT, "/api/v1/resources/{resource_id}/business-hours", Needs(ResourceUpdate), &[], set_resource_hours)
        .route(Method::GET, "/api/v1/business-hours/global", Authenticated, &[], global_hours)
        .route(Method::PUT, "/api/v1/business-hours/global", Needs(ResourceUpdate), &[], set_global_hours)
        .route(Method::GET, "/api/v1/resources/{resource_id}/available-slots", Authenticated, &[], available_slots)
        .route(Method::GET, "/api/v1/resources/{resource_id}/next-available", Authenticated, &[], next_available)
        .route(Method::GET, "/api/v1/resources/{resource_id}/blackout-dates", Authenticated, &[], resource_blackouts)
        .route(Method::POST, "/api/v1/resources/{resource_id}/blackout-dates", Needs(ResourceUpdate), &[], add_resource_blackout)
        .route(Method::GET, "/api/v1/blackout-dates", Authenticated, &[], global_blackouts)
        .route(Method::POST, "/api/v1/blackout-dates", Needs(ResourceUpdate), &[], add_global_blackout)
        .route(Method::DELETE, "/api/v1/blackout-dates/{blackout_id}", Needs(ResourceDelete), &[], delete_blackout);
}

#[derive(Deserialize)]
struct ResourceId {
    resource_id: i64,
}

/// The resource's published state (404 "Resource not found" if there is none).
async fn resource(state: &AppState, id: i64) -> Result<std::sync::Arc<ScheduleSnapshot>, ApiError> {
    Ok(state.resources.snapshot(id).await?)
}

async fn resource_hours(state: web::Data<AppState>, Path(path): Path<ResourceId>) -> Result<HttpResponse, ApiError> {
    resource(&state, path.resource_id).await?;
    Ok(HttpResponse::Ok().json(store::rows_in_force(&state.db, path.resource_id).await?))
}

/// Replaces the resource's own hours (an empty list removes them: the global hours apply). The
/// resource's `available` flag is left alone, even when every day is closed: the hours are
/// enforced by themselves.
async fn set_resource_hours(
    state: web::Data<AppState>,
    Path(path): Path<ResourceId>,
    Json(input): Json<HoursInput>,
) -> Result<HttpResponse, ApiError> {
    let days = input.validate()?;
    resource(&state, path.resource_id).await?;
    replace_hours(&state, Some(path.resource_id), &days).await
}

async fn global_hours(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(store::rows_of(&state.db, None).await?))
}

async fn set_global_hours(state: web::Data<AppState>, Json(input): Json<HoursInput>) -> Result<HttpResponse, ApiError> {
    let days = input.validate()?;
    replace_hours(&state, None, &days).await
}

/// Stores the hours of `scope` (a resource, or the global rows with `None`) and answers once
/// the actors concerned have reloaded them, so the next booking already obeys them.
async fn replace_hours(state: &AppState, scope: Option<i64>, days: &[DayInput]) -> Result<HttpResponse, ApiError> {
    let rows = store::replace(&state.db, &state.events.writer, scope, days, state.clock.now()).await?;
    state
        .resources
        .refreshed(scope.as_ref().map(std::slice::from_ref))
        .await;
    Ok(HttpResponse::Ok().json(rows))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SlotParams {
    date: String,
    #[serde(default = "thirty")]
    slot_duration: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct NextParams {
    #[serde(default = "thirty")]
    slot_duration: i64,
    #[serde(default = "fourteen")]
    days_ahead: i64,
}

fn thirty() -> i64 {
    30
}

fn fourteen() -> i64 {
    14
}

/// `slot_duration` in minutes, 15 to 480.
fn slot_length(minutes: i64) -> Result<Duration, ApiError> {
    if !(15..=480).contains(&minutes) {
        return Err(ApiError::out_of_range(&["query", "slot_duration"], minutes, 15, 480));
    }
    Ok(Duration::minutes(minutes))
}

async fn available_slots(
    state: web::Data<AppState>,
    Path(path): Path<ResourceId>,
    Query(params): Query<SlotParams>,
) -> Result<HttpResponse, ApiError> {
    let date = NaiveDate::parse_from_str(params.date.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(
            &["query", "date"],
            "Input should be a valid date in the format YYYY-MM-DD",
            &params.date,
        )
    })?;
    let length = slot_length(params.slot_duration)?;
    let snapshot = resource(&state, path.resource_id).await?;
    let day = date.weekday().num_days_from_monday() as i64;
    let business_hours = store::rows_in_force(&state.db, path.resource_id)
        .await?
        .into_iter()
        .find(|row| row.day_of_week == day);
    let blackout = snapshot.hours.blackout(date);
    let slots = slots::of_day(&snapshot, date, length, state.clock.now());
    Ok(HttpResponse::Ok().json(json!({
        "date": date.to_string(),
        "slots": slots,
        "business_hours": business_hours,
        "is_blackout": blackout.is_some(),
        "blackout_reason": blackout.flatten(),
    })))
}

async fn next_available(
    state: web::Data<AppState>,
    Path(path): Path<ResourceId>,
    Query(params): Query<NextParams>,
) -> Result<HttpResponse, ApiError> {
    let length = slot_length(params.slot_duration)?;
    if !(1..=60).contains(&params.days_ahead) {
        return Err(ApiError::out_of_range(
            &["query", "days_ahead"],
            params.days_ahead,
            1,
            60,
        ));
    }
    let snapshot = resource(&state, path.resource_id).await?;
    let slot = slots::next_available(&snapshot, length, params.days_ahead as u64, state.clock.now());
    Ok(HttpResponse::Ok().json(slot))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct IncludeGlobal {
    #[serde(default = "yes")]
    include_global: bool,
}

fn yes() -> bool {
    true
}

async fn resource_blackouts(
    state: web::Data<AppState>,
    Path(path): Path<ResourceId>,
    Query(params): Query<IncludeGlobal>,
) -> Result<HttpResponse, ApiError> {
    resource(&state, path.resource_id).await?;
    let rows = store::blackouts_of(&state.db, Some(path.resource_id), params.include_global).await?;
    Ok(HttpResponse::Ok().json(rows))
}

/// A blackout date of the resource: today or later on the resource's own calendar.
async fn add_resource_blackout(
    state: web::Data<AppState>,
    Path(path): Path<ResourceId>,
    Json(input): Json<BlackoutInput>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = resource(&state, path.resource_id).await?;
    let now = state.clock.now();
    let new = input.validate(now.with_timezone(&snapshot.resource.timezone).date_naive())?;
    add_blackout(&state, Some(path.resource_id), new, now).await
}

async fn global_blackouts(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(store::blackouts_of(&state.db, None, true).await?))
}

/// A global blackout date: today or later in UTC (global dates have no zone of their own).
async fn add_global_blackout(
    state: web::Data<AppState>,
    Json(input): Json<BlackoutInput>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let new = input.validate(now.date_naive())?;
    add_blackout(&state, None, new, now).await
}

/// Stores a blackout date of `scope` (a resource, or global with `None`) and answers once the
/// actors concerned have reloaded their dates.
async fn add_blackout(
    state: &AppState,
    scope: Option<i64>,
    new: NewBlackout,
    now: DateTime<Utc>,
) -> Result<HttpResponse, ApiError> {
    let writer = &state.events.writer;
    let blackout = store::add_blackout(&state.db, writer, scope, new.date, new.reason.as_deref(), now).await?;
    state
        .resources
        .refreshed(scope.as_ref().map(std::slice::from_ref))
        .await;
    Ok(HttpResponse::Created().json(blackout))
}

#[derive(Deserialize)]
struct BlackoutId {
    blackout_id: i64,
}

async fn delete_blackout(state: web::Data<AppState>, Path(path): Path<BlackoutId>) -> Result<HttpResponse, ApiError> {
    let owner = store::delete_blackout(&state.db, &state.events.writer, path.blackout_id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::NotFound("Blackout date not found".into()))?;
    state
        .resources
        .refreshed(owner.as_ref().map(std::slice::from_ref))
        .await;
    Ok(HttpResponse::NoContent().finish())
}
