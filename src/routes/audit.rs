//! The audit log, for administrators (and each user's own activity): `/api/v1/audit/*`, in the
//! original's shapes (§2.14).

use std::collections::BTreeMap;

use actix_web::http::Method;
use actix_web::http::header::{CONTENT_DISPOSITION, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::out_of_range;
use crate::auth::audit::Event;
use crate::auth::{Permission, Principal};
use crate::error::ApiError;
use crate::http::csv::{Cell, CsvWriter};
use crate::http::{Access, Json, Path, Query, RouteTable};
use crate::params;
use crate::state::AppState;
use crate::storage::{Row, Value as Param};

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

const COLUMNS: &str = "id, timestamp, user_id, username, action, entity_type, entity_id, entity_name, ip_address, \
                       user_agent, request_method, request_path, old_values, new_values, details, success, error_message";
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
#[derive(Deserialize, Default)]
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

/// A `WHERE` clause and its parameters, built from optional conditions.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    params: Vec<Param>,
}

impl Where {
    fn add(&mut self, condition: &str, value: impl Into<Param>) {
        self.params.push(value.into());
        self.clauses
            .push(condition.replace('?', &format!("${}", self.params.len())));
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

impl Filters {
    fn to_where(&self) -> Result<Where, ApiError> {
        let mut w = Where::default();
        if let Some(id) = self.user_id {
            w.add("user_id = ?", id);
        }
        if let Some(action) = &self.action {
            w.add("action = ?", action);
        }
        if let Some(entity_type) = &self.entity_type {
            w.add("entity_type = ?", entity_type);
        }
        if let Some(id) = self.entity_id {
            w.add("entity_id = ?", id);
        }
        if let Some(start) = &self.start_date {
            w.add("timestamp >= ?", instant("start_date", start)?);
        }
        if let Some(end) = &self.end_date {
            w.add("timestamp <= ?", instant("end_date", end)?);
        }
        if let Some(success) = self.success {
            w.add("success = ?", success);
        }
        if let Some(ip) = &self.ip_address {
            w.add("ip_address = ?", ip);
        }
        if let Some(search) = self.search.as_deref().filter(|s| !s.is_empty()) {
            let pattern = format!("%{}%", search.to_lowercase());
            w.add(
                "(LOWER(COALESCE(details, '')) LIKE ? OR LOWER(COALESCE(entity_name, '')) LIKE ? \
                 OR LOWER(COALESCE(username, '')) LIKE ?)",
                pattern,
            );
        }
        Ok(w)
    }
}

fn json_column(row: &Row, name: &str) -> Result<Value, ApiError> {
    Ok(row
        .get::<Option<String>>(name)?
        .map(|text| serde_json::from_str(&text).unwrap_or(Value::String(text)))
        .unwrap_or(Value::Null))
}

/// AuditLogOut.
fn entry(row: &Row) -> Result<Value, ApiError> {
    Ok(json!({
        "id": row.get::<i64>("id")?,
        "timestamp": row.get::<DateTime<Utc>>("timestamp")?,
        "user_id": row.get::<Option<i64>>("user_id")?,
        "username": row.get::<Option<String>>("username")?,
        "action": row.get::<String>("action")?,
        "entity_type": row.get::<String>("entity_type")?,
        "entity_id": row.get::<Option<i64>>("entity_id")?,
        "entity_name": row.get::<Option<String>>("entity_name")?,
        "ip_address": row.get::<Option<String>>("ip_address")?,
        "user_agent": row.get::<Option<String>>("user_agent")?,
        "request_method": row.get::<Option<String>>("request_method")?,
        "request_path": row.get::<Option<String>>("request_path")?,
        "old_values": json_column(row, "old_values")?,
        "new_values": json_column(row, "new_values")?,
        "details": row.get::<Option<String>>("details")?,
        "success": row.get::<bool>("success")?,
        "error_message": row.get::<Option<String>>("error_message")?,
    }))
}

async fn select(state: &AppState, filter: Where, limit: i64, offset: i64) -> Result<Vec<Value>, ApiError> {
    let mut params = filter.params.clone();
    let n = params.len();
    params.push(limit.into());
    params.push(offset.into());
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_logs{} ORDER BY timestamp DESC, id DESC LIMIT ${} OFFSET ${}",
        filter.sql(),
        n + 1,
        n + 2
    );
    state.db.query(&sql, params).await?.iter().map(entry).collect()
}

fn bounded(name: &str, value: i64, min: i64, max: i64) -> Result<i64, ApiError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(out_of_range(name, value, min, max))
    }
}

#[derive(Deserialize)]
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
    let filter = filters.to_where()?;
    let total: i64 = state
        .db
        .query_one(
            &format!("SELECT COUNT(*) AS n FROM audit_logs{}", filter.sql()),
            filter.params.clone(),
        )
        .await?
        .get("n")?;
    let logs = select(&state, filter, limit, skip).await?;
    Ok(HttpResponse::Ok().json(json!({ "logs": logs, "total": total, "skip": skip, "limit": limit })))
}

#[derive(Deserialize)]
struct LogId {
    log_id: i64,
}

async fn log(state: web::Data<AppState>, Path(path): Path<LogId>) -> Result<HttpResponse, ApiError> {
    let row = state
        .db
        .query_opt(
            &format!("SELECT {COLUMNS} FROM audit_logs WHERE id = $1"),
            params![path.log_id],
        )
        .await?
        .ok_or_else(|| ApiError::NotFound("Audit log entry not found".into()))?;
    Ok(HttpResponse::Ok().json(entry(&row)?))
}

#[derive(Deserialize)]
struct EntityPath {
    entity_type: String,
    entity_id: i64,
}

#[derive(Deserialize)]
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
    Ok(HttpResponse::Ok().json(select(&state, filters.to_where()?, limit, 0).await?))
}

#[derive(Deserialize)]
struct Activity {
    days: Option<i64>,
    limit: Option<i64>,
}

/// A user's entries of the last `days` days.
async fn activity(state: &AppState, user_id: i64, query: &Activity) -> Result<HttpResponse, ApiError> {
    let days = bounded("days", query.days.unwrap_or(30), 1, 365)?;
    let limit = bounded("limit", query.limit.unwrap_or(100), 1, 500)?;
    let mut filter = Where::default();
    filter.add("user_id = ?", user_id);
    filter.add("timestamp >= ?", state.clock.now() - chrono::Duration::days(days));
    Ok(HttpResponse::Ok().json(select(state, filter, limit, 0).await?))
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
    let filter = filters.to_where()?;
    let grouped = |column: &str| {
        format!(
            "SELECT {column} AS k, COUNT(*) AS n FROM audit_logs{} GROUP BY {column} ORDER BY n DESC",
            filter.sql()
        )
    };
    let count_by = |rows: Vec<Row>| -> Result<BTreeMap<String, i64>, ApiError> {
        rows.iter()
            .map(|row| Ok((row.get::<String>("k")?, row.get::<i64>("n")?)))
            .collect()
    };
    let by_action = count_by(state.db.query(&grouped("action"), filter.params.clone()).await?)?;
    let by_entity_type = count_by(state.db.query(&grouped("entity_type"), filter.params.clone()).await?)?;
    let (mut succeeded, mut failed) = (0, 0);
    for row in state.db.query(&grouped("success"), filter.params.clone()).await? {
        if row.get::<bool>("k")? {
            succeeded += row.get::<i64>("n")?;
        } else {
            failed += row.get::<i64>("n")?;
        }
    }
    let mut users = filter.clauses.clone();
    users.push("username IS NOT NULL".into());
    let most_active = state
        .db
        .query(
            &format!(
                "SELECT username, COUNT(*) AS n FROM audit_logs WHERE {} GROUP BY username ORDER BY n DESC, username LIMIT 10",
                users.join(" AND ")
            ),
            filter.params.clone(),
        )
        .await?
        .iter()
        .map(|row| Ok(json!({ "username": row.get::<String>("username")?, "action_count": row.get::<i64>("n")? })))
        .collect::<Result<Vec<_>, ApiError>>()?;
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
    let rows = select(&state, export_filters(filters).to_where()?, EXPORT_LIMIT, 0).await?;
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
    let rows = select(&state, export_filters(filters).to_where()?, EXPORT_LIMIT, 0).await?;
    let body = json!({ "total": rows.len(), "exported_at": state.clock.now(), "logs": rows });
    let text = serde_json::to_string_pretty(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(attachment("attachment; filename=audit_logs.json"))
        .body(text))
}

async fn filters(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let distinct = |column: &'static str| {
        let state = state.clone();
        async move {
            state
                .db
                .query(
                    &format!("SELECT DISTINCT {column} AS v FROM audit_logs ORDER BY v"),
                    params![],
                )
                .await?
                .iter()
                .map(|row| row.get::<String>("v").map_err(ApiError::from))
                .collect::<Result<Vec<_>, _>>()
        }
    };
    Ok(HttpResponse::Ok()
        .json(json!({ "actions": distinct("action").await?, "entity_types": distinct("entity_type").await? })))
}

#[derive(Deserialize)]
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
    let deleted = state
        .db
        .execute("DELETE FROM audit_logs WHERE timestamp < $1", params![cutoff])
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "deleted_count": deleted,
        "retention_days": days,
        "message": format!("Successfully deleted {deleted} audit log entries older than {days} days"),
    })))
}
