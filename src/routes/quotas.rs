//! `/api/v1/quotas`: rate-limit tiers, the caller's usage, and (admins) everyone's usage and
//! limits. Everything reported is what the rate limiter enforces and counts: the database's
//! counts plus what this process counted since its last flush.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

use super::admin::out_of_range;
use super::table::RouteTable;
use crate::auth::Access;
use crate::auth::audit::Event;
use crate::auth::{Permission, Principal};
use crate::error::ApiError;
use crate::http::{Json, Path, Query};
use crate::quotas::store::{self, QuotaChanges, QuotaRow};
use crate::quotas::{ENDPOINT_LIMITS, Limits, StoredQuota, Tier, day_of, stats};
use crate::state::AppState;

#[rustfmt::skip] // one line per route: the table reads as a table
pub fn declare(table: &mut RouteTable) {
    use Access::{Authenticated, Permission as Needs};
    use Permission::QuotaManage;
    table
        .route(Method::GET, "/api/v1/quotas/config", Authenticated, &[], config)
        .route(Method::GET, "/api/v1/quotas/summary", Authenticated, &[], summary)
        .route(Method::GET, "/api/v1/quotas/my-usage", Authenticated, &[], my_usage)
        .route(Method::GET, "/api/v1/quotas/users", Needs(QuotaManage), &[], list_users)
        .route(Method::GET, "/api/v1/quotas/users/{user_id}", Needs(QuotaManage), &[], get_user)
        .route(Method::PATCH, "/api/v1/quotas/users/{user_id}", Needs(QuotaManage), &[], update_user)
        .route(Method::GET, "/api/v1/quotas/stats", Needs(QuotaManage), &[], usage_stats)
        .route(Method::GET, "/api/v1/quotas/alerts", Needs(QuotaManage), &[], alerts)
        .route(Method::POST, "/api/v1/quotas/reset-daily", Needs(QuotaManage), &[], reset_daily);
}

fn limits(state: &AppState) -> &'static Limits {
    Limits::of(state.settings.rate_limit.testing_mode)
}

/// Writes this process's counts first, for the reports that aggregate in SQL.
async fn flushed(state: &AppState) -> Result<(), ApiError> {
    match &state.rate_limit {
        Some(limiter) => Ok(limiter.flush().await?),
        None => Ok(()),
    }
}

/// One user's limits and usage now.
struct Report {
    tier: Tier,
    per_minute: u32,
    daily: Option<u64>,
    used_today: u64,
    total: u64,
    last_request_date: Option<chrono::NaiveDate>,
}

impl Report {
    fn of(state: &AppState, user_id: i64, stored: &StoredQuota, is_admin: bool, now: DateTime<Utc>) -> Report {
        let today = day_of(now);
        let effective = stored.effective(is_admin, limits(state));
        let (unflushed_today, unflushed) = state
            .rate_limit
            .as_ref()
            .map_or((0, 0), |limiter| limiter.unflushed(user_id, today));
        Report {
            tier: effective.tier,
            per_minute: effective.per_minute,
            daily: effective.daily,
            used_today: stored.used_on(today) + unflushed_today,
            total: stored.total_requests + unflushed,
            last_request_date: if unflushed_today > 0 {
                Some(today)
            } else {
                stored.last_request_date()
            },
        }
    }

    fn percentage_used(&self) -> f64 {
        self.daily.map_or(0.0, |daily| {
            (self.used_today as f64 / daily as f64 * 10_000.0).round() / 100.0
        })
    }
}

/// The `UserQuotaResponse` shape.
fn user_quota(state: &AppState, row: &QuotaRow, now: DateTime<Utc>) -> Value {
    let report = Report::of(state, row.user_id, &row.stored, row.is_admin, now);
    json!({
        "user_id": row.user_id,
        "username": row.username,
        "tier": report.tier,
        "rate_limit_per_minute": report.per_minute,
        "daily_quota": report.daily,
        "custom_rate_limit": row.stored.custom_rate_limit,
        "custom_daily_quota": row.stored.custom_daily_quota,
        "daily_request_count": report.used_today,
        "total_requests": report.total,
        "last_request_date": report.last_request_date.map(|day| day.to_string()),
    })
}

async fn config(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let limits = limits(&state);
    let tiers = Tier::ALL.map(|tier| {
        json!({ "tier": tier, "rate_limit_per_minute": limits.per_minute(tier), "daily_quota": limits.daily(tier) })
    });
    let endpoints = ENDPOINT_LIMITS
        .iter()
        .enumerate()
        .map(|(index, limit)| json!({ "endpoint": limit.endpoint, "limit_per_minute": limits.endpoint(index) }))
        .collect::<Vec<_>>();
    Ok(HttpResponse::Ok().json(json!({ "tiers": tiers, "endpoint_limits": endpoints })))
}

async fn summary(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let limits = limits(&state);
    let by_tier = |value: &dyn Fn(Tier) -> Value| {
        Tier::ALL
            .into_iter()
            .map(|tier| (tier.as_str().to_owned(), value(tier)))
            .collect::<Map<_, _>>()
    };
    let endpoints = ENDPOINT_LIMITS
        .iter()
        .enumerate()
        .map(|(index, limit)| (limit.endpoint.to_owned(), json!(limits.endpoint(index))))
        .collect::<Map<_, _>>();
    Ok(HttpResponse::Ok().json(json!({
        "tier_limits": by_tier(&|tier| json!(limits.per_minute(tier))),
        "daily_quotas": by_tier(&|tier| json!(limits.daily(tier))),
        "endpoint_limits": endpoints,
    })))
}

async fn my_usage(state: web::Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    let report = Report::of(
        &state,
        principal.user_id,
        &principal.quota,
        principal.is_admin(),
        state.clock.now(),
    );
    Ok(HttpResponse::Ok().json(json!({
        "user_id": principal.user_id,
        "username": principal.username,
        "tier": report.tier,
        "rate_limit_per_minute": report.per_minute,
        "daily_quota": report.daily,
        "daily_used": report.used_today,
        "daily_remaining": report.daily.map(|daily| daily.saturating_sub(report.used_today)),
        "total_requests": report.total,
        "percentage_used": report.percentage_used(),
    })))
}

fn parse_tier(raw: &str) -> Result<Tier, ApiError> {
    Tier::parse(raw).ok_or_else(|| ApiError::BadRequest(Tier::invalid()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    #[serde(default)]
    skip: i64,
    #[serde(default = "default_limit")]
    limit: i64,
    tier: Option<String>,
}

fn default_limit() -> i64 {
    50
}

async fn list_users(state: web::Data<AppState>, Query(params): Query<ListParams>) -> Result<HttpResponse, ApiError> {
    if params.skip < 0 {
        return Err(out_of_range("skip", params.skip, 0, i64::MAX));
    }
    if !(1..=100).contains(&params.limit) {
        return Err(out_of_range("limit", params.limit, 1, 100));
    }
    let tier = params.tier.as_deref().map(parse_tier).transpose()?;
    let now = state.clock.now();
    let rows = store::page(&state.db, tier, params.skip, params.limit).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|row| user_quota(&state, row, now)).collect::<Vec<_>>()))
}

#[derive(Deserialize)]
struct UserId {
    user_id: i64,
}

async fn user_row(state: &AppState, user_id: i64) -> Result<QuotaRow, ApiError> {
    store::one(&state.db, user_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("User not found".into()))
}

async fn get_user(state: web::Data<AppState>, Path(path): Path<UserId>) -> Result<HttpResponse, ApiError> {
    let row = user_row(&state, path.user_id).await?;
    Ok(HttpResponse::Ok().json(user_quota(&state, &row, state.clock.now())))
}

/// A field that may be absent (unchanged), `null` (cleared) or a value.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct QuotaPatch {
    #[serde(default, deserialize_with = "nullable")]
    tier: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    custom_rate_limit: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    custom_daily_quota: Option<Option<i64>>,
    #[serde(default)]
    reset_daily_count: bool,
}

impl QuotaPatch {
    fn changes(&self) -> Result<QuotaChanges, ApiError> {
        let bounded = |name: &str, value: Option<Option<i64>>, max: i64| match value {
            Some(Some(n)) if !(1..=max).contains(&n) => Err(ApiError::out_of_range(&["body", name], n, 1, max)),
            other => Ok(other.map(|n| n.map(|n| n as u64))),
        };
        Ok(QuotaChanges {
            tier: self
                .tier
                .as_ref()
                .map(|tier| tier.as_deref().map(parse_tier).transpose())
                .transpose()?,
            custom_rate_limit: bounded("custom_rate_limit", self.custom_rate_limit, 10_000)?
                .map(|n| n.map(|n| n as u32)),
            custom_daily_quota: bounded("custom_daily_quota", self.custom_daily_quota, 1_000_000)?,
            reset_daily_count: self.reset_daily_count,
        })
    }
}

async fn update_user(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
    Path(path): Path<UserId>,
    Json(body): Json<QuotaPatch>,
) -> Result<HttpResponse, ApiError> {
    let changes = body.changes()?;
    let before = user_row(&state, path.user_id).await?;
    if changes.reset_daily_count {
        flushed(&state).await?;
    }
    let now = state.clock.now();
    if !store::update(&state.db, path.user_id, changes, now).await? {
        return Err(ApiError::NotFound("User not found".into()));
    }
    let after = user_row(&state, path.user_id).await?;
    let settings = |row: &QuotaRow| {
        json!({
            "tier": row.stored.tier,
            "custom_rate_limit": row.stored.custom_rate_limit,
            "custom_daily_quota": row.stored.custom_daily_quota,
        })
    };
    let event = Event::new("quota_updated", "user")
        .by_principal(&principal)
        .on(Some(after.user_id), &after.username)
        .change(Some(settings(&before)), Some(settings(&after)));
    let event = if body.reset_daily_count {
        event.details("daily count reset")
    } else {
        event
    };
    event.record(&state.db, state.clock.as_ref(), &req).await;
    Ok(HttpResponse::Ok().json(user_quota(&state, &after, now)))
}

async fn usage_stats(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    flushed(&state).await?;
    Ok(HttpResponse::Ok().json(stats::stats(&state.db, state.clock.now()).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AlertParams {
    #[serde(default = "default_threshold")]
    threshold: f64,
}

fn default_threshold() -> f64 {
    80.0
}

async fn alerts(state: web::Data<AppState>, Query(params): Query<AlertParams>) -> Result<HttpResponse, ApiError> {
    if !(0.0..=100.0).contains(&params.threshold) {
        return Err(ApiError::out_of_range(
            &["query", "threshold"],
            params.threshold,
            0.0,
            100.0,
        ));
    }
    flushed(&state).await?;
    let now = state.clock.now();
    let mut alerts = store::active_on(&state.db, day_of(now))
        .await?
        .into_iter()
        .filter_map(|row| {
            let report = Report::of(&state, row.user_id, &row.stored, row.is_admin, now);
            let percentage = report.percentage_used();
            (report.daily.is_some() && percentage >= params.threshold).then(|| {
                (
                    percentage,
                    json!({
                        "user_id": row.user_id,
                        "username": row.username,
                        "tier": report.tier,
                        "daily_quota": report.daily,
                        "daily_used": report.used_today,
                        "percentage_used": percentage,
                    }),
                )
            })
        })
        .collect::<Vec<_>>();
    alerts.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(HttpResponse::Ok().json(alerts.into_iter().map(|(_, alert)| alert).collect::<Vec<_>>()))
}

async fn reset_daily(
    state: web::Data<AppState>,
    principal: Principal,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    flushed(&state).await?;
    let now = state.clock.now();
    let reset = store::reset_daily(&state.db, day_of(now), now).await?;
    Event::new("quotas_reset", "system")
        .by_principal(&principal)
        .details(format!("reset the daily counts of {reset} users"))
        .record(&state.db, state.clock.as_ref(), &req)
        .await;
    Ok(HttpResponse::Ok().json(json!({
        "message": format!("Reset daily quotas for {reset} users"),
        "reset_count": reset,
        "timestamp": now,
    })))
}
