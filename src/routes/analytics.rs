//! Analytics (`/api/v1/analytics/*`, the 7 operations of the original, wire-compatible): thin
//! handlers over `crate::analytics`. Every caller must be signed in. The figures over all
//! resources (dashboard, utilisation, popularity, peaks) carry no one's personal data; user
//! patterns and the reservations export do, so a caller without `reservation:read_any`
//! (managers and admins hold it) sees only their own rows, and asking for someone else's user
//! patterns is a 403 (the original showed everyone's to anyone). The heatmap and the
//! cancellations per day (for the dashboard's charts) are figures over all resources too. A
//! `resource_id` that names no resource is a 404. The reservations export is streamed: the
//! first page is read before the answer starts (so a failure is still a clean error), the rest
//! as the client reads.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::json;

use super::table::RouteTable;
use crate::analytics::{self, Export, ExportPage, MAX_DAYS, Period};
use crate::auth::{Access, Permission, Principal};
use crate::error::ApiError;
use crate::http::Query;
use crate::http::csv::{Cell, CsvWriter, attachment};
use crate::state::AppState;

pub fn declare(table: &mut RouteTable) {
    let signed_in = Access::Authenticated;
    table
        .route(Method::GET, "/api/v1/analytics/dashboard", signed_in, &[], dashboard)
        .route(
            Method::GET,
            "/api/v1/analytics/utilization",
            signed_in,
            &[],
            utilization,
        )
        .route(
            Method::GET,
            "/api/v1/analytics/popular-resources",
            signed_in,
            &[],
            popular_resources,
        )
        .route(Method::GET, "/api/v1/analytics/peak-times", signed_in, &[], peak_times)
        .route(
            Method::GET,
            "/api/v1/analytics/user-patterns",
            signed_in,
            &[],
            user_patterns,
        )
        .route(Method::GET, "/api/v1/analytics/heatmap", signed_in, &[], heatmap)
        .route(
            Method::GET,
            "/api/v1/analytics/cancellations",
            signed_in,
            &[],
            cancellations,
        )
        .route(
            Method::GET,
            "/api/v1/analytics/export/utilization.csv",
            signed_in,
            &[],
            export_utilization,
        )
        .route(
            Method::GET,
            "/api/v1/analytics/export/reservations.csv",
            signed_in,
            &[],
            export_reservations,
        );
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Days {
    #[serde(default = "thirty")]
    days: i64,
}

fn thirty() -> i64 {
    30
}

impl Days {
    /// The window, or a 422 naming `days` when outside 1..365.
    fn period(&self, state: &AppState) -> Result<Period, ApiError> {
        in_range("days", self.days, 1, MAX_DAYS)?;
        Ok(Period {
            days: self.days,
            now: state.clock.now(),
        })
    }
}

fn in_range(name: &str, value: i64, min: i64, max: i64) -> Result<i64, ApiError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::out_of_range(&["query", name], value, min, max))
    }
}

async fn dashboard(state: web::Data<AppState>, Query(days): Query<Days>) -> Result<HttpResponse, ApiError> {
    let period = days.period(&state)?;
    Ok(HttpResponse::Ok().json(analytics::dashboard(&state.db, period).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ResourceQuery {
    resource_id: Option<i64>,
}

async fn utilization(
    state: web::Data<AppState>,
    Query(days): Query<Days>,
    Query(query): Query<ResourceQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = days.period(&state)?;
    let (span, rows) = analytics::utilisation(&state.db, period, query.resource_id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "period": {"start": span.start, "end": span.end, "days": period.days},
        "utilization": rows,
    })))
}

async fn heatmap(
    state: web::Data<AppState>,
    Query(days): Query<Days>,
    Query(query): Query<ResourceQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = days.period(&state)?;
    let (span, maps) = analytics::heatmap(&state.db, period, query.resource_id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "period": {"start": span.start, "end": span.end},
        "resources": maps,
    })))
}

async fn cancellations(state: web::Data<AppState>, Query(days): Query<Days>) -> Result<HttpResponse, ApiError> {
    let period = days.period(&state)?;
    let (span, days) = analytics::cancellations(&state.db, period).await?;
    Ok(HttpResponse::Ok().json(json!({
        "period": {"start": span.start, "end": span.end},
        "days": days,
    })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Limit<const DEFAULT: i64> {
    limit: Option<i64>,
}

impl<const DEFAULT: i64> Limit<DEFAULT> {
    fn value(&self) -> Result<i64, ApiError> {
        in_range("limit", self.limit.unwrap_or(DEFAULT), 1, 100)
    }
}

async fn popular_resources(
    state: web::Data<AppState>,
    Query(days): Query<Days>,
    Query(limit): Query<Limit<10>>,
) -> Result<HttpResponse, ApiError> {
    let period = days.period(&state)?;
    let limit = limit.value()?;
    let (span, rows) = analytics::popular(&state.db, period, limit).await?;
    Ok(HttpResponse::Ok().json(json!({
        "period": {"start": span.start, "end": span.end, "days": period.days},
        "resources": rows,
    })))
}

async fn peak_times(state: web::Data<AppState>, Query(days): Query<Days>) -> Result<HttpResponse, ApiError> {
    let period = days.period(&state)?;
    Ok(HttpResponse::Ok().json(analytics::peak_times(&state.db, period).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UserQuery {
    user_id: Option<i64>,
}

/// Whose rows the caller may see: anyone's (`None` = everyone's) with `reservation:read_any`,
/// else only their own; naming another user without it is a 403.
fn visible_user(principal: &Principal, asked: Option<i64>) -> Result<Option<i64>, ApiError> {
    if principal.can(Permission::ReservationReadAny) {
        return Ok(asked);
    }
    match asked {
        Some(other) if other != principal.user_id => {
            principal.require(Permission::ReservationReadAny)?;
            Ok(Some(other))
        }
        _ => Ok(Some(principal.user_id)),
    }
}

async fn user_patterns(
    state: web::Data<AppState>,
    principal: Principal,
    Query(days): Query<Days>,
    Query(limit): Query<Limit<20>>,
    Query(query): Query<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = days.period(&state)?;
    let limit = limit.value()?;
    let user = visible_user(&principal, query.user_id)?;
    let (span, rows) = analytics::user_patterns(&state.db, period, user, limit).await?;
    Ok(HttpResponse::Ok().json(json!({
        "period": {"start": span.start, "end": span.end, "days": period.days},
        "users": rows,
    })))
}

fn number(value: f64) -> Cell<'static> {
    serde_json::Number::from_f64(value).map_or(Cell::Empty, Cell::Number)
}

async fn export_utilization(state: web::Data<AppState>, Query(days): Query<Days>) -> Result<HttpResponse, ApiError> {
    let period = days.period(&state)?;
    let (_, rows) = analytics::utilisation(&state.db, period, None).await?;
    let mut csv = CsvWriter::new(&[
        "resource_id",
        "resource_name",
        "total_hours_available",
        "booked_hours",
        "utilization_percent",
        "status",
    ])?;
    for row in &rows {
        csv.row([
            Cell::Number(row.resource_id.into()),
            Cell::Text(row.resource_name.as_str().into()),
            number(row.total_hours_available),
            number(row.booked_hours),
            number(row.utilization_percent),
            Cell::Text(row.status.as_str().into()),
        ])?;
    }
    csv.into_response(&format!("utilization_{}days.csv", period.days))
}

async fn export_reservations(
    state: web::Data<AppState>,
    principal: Principal,
    Query(days): Query<Days>,
) -> Result<HttpResponse, ApiError> {
    let period = days.period(&state)?;
    let user = visible_user(&principal, None)?;
    let export = Export::start(&state.db, period, user).await?;
    let first = export.page(&state.db, None).await?;
    let mut csv = CsvWriter::new(&[
        "reservation_id",
        "resource_name",
        "username",
        "start_time",
        "end_time",
        "status",
        "created_at",
    ])?;
    write_page(&mut csv, &export, &first)?;
    let head = csv.take()?;
    let rest = futures::stream::try_unfold(
        (export, state.db.clone(), csv, first.next),
        |(export, db, mut csv, after)| async move {
            let Some(after) = after else {
                return Ok(None);
            };
            let page = export.page(&db, Some(after)).await?;
            write_page(&mut csv, &export, &page)?;
            let chunk = csv.take()?;
            Ok::<_, ApiError>(Some((chunk, (export, db, csv, page.next))))
        },
    );
    let body = futures::stream::once(async { Ok(head) })
        .chain(rest)
        .map_err(actix_web::Error::from);
    Ok(attachment(&format!("reservations_{}days.csv", period.days))?.streaming(body))
}

/// Writes the rows of `page`.
fn write_page(csv: &mut CsvWriter, export: &Export, page: &ExportPage) -> Result<(), ApiError> {
    for row in export.rows(page) {
        let row = row?;
        csv.row([
            Cell::Number(row.id.into()),
            Cell::Text(row.resource_name.into()),
            Cell::Text(row.username.into()),
            Cell::Time(row.start_time),
            Cell::Time(row.end_time),
            Cell::Text(row.status.into()),
            Cell::Time(row.created_at),
        ])?;
    }
    Ok(())
}
