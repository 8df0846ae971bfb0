//! `/api/v1/resources`: the catalogue (public reads), administration (writes), schedules and
//! maintenance. Every change to one resource goes through its actor; lists and searches read
//! the database; one resource's schedule is read from its actor's snapshot.

use actix_web::http::Method;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};
use bytes::Bytes;
use chrono::Duration;
use reserver_actors::domain::Interval;
use reserver_actors::resource::store::ResourcePatch;
use reserver_actors::resource::{DeleteResource, EndMaintenance, StartMaintenance, UpdateResource};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::booking_names::Viewer;
use crate::auth::{Permission, Principal};
use crate::error::ApiError;
use crate::hours::availability;
use crate::http::{Json, Path, Query};
use crate::pagination::{Page, PageParams};
use crate::resources::fields::{CheckInWindow, ResourceName, TagList, TimeZone, clean_tags};
use crate::resources::model::{ResourceOut, live_status};
use crate::resources::queries::{self, ResourceFilter, StatusFilter};
use crate::resources::{import, pages, record, tags};
use crate::state::AppState;
use crate::storage::StorageError;
use crate::wire::time::WireTime;
use crate::wire::time::utc;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Permission as Needs, Public};
    use Permission::{ResourceCreate, ResourceDelete, ResourceMaintenance, ResourceUpdate};
    table
        .route(Method::GET, "/api/v1/resources", Public, &["/resources"], list)
        .route(Method::POST, "/api/v1/resources", Needs(ResourceCreate), &["/resources"], create)
        .route(Method::GET, "/api/v1/resources/search", Public, &["/resources/search"], search)
        .route(Method::POST, "/api/v1/resources/upload", Needs(ResourceCreate), &[], upload)
        .route(Method::GET, "/api/v1/resources/availability/summary", Public, &[], summary)
        .route(Method::GET, "/api/v1/resources/tags", Public, &[], tags)
        .route(Method::GET, "/api/v1/resources/tags/details", Needs(ResourceUpdate), &[], tag_details)
        .route(Method::PUT, "/api/v1/resources/tags/rename", Needs(ResourceUpdate), &[], rename_tag)
        .route(Method::DELETE, "/api/v1/resources/tags/{tag_name}", Needs(ResourceUpdate), &[], delete_tag)
        .route(Method::GET, "/api/v1/resources/{resource_id}", Public, &[], get_one)
        .route(Method::PUT, "/api/v1/resources/{resource_id}", Needs(ResourceUpdate), &[], update)
        .route(Method::DELETE, "/api/v1/resources/{resource_id}", Needs(ResourceDelete), &[], delete)
        .route(Method::GET, "/api/v1/resources/{resource_id}/availability", Public, &[], schedule)
        .route(Method::GET, "/api/v1/resources/{resource_id}/schedule", Public, &[], schedule)
        .route(Method::GET, "/api/v1/resources/{resource_id}/status", Public, &[], status)
        .route(Method::PUT, "/api/v1/resources/{resource_id}/status/unavailable", Needs(ResourceMaintenance), &[], start_maintenance)
        .route(Method::PUT, "/api/v1/resources/{resource_id}/status/available", Needs(ResourceMaintenance), &[], end_maintenance)
        .route(Method::PUT, "/api/v1/resources/{resource_id}/availability", Needs(ResourceMaintenance), &[], set_availability);
}

#[derive(Deserialize)]
struct ResourceId {
    resource_id: i64,
}

/// `POST /api/v1/resources/upload`: resources from a CSV file (see [`import`]).
async fn upload(
    state: web::Data<AppState>,
    Query(params): Query<import::UploadParams>,
    multipart: actix_multipart::Multipart,
) -> Result<HttpResponse, ApiError> {
    import::upload(&state.db, state.clock.as_ref(), &state.events.writer, params, multipart).await
}

/// The catalogue, one page at a time, from the page cache when it holds the page (see
/// [`pages`] for why a cached page is never stale).
async fn list(
    state: web::Data<AppState>,
    viewer: Viewer,
    Query(params): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::parse(&params, queries::SORT_KEYS, "name", false)?;
    let key = pages::PageKey::new(&params, &viewer);
    // Loaded before anything is read, so a change committed during the reads makes the page
    // unservable from the cache.
    let generation = state.events.writer.generation();
    let now = state.clock.now();
    if let Some(body) = state.pages.get(&key, generation, now) {
        return Ok(HttpResponse::Ok().content_type(ContentType::json()).body(body));
    }
    let valid_until = pages::valid_until(&state.db, now).await?;
    let body = queries::page(&state.db, &ResourceFilter::everything(), &page, now, &viewer).await?;
    let body = Bytes::from(serde_json::to_vec(&body).map_err(ApiError::internal)?);
    state.pages.put(key, generation, now, valid_until, body.clone());
    Ok(HttpResponse::Ok().content_type(ContentType::json()).body(body))
}

/// Longest `available_from`..`available_until` window a search accepts.
const MAX_SEARCH_WINDOW_DAYS: i64 = 366;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchParams {
    q: Option<String>,
    status: Option<String>,
    available_only: Option<bool>,
    #[param(value_type = Option<String>, format = DateTime)]
    available_from: Option<WireTime>,
    #[param(value_type = Option<String>, format = DateTime)]
    available_until: Option<WireTime>,
    #[param(inline)]
    tags: Option<TagList>,
    /// `category:value`, repeatable: resources carrying every one of them.
    #[param(inline)]
    label: Option<crate::labels::LabelFilterList>,
}

async fn search(
    state: web::Data<AppState>,
    viewer: Viewer,
    Query(params): Query<SearchParams>,
    Query(page): Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let page = Page::parse(&page, queries::SORT_KEYS, "name", false)?;
    let status = match (&params.status, params.available_only) {
        (Some(status), _) => StatusFilter::parse(status)?,
        (None, Some(false)) => StatusFilter::All,
        (None, _) => StatusFilter::Available,
    };
    let free_during = match (params.available_from, params.available_until) {
        (Some(WireTime(from)), Some(WireTime(until))) => {
            if from <= now {
                return Err(ApiError::BadRequest("Start time must be in the future".into()));
            }
            let window = Interval::new(from, until).map_err(|e| ApiError::BadRequest(e.to_string()))?;
            // Opening hours are checked day by day across the window, so its length bounds the
            // work of a search anyone may send.
            if window.end() - window.start() > chrono::Duration::days(MAX_SEARCH_WINDOW_DAYS) {
                let why = format!("The search window may be at most {MAX_SEARCH_WINDOW_DAYS} days long");
                return Err(ApiError::BadRequest(why));
            }
            Some(window)
        }
        _ => None,
    };
    let filter = ResourceFilter {
        query: params.q.filter(|q| !q.trim().is_empty()),
        tags: clean_tags(params.tags.unwrap_or_default().into_inner()),
        status,
        free_during,
        labels: crate::labels::parse_filters(params.label)?,
    };
    Ok(HttpResponse::Ok().json(queries::page(&state.db, &filter, &page, now, &viewer).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewResource {
    name: ResourceName,
    description: Option<String>,
    #[schema(inline)]
    tags: Option<TagList>,
    #[serde(default = "enabled_by_default")]
    available: bool,
    timezone: Option<TimeZone>,
    checkin_window_minutes: Option<CheckInWindow>,
}

fn enabled_by_default() -> bool {
    true
}

async fn create(state: web::Data<AppState>, Json(new): Json<NewResource>) -> Result<HttpResponse, ApiError> {
    let resource = record::NewResource {
        name: new.name.into_inner(),
        description: new.description.filter(|d| !d.trim().is_empty()),
        tags: clean_tags(new.tags.unwrap_or_default().into_inner()),
        enabled: new.available,
        timezone: new.timezone.map_or(chrono_tz::Tz::UTC, |tz| tz.0),
        checkin_window_minutes: new.checkin_window_minutes.map(|w| w.0),
    };
    let id = record::insert(&state.db, &state.events.writer, &resource, state.clock.now())
        .await
        .map_err(|error| duplicate_name(error, &resource.name))?;
    state.events.writer.committed();
    let snapshot = state.resources.snapshot(id).await?;
    Ok(HttpResponse::Created().json(ResourceOut::embedded(&snapshot.resource, "available")))
}

/// A unique violation on the name is the client's mistake: 409 with the wire format's message.
fn duplicate_name(error: StorageError, name: &str) -> ApiError {
    if error.is_unique_violation_of("name") {
        ApiError::Conflict(format!("A resource with the name '{name}' already exists"))
    } else {
        error.into()
    }
}

async fn get_one(
    state: web::Data<AppState>,
    viewer: Viewer,
    Path(path): Path<ResourceId>,
) -> Result<HttpResponse, ApiError> {
    let resource = queries::one(&state.db, path.resource_id, state.clock.now(), &viewer)
        .await?
        .ok_or_else(|| ApiError::NotFound("Resource not found".into()))?;
    Ok(HttpResponse::Ok().json(resource))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ResourceChanges {
    name: Option<ResourceName>,
    description: Option<String>,
    #[schema(inline)]
    tags: Option<TagList>,
    timezone: Option<TimeZone>,
    /// Minutes after the start by which bookings must be checked in; `0` turns check-in off.
    checkin_window_minutes: Option<i64>,
}

async fn update(
    state: web::Data<AppState>,
    Path(path): Path<ResourceId>,
    Json(changes): Json<ResourceChanges>,
) -> Result<HttpResponse, ApiError> {
    let name = changes.name.map(ResourceName::into_inner);
    let patch = ResourcePatch {
        name: name.clone(),
        // An empty description clears it.
        description: changes.description.map(|d| Some(d).filter(|d| !d.trim().is_empty())),
        tags: changes.tags.map(|tags| clean_tags(tags.into_inner())),
        timezone: changes.timezone.map(|tz| tz.0),
        checkin_window: match changes.checkin_window_minutes {
            None => None,
            Some(0) => Some(None),
            Some(minutes) => Some(Some(
                CheckInWindow::try_from(minutes)
                    .map_err(|why| ApiError::invalid(&["body", "checkin_window_minutes"], why, minutes))?
                    .duration(),
            )),
        },
        ..ResourcePatch::default()
    };
    let resource = state
        .resources
        .send(path.resource_id, UpdateResource(patch))
        .await
        .map_err(|error| match (error, &name) {
            (reserver_actors::resource::ScheduleError::DuplicateName(_), Some(name)) => {
                ApiError::Conflict(format!("A resource with the name '{name}' already exists"))
            }
            (error, _) => error.into(),
        })?;
    let snapshot = state.resources.snapshot(resource.id).await?;
    Ok(HttpResponse::Ok().json(ResourceOut::from_snapshot(&snapshot, state.clock.now())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeleteParams {
    #[serde(default)]
    cancel_reservations: bool,
}

async fn delete(
    state: web::Data<AppState>,
    principal: Principal,
    Path(path): Path<ResourceId>,
    Query(params): Query<DeleteParams>,
) -> Result<HttpResponse, ApiError> {
    let message = DeleteResource {
        by: principal.user_id,
        cancel_upcoming: params.cancel_reservations,
    };
    let cancelled = state.resources.send(path.resource_id, message).await?;
    let ids: Vec<i64> = cancelled.bookings.iter().map(|b| b.id).collect();
    Ok(HttpResponse::Ok().json(json!({
        "message": "Resource deleted successfully",
        "resource_id": path.resource_id,
        "cancelled_reservations": ids,
    })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ScheduleParams {
    #[serde(default = "default_days_ahead")]
    days_ahead: i64,
}

fn default_days_ahead() -> i64 {
    7
}

/// The bookings of one resource from the start of today (UTC) to `days_ahead` days from now,
/// in the `{success, data}` envelope, from the actor's snapshot; with what the
/// actor would accept in that window (free and closed periods, blackout dates), so the read and
/// a booking agree.
async fn schedule(
    state: web::Data<AppState>,
    viewer: Viewer,
    Path(path): Path<ResourceId>,
    Query(params): Query<ScheduleParams>,
) -> Result<HttpResponse, ApiError> {
    if !(0..=365).contains(&params.days_ahead) {
        return Err(ApiError::invalid(
            &["query", "days_ahead"],
            "days_ahead must be between 0 and 365",
            params.days_ahead,
        ));
    }
    let snapshot = state.resources.snapshot(path.resource_id).await?;
    let now = state.clock.now();
    let today = now.date_naive().and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc());
    let window = Interval::new(today, now + Duration::days(params.days_ahead))
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let resource = &snapshot.resource;
    let open_now = availability::open_now(&snapshot, now);
    let available_now = live_status(resource, snapshot.current(now).is_some(), now) == "available"
        && resource.enabled
        && open_now.is_open();
    let periods = |parts: Vec<Interval>| -> Vec<_> {
        parts
            .iter()
            .map(|p| PeriodOut {
                end_time: utc(p.end()),
                start_time: utc(p.start()),
            })
            .collect()
    };
    let blackout_dates: Vec<_> = availability::blackout_dates(&snapshot, &window)
        .map(|(date, reason)| BlackoutOut {
            date: date.to_string(),
            reason,
        })
        .collect();
    Ok(HttpResponse::Ok().json(ScheduleOut {
        data: ScheduleData {
            base_available: resource.enabled,
            blackout_dates,
            closed_periods: periods(availability::closed_parts(&snapshot, &window)),
            current_time: utc(now),
            free_periods: periods(availability::free_parts(&snapshot, &window, now)),
            is_currently_available: available_now,
            is_open_now: open_now.is_open(),
            reservations: snapshot
                .overlapping(&window)
                .map(|b| {
                    let shown = viewer.sees(b.user.id);
                    ScheduledOut {
                        end_time: utc(b.interval.end()),
                        id: b.id,
                        start_time: utc(b.interval.start()),
                        status: b.status.as_str(),
                        user_id: Some(b.user.id).filter(|_| shown),
                        user_name: Some(&*b.user.name).filter(|_| shown),
                    }
                })
                .collect(),
            resource_id: resource.id,
            resource_name: &resource.name,
            timezone: resource.timezone.name(),
        },
        success: true,
    }))
}

// The schedule's body as typed structs borrowing from the snapshot: building it as `json!`
// maps cost two thirds of the server's time per availability read (found by the load tests).
// Fields are in alphabetical order, the order `json!` maps serialised them in.

#[derive(Serialize)]
struct ScheduleOut<'a> {
    data: ScheduleData<'a>,
    success: bool,
}

#[derive(Serialize)]
struct ScheduleData<'a> {
    base_available: bool,
    blackout_dates: Vec<BlackoutOut<'a>>,
    closed_periods: Vec<PeriodOut>,
    current_time: String,
    free_periods: Vec<PeriodOut>,
    is_currently_available: bool,
    is_open_now: bool,
    reservations: Vec<ScheduledOut<'a>>,
    resource_id: i64,
    resource_name: &'a str,
    timezone: &'a str,
}

#[derive(Serialize)]
struct PeriodOut {
    end_time: String,
    start_time: String,
}

#[derive(Serialize)]
struct BlackoutOut<'a> {
    date: String,
    reason: Option<&'a str>,
}

#[derive(Serialize)]
struct ScheduledOut<'a> {
    end_time: String,
    id: i64,
    start_time: String,
    status: &'static str,
    /// Who booked, for a viewer who may see it (`auth::booking_names`), else null.
    user_id: Option<i64>,
    user_name: Option<&'a str>,
}

async fn status(
    state: web::Data<AppState>,
    viewer: Viewer,
    Path(path): Path<ResourceId>,
) -> Result<HttpResponse, ApiError> {
    let snapshot = state.resources.snapshot(path.resource_id).await?;
    let now = state.clock.now();
    let resource = &snapshot.resource;
    let current = snapshot.current(now);
    let status = live_status(resource, current.is_some(), now);
    let open_now = availability::open_now(&snapshot, now);
    let mut body = json!({
        "resource_id": resource.id,
        "resource_name": resource.name,
        "base_available": resource.enabled,
        "status": status,
        "is_available_for_reservation": resource.enabled && status != "unavailable" && open_now.is_open(),
        "is_currently_in_use": current.is_some(),
        "is_unavailable": status == "unavailable",
        "current_time": utc(now),
        "is_open": open_now.is_open(),
        "closed_reason": open_now.closed_reason,
        "blackout_reason": open_now.blackout_reason,
        "next_open_time": open_now.next_open.map(utc),
    });
    if let Some(maintenance) = resource.maintenance_at(now) {
        let hours_until = maintenance
            .until
            .map(|until| ((until - now).num_seconds() as f64 / 3600.0).max(0.0));
        body["unavailable_since"] = json!(utc(maintenance.since));
        body["auto_reset_hours"] = json!(maintenance.auto_reset_hours());
        body["hours_unavailable"] = json!(round2((now - maintenance.since).num_seconds() as f64 / 3600.0));
        body["hours_until_auto_reset"] = json!(hours_until.map(round2));
        body["will_auto_reset"] = json!(hours_until.is_some_and(|h| h > 0.0));
    }
    if let Some(current) = current {
        body["current_reservation"] = json!({
            "id": current.id,
            "start_time": utc(current.interval.start()),
            "end_time": utc(current.interval.end()),
            "user_id": Some(current.user.id).filter(|owner| viewer.sees(*owner)),
        });
    }
    Ok(HttpResponse::Ok().json(body))
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct MaintenanceParams {
    #[serde(default = "default_auto_reset_hours")]
    #[param(minimum = 1, maximum = 8760)]
    auto_reset_hours: i64,
}

fn default_auto_reset_hours() -> i64 {
    8
}

async fn start_maintenance(
    state: web::Data<AppState>,
    Path(path): Path<ResourceId>,
    Query(params): Query<MaintenanceParams>,
) -> Result<HttpResponse, ApiError> {
    let hours = params.auto_reset_hours;
    if !(1..=8760).contains(&hours) {
        return Err(ApiError::invalid(
            &["query", "auto_reset_hours"],
            "auto_reset_hours must be between 1 and 8760",
            hours,
        ));
    }
    let resource = state
        .resources
        .send(
            path.resource_id,
            StartMaintenance {
                auto_reset_hours: Some(hours),
            },
        )
        .await?;
    let since = resource.maintenance.as_ref().map(|m| utc(m.since));
    Ok(HttpResponse::Ok().json(json!({
        "message": format!("Resource set to unavailable for maintenance (auto-reset in {hours} hours)"),
        "resource": {
            "id": resource.id,
            "name": resource.name,
            "status": "unavailable",
            "auto_reset_hours": hours,
            "unavailable_since": since,
        }
    })))
}

async fn end_maintenance(state: web::Data<AppState>, Path(path): Path<ResourceId>) -> Result<HttpResponse, ApiError> {
    let resource = state.resources.send(path.resource_id, EndMaintenance).await?;
    Ok(HttpResponse::Ok().json(json!({
        "message": "Resource reset to available",
        "resource": { "id": resource.id, "name": resource.name, "status": "available" }
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Availability {
    available: bool,
}

async fn set_availability(
    state: web::Data<AppState>,
    Path(path): Path<ResourceId>,
    Json(body): Json<Availability>,
) -> Result<HttpResponse, ApiError> {
    let patch = ResourcePatch {
        enabled: Some(body.available),
        ..ResourcePatch::default()
    };
    state.resources.send(path.resource_id, UpdateResource(patch)).await?;
    let snapshot = state.resources.snapshot(path.resource_id).await?;
    let word = if body.available { "available" } else { "unavailable" };
    Ok(HttpResponse::Ok().json(json!({
        "message": format!("Resource availability updated to {word}"),
        "resource": ResourceOut::from_snapshot(&snapshot, state.clock.now()),
    })))
}

async fn summary(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(queries::summary(&state.db, state.clock.now()).await?))
}

async fn tags(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tags: Vec<String> = queries::tag_counts(&state.db)
        .await?
        .into_iter()
        .map(|(tag, _)| tag)
        .collect();
    Ok(HttpResponse::Ok().json(tags))
}

async fn tag_details(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let details: Vec<_> = queries::tag_counts(&state.db)
        .await?
        .into_iter()
        .map(|(name, count)| json!({ "name": name, "resource_count": count }))
        .collect();
    Ok(HttpResponse::Ok().json(details))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct TagRename {
    old_name: String,
    new_name: String,
}

async fn rename_tag(state: web::Data<AppState>, Json(body): Json<TagRename>) -> Result<HttpResponse, ApiError> {
    let (old, new) = (body.old_name.trim().to_owned(), body.new_name.trim().to_owned());
    for (field, value) in [("old_name", &old), ("new_name", &new)] {
        if value.is_empty() || value.chars().count() > 100 {
            return Err(ApiError::invalid(&["body", field], "Tag name cannot be empty", value));
        }
    }
    if old == new {
        return Err(ApiError::BadRequest(
            "New tag name must be different from the old name".into(),
        ));
    }
    let resources = tags::rename(&state.db, &state.events.writer, &old, &new, state.clock.now()).await?;
    state.resources.refresh(&resources);
    Ok(HttpResponse::Ok().json(json!({
        "message": "Tag renamed successfully",
        "old_name": old,
        "new_name": new,
        "updated_resources": resources.len(),
    })))
}

#[derive(Deserialize)]
struct TagName {
    tag_name: String,
}

async fn delete_tag(state: web::Data<AppState>, Path(path): Path<TagName>) -> Result<HttpResponse, ApiError> {
    let resources = tags::delete(&state.db, &state.events.writer, &path.tag_name, state.clock.now()).await?;
    state.resources.refresh(&resources);
    Ok(HttpResponse::Ok().json(json!({
        "message": "Tag deleted successfully",
        "deleted_tag": path.tag_name,
        "updated_resources": resources.len(),
    })))
}
