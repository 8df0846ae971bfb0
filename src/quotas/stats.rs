//! `/api/v1/quotas/stats`: usage statistics from the hourly `api_usage` aggregate that the rate
//! limiter's usage counts feed.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::{day_of, start_of, store};
use crate::params;
use crate::storage::{Db, StorageError};

/// How many routes `top_endpoints` lists.
const TOP_ENDPOINTS: i64 = 10;
/// Hourly usage older than this is deleted (the statistics look back 30 days from today).
pub const RETENTION: Duration = Duration::days(32);

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = QuotaStats)]
pub struct Stats {
    pub total_requests_today: i64,
    /// Since midnight UTC seven days before today.
    pub total_requests_week: i64,
    /// Since midnight UTC thirty days before today.
    pub total_requests_month: i64,
    pub unique_users_today: i64,
    #[schema(required)]
    pub average_response_time_ms: Option<f64>,
    pub rate_limit_hits_today: i64,
    /// Today's most requested route patterns.
    pub top_endpoints: Vec<Value>,
    /// The last 24 hours, oldest first, ending with the current hour.
    pub requests_by_hour: Vec<Value>,
}

/// The start of the hour holding `instant`.
pub fn hour_of(instant: DateTime<Utc>) -> DateTime<Utc> {
    instant.duration_trunc(Duration::hours(1)).unwrap_or(instant)
}

pub async fn stats(db: &Db, now: DateTime<Utc>) -> Result<Stats, StorageError> {
    let today = start_of(day_of(now));
    let totals = db
        .query_one(
            "SELECT CAST(COALESCE(SUM(CASE WHEN hour >= $1 THEN requests ELSE 0 END), 0) AS BIGINT) AS today,
                    CAST(COALESCE(SUM(CASE WHEN hour >= $2 THEN requests ELSE 0 END), 0) AS BIGINT) AS week,
                    CAST(COALESCE(SUM(requests), 0) AS BIGINT) AS month,
                    CAST(COALESCE(SUM(CASE WHEN hour >= $1 THEN limited ELSE 0 END), 0) AS BIGINT) AS limited,
                    CAST(COALESCE(SUM(CASE WHEN hour >= $1 THEN duration_us ELSE 0 END), 0) AS BIGINT) AS duration_us
             FROM api_usage WHERE hour >= $3",
            params![today, today - Duration::days(7), today - Duration::days(30)],
        )
        .await?;
    let requests_today: i64 = totals.get("today")?;
    let duration_us: i64 = totals.get("duration_us")?;
    let top_endpoints = db
        .query(
            "SELECT route, CAST(SUM(requests) AS BIGINT) AS requests FROM api_usage
             WHERE hour >= $1 GROUP BY route ORDER BY requests DESC, route LIMIT $2",
            params![today, TOP_ENDPOINTS],
        )
        .await?
        .iter()
        .map(|row| Ok(json!({ "endpoint": row.get::<String>("route")?, "count": row.get::<i64>("requests")? })))
        .collect::<Result<Vec<_>, StorageError>>()?;
    let first_hour = hour_of(now) - Duration::hours(23);
    let mut by_hour = [0_i64; 24];
    for row in db
        .query(
            "SELECT hour, CAST(SUM(requests) AS BIGINT) AS requests FROM api_usage WHERE hour >= $1 GROUP BY hour",
            params![first_hour],
        )
        .await?
    {
        let slot = (row.get::<DateTime<Utc>>("hour")? - first_hour).num_hours();
        if let Some(count) = usize::try_from(slot).ok().and_then(|slot| by_hour.get_mut(slot)) {
            *count += row.get::<i64>("requests")?;
        }
    }
    Ok(Stats {
        total_requests_today: requests_today,
        total_requests_week: totals.get("week")?,
        total_requests_month: totals.get("month")?,
        unique_users_today: store::count_active_on(db, day_of(now)).await?,
        average_response_time_ms: (requests_today > 0)
            .then(|| (duration_us as f64 / requests_today as f64 / 10.0).round() / 100.0),
        rate_limit_hits_today: totals.get("limited")?,
        top_endpoints,
        requests_by_hour: by_hour
            .iter()
            .enumerate()
            .map(|(slot, count)| {
                let hour = first_hour + Duration::hours(slot as i64);
                json!({ "hour": hour.format("%H:00").to_string(), "count": count })
            })
            .collect(),
    })
}
