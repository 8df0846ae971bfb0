//! The audit log, for administrators (and each user's own activity): `/api/v1/audit/*`, in the
//! `/api/v1` shapes.

use actix_web::http::Method;
use actix_web::http::header::{CONTENT_DISPOSITION, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::admin::out_of_range;
use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::audit::Event;
use crate::auth::audit_log;
use crate::auth::{Permission, Principal};
use crate::error::ApiError;
use crate::http::csv::{Cell, CsvWriter};
use crate::http::{Json, Path, Query};
use crate::state::AppState;

pub fn declare(table: &mut RouteTable) {
    let admin = Access::Permission(Permission::AuditRead);
    table
        .route(Method::GET, "/api/v1/audit/logs", admin, &[], logs)
        .route(Method::GET, "/api/v1/audit/logs/{log_id}", admin, &[], log)
        .route(
            Method::GET,
            "/api/v1/audit/entity/{entity_type}/{entity_id}",
            admin,
            &[],
            entity,
        )
        .route(
            Method::GET,
            "/api/v1/audit/user/{user_id}/activity",
            admin,
            &[],
            user_activity,
        )
        .route(
            Method::GET,
            "/api/v1/audit/my-activity",
            Access::Authenticated,
            &[],
            my_activity,
        )
        .route(Method::GET, "/api/v1/audit/statistics", admin, &[], statistics)
        .route(Method::GET, "/api/v1/audit/export/csv", admin, &[], export_csv)
        .route(Method::GET, "/api/v1/audit/export/json", admin, &[], export_json)
        .route(Method::GET, "/api/v1/audit/filters", admin, &[], filters)
        .route(
            Method::POST,
            "/api/v1/audit/retention",
            Access::Permission(Permission::SystemAdmin),
            &[],
            retention,
        );
}

const EXPORT_LIMIT: i64 = 10_000;

/// A parsed instant from a query parameter: RFC 3339, a naive date-time (UTC), or a date.
fn instant(name: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc()))
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
        .map_err(|_| ApiError::invalid(&["query", name], "Input should be a valid datetime", text))
}

/// The filters shared by the listing, statistics and export endpoints.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Filters {
    user_id: Option<i64>,
    action: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<i64>,
    start_date: Option<String>,
    end_date: Option<String>,
    success: Option<bool>,
    ip_address: Option<String>,
    search: Option<String>,
}

impl Filters {
    /// The query parameters as a log filter, the dates parsed.
    fn to_filter(&self) -> Result<audit_log::Filter, ApiError> {
        Ok(audit_log::Filter {
            user_id: self.user_id,
            action: self.action.clone(),
            entity_type: self.entity_type.clone(),
            entity_id: self.entity_id,
            since: self
                .start_date
                .as_deref()
                .map(|t| instant("start_date", t))
                .transpose()?,
            until: self.end_date.as_deref().map(|t| instant("end_date", t)).transpose()?,
            success: self.success,
            ip_address: self.ip_address.clone(),
            search: self.search.clone(),
        })
    }
}

fn bounded(name: &str, value: i64, min: i64, max: i64) -> Result<i64, ApiError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(out_of_range(name, value, min, max))
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Page {
    #[serde(default)]
    skip: i64,
    #[serde(default = "hundred")]
    limit: i64,
}

fn hundred() -> i64 {
    100
}

async fn logs(
    state: web::Data<AppState>,
    Query(filters): Query<Filters>,
    Query(page): Query<Page>,
) -> Result<HttpResponse, ApiError> {
    let skip = bounded("skip", page.skip, 0, i64::MAX)?;
    let limit = bounded("limit", page.limit, 1, 1000)?;
    let filter = filters.to_filter()?;
    let total = audit_log::count(&state.db, &filter).await?;
    let logs = audit_log::entries(&state.db, &filter, limit, skip).await?;
    Ok(HttpResponse::Ok().json(json!({ "logs": logs, "total": total, "skip": skip, "limit": limit })))
}

#[derive(Deserialize)]
struct LogId {
    log_id: i64,
}

async fn log(state: web::Data<AppState>, Path(path): Path<LogId>) -> Result<HttpResponse, ApiError> {
    let entry = audit_log::entry_by_id(&state.db, path.log_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("Audit log entry not found".into()))?;
    Ok(HttpResponse::Ok().json(entry))
}

#[derive(Deserialize)]
struct EntityPath {
    entity_type: String,
    entity_id: i64,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Limit {
    limit: Option<i64>,
}

async fn entity(
    state: web::Data<AppState>,
    Path(path): Path<EntityPath>,
    Query(query): Query<Limit>,
) -> Result<HttpResponse, ApiError> {
    let limit = bounded("limit", query.limit.unwrap_or(50), 1, 200)?;
    let filters = Filters {
        entity_type: Some(path.entity_type),
        entity_id: Some(path.entity_id),
        ..Filters::default()
    };
    Ok(HttpResponse::Ok().json(audit_log::entries(&state.db, &filters.to_filter()?, limit, 0).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Activity {
    days: Option<i64>,
    limit: Option<i64>,
}

/// A user's entries of the last `days` days.
async fn activity(state: &AppState, user_id: i64, query: &Activity) -> Result<HttpResponse, ApiError> {
    let days = bounded("days", query.days.unwrap_or(30), 1, 365)?;
    let limit = bounded("limit", query.limit.unwrap_or(100), 1, 500)?;
    let filter = audit_log::Filter {
        user_id: Some(user_id),
        since: Some(state.clock.now() - chrono::Duration::days(days)),
        ..audit_log::Filter::default()
    };
    Ok(HttpResponse::Ok().json(audit_log::entries(&state.db, &filter, limit, 0).await?))
}

#[derive(Deserialize)]
struct UserPath {
    user_id: i64,
}

async fn user_activity(
    state: web::Data<AppState>,
    Path(path): Path<UserPath>,
    Query(query): Query<Activity>,
) -> Result<HttpResponse, ApiError> {
    activity(&state, path.user_id, &query).await
}

async fn my_activity(
    state: web::Data<AppState>,
    principal: Principal,
    Query(query): Query<Activity>,
) -> Result<HttpResponse, ApiError> {
    activity(&state, principal.user_id, &query).await
}

async fn statistics(state: web::Data<AppState>, Query(filters): Query<Filters>) -> Result<HttpResponse, ApiError> {
    let filters = Filters {
        start_date: filters.start_date,
        end_date: filters.end_date,
        ..Filters::default()
    };
    let stats = audit_log::statistics(&state.db, &filters.to_filter()?).await?;
    let most_active: Vec<_> = stats
        .most_active
        .iter()
        .map(|(username, count)| json!({ "username": username, "action_count": count }))
        .collect();
    let (by_action, by_entity_type) = (stats.by_action, stats.by_entity_type);
    let (succeeded, failed) = (stats.succeeded, stats.failed);
    Ok(HttpResponse::Ok().json(json!({
        "by_action": by_action,
        "by_entity_type": by_entity_type,
        "by_success": { "success": succeeded, "failed": failed },
        "most_active_users": most_active,
        "total_entries": succeeded + failed,
    })))
}

fn attachment(name: &'static str) -> (actix_web::http::header::HeaderName, HeaderValue) {
    (CONTENT_DISPOSITION, HeaderValue::from_static(name))
}

fn export_filters(filters: Filters) -> Filters {
    Filters {
        user_id: filters.user_id,
        action: filters.action,
        entity_type: filters.entity_type,
        start_date: filters.start_date,
        end_date: filters.end_date,
        ..Filters::default()
    }
}

async fn export_csv(state: web::Data<AppState>, Query(filters): Query<Filters>) -> Result<HttpResponse, ApiError> {
    let rows = audit_log::entries(&state.db, &export_filters(filters).to_filter()?, EXPORT_LIMIT, 0).await?;
    let columns = [
        "id",
        "timestamp",
        "user_id",
        "username",
        "action",
        "entity_type",
        "entity_id",
        "entity_name",
        "ip_address",
        "request_method",
        "request_path",
        "success",
        "details",
        "error_message",
    ];
    let mut csv = CsvWriter::new(&columns)?;
    for row in &rows {
        csv.row(columns.iter().map(|column| Cell::from(&row[*column])))?;
    }
    csv.into_response("audit_logs.csv")
}

async fn export_json(state: web::Data<AppState>, Query(filters): Query<Filters>) -> Result<HttpResponse, ApiError> {
    let rows = audit_log::entries(&state.db, &export_filters(filters).to_filter()?, EXPORT_LIMIT, 0).await?;
    let body = json!({ "total": rows.len(), "exported_at": state.clock.now(), "logs": rows });
    let text = serde_json::to_string_pretty(&body).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(attachment("attachment; filename=audit_logs.json"))
        .body(text))
}

async fn filters(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(json!({
        "actions": audit_log::actions(&state.db).await?,
        "entity_types": audit_log::entity_types(&state.db).await?,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Retention {
    #[serde(default = "ninety")]
    retention_days: i64,
}

fn ninety() -> i64 {
    90
}

/// Deletes entries older than `retention_days`, after logging that it does.
async fn retention(
    state: web::Data<AppState>,
    req: HttpRequest,
    principal: Principal,
    Json(body): Json<Retention>,
) -> Result<HttpResponse, ApiError> {
    let days = body.retention_days;
    if !(1..=365).contains(&days) {
        return Err(ApiError::invalid(
            &["body", "retention_days"],
            "retention_days must be between 1 and 365",
            days,
        ));
    }
    Event::new("apply_retention", "audit_log")
        .by_principal(&principal)
        .details(format!("retention_days: {days}"))
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    let cutoff = state.clock.now() - chrono::Duration::days(days);
    let deleted = audit_log::delete_before(&state.db, cutoff).await?;
    Ok(HttpResponse::Ok().json(json!({
        "deleted_count": deleted,
        "retention_days": days,
        "message": format!("Successfully deleted {deleted} audit log entries older than {days} days"),
    })))
}
