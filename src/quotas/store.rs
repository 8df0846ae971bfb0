//! The `api_quotas` and `api_usage` tables: per-user settings and counts, and the hourly usage
//! per route pattern. Counts arrive only in batches from the rate limiter's flush
//! ([`add_user_counts`], [`add_route_counts`]), never one write per request.

use chrono::{DateTime, NaiveDate, Utc};

use super::{StoredQuota, Tier, start_of, stored_quota_columns};
use crate::params;
use crate::storage::{Binder, Db, Row, StorageError, Transaction};

/// Rows per multi-row `INSERT` of a flush (well under both backends' parameter limits).
const BATCH_ROWS: usize = 500;

/// One user with what is stored for them.
#[derive(Debug, Clone)]
pub struct QuotaRow {
    pub user_id: i64,
    pub username: String,
    pub is_admin: bool,
    pub stored: StoredQuota,
}

/// Every user, with their `api_quotas` row if any. The `is_admin` test names the admin role as
/// `rbac::ADMIN` does.
macro_rules! select_users {
    () => {
        concat!(
            "SELECT u.id AS user_id, u.username,
                    EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id
                            WHERE ur.user_id = u.id AND r.name = 'admin') AS is_admin, ",
            stored_quota_columns!(),
            " FROM users u LEFT JOIN api_quotas q ON q.user_id = u.id"
        )
    };
}

fn quota_row(row: &Row) -> Result<QuotaRow, StorageError> {
    Ok(QuotaRow {
        user_id: row.get("user_id")?,
        username: row.get("username")?,
        is_admin: row.get("is_admin")?,
        stored: StoredQuota::from_row(row)?,
    })
}

/// One user; `None` when there is no such user.
pub async fn one(db: &Db, user_id: i64) -> Result<Option<QuotaRow>, StorageError> {
    db.query_opt(concat!(select_users!(), " WHERE u.id = $1"), params![user_id])
        .await?
        .as_ref()
        .map(quota_row)
        .transpose()
}

/// A page of users by id, optionally only those whose effective tier is `tier` (the rule of
/// [`StoredQuota::effective`], in SQL).
pub async fn page(db: &Db, tier: Option<Tier>, skip: i64, limit: i64) -> Result<Vec<QuotaRow>, StorageError> {
    let mut binder = Binder::new();
    let filter = match tier {
        Some(tier) => format!(
            " WHERE COALESCE(t.quota_tier, CASE WHEN t.is_admin THEN 'admin' ELSE 'authenticated' END) = {}",
            binder.bind(tier.as_str())
        ),
        None => String::new(),
    };
    let sql = format!(
        "SELECT * FROM ({}) t{filter} ORDER BY t.user_id LIMIT {} OFFSET {}",
        select_users!(),
        binder.bind(limit),
        binder.bind(skip)
    );
    db.query(&sql, binder.into_values())
        .await?
        .iter()
        .map(quota_row)
        .collect()
}

/// Users who made counted requests on `day`.
pub async fn active_on(db: &Db, day: NaiveDate) -> Result<Vec<QuotaRow>, StorageError> {
    db.query(
        concat!(
            select_users!(),
            " WHERE q.last_request_date = $1 AND q.daily_request_count > 0 ORDER BY u.id"
        ),
        params![start_of(day)],
    )
    .await?
    .iter()
    .map(quota_row)
    .collect()
}

/// Users who made counted requests on `day` (`/stats`' unique users).
pub async fn count_active_on(db: &Db, day: NaiveDate) -> Result<i64, StorageError> {
    db.query_one(
        "SELECT COUNT(*) AS users FROM api_quotas WHERE last_request_date = $1",
        params![start_of(day)],
    )
    .await?
    .get("users")
}

/// A change to one value: keep it, or set it (`None` clears it).
pub type Change<T> = Option<Option<T>>;

/// What an administrator changes of a user's quota.
#[derive(Debug, Default)]
pub struct QuotaChanges {
    pub tier: Change<Tier>,
    pub custom_rate_limit: Change<u32>,
    pub custom_daily_quota: Change<u64>,
    pub reset_daily_count: bool,
}

/// Applies `changes` to `user_id`'s row (creating it); false when there is no such user.
pub async fn update(db: &Db, user_id: i64, changes: QuotaChanges, now: DateTime<Utc>) -> Result<bool, StorageError> {
    // Users are never deleted (only disabled), so the row cannot lose its user in between.
    if db
        .query_opt("SELECT id FROM users WHERE id = $1", params![user_id])
        .await?
        .is_none()
    {
        return Ok(false);
    }
    db.execute(
        "INSERT INTO api_quotas (user_id, tier, custom_rate_limit, custom_daily_quota, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (user_id) DO UPDATE SET
             tier = CASE WHEN $6 THEN excluded.tier ELSE api_quotas.tier END,
             custom_rate_limit = CASE WHEN $7 THEN excluded.custom_rate_limit ELSE api_quotas.custom_rate_limit END,
             custom_daily_quota = CASE WHEN $8 THEN excluded.custom_daily_quota ELSE api_quotas.custom_daily_quota END,
             daily_request_count = CASE WHEN $9 THEN 0 ELSE api_quotas.daily_request_count END,
             updated_at = excluded.updated_at",
        params![
            user_id,
            changes.tier.flatten().map(Tier::as_str),
            changes.custom_rate_limit.flatten(),
            changes.custom_daily_quota.flatten().map(|n| n as i64),
            now,
            changes.tier.is_some(),
            changes.custom_rate_limit.is_some(),
            changes.custom_daily_quota.is_some(),
            changes.reset_daily_count
        ],
    )
    .await?;
    Ok(true)
}

/// Sets every count of `day` to 0; returns how many users had one.
pub async fn reset_daily(db: &Db, day: NaiveDate, now: DateTime<Utc>) -> Result<u64, StorageError> {
    db.execute(
        "UPDATE api_quotas SET daily_request_count = 0, updated_at = $2
         WHERE last_request_date = $1 AND daily_request_count > 0",
        params![start_of(day), now],
    )
    .await
}

/// Adds `counts` (user id, requests) made on `day` to the users' daily and total counts. A
/// stored count of an earlier day is replaced; one of a later day (another process already
/// counted past midnight) keeps its day and only the total grows.
pub async fn add_user_counts(
    tx: &mut Box<dyn Transaction>,
    day: NaiveDate,
    counts: &[(i64, u64)],
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    for batch in counts.chunks(BATCH_ROWS) {
        let mut binder = Binder::new();
        let (day, now) = (binder.bind(start_of(day)), binder.bind(now));
        let rows = batch
            .iter()
            .map(|(user, count)| {
                let (user, count) = (binder.bind(*user), binder.bind(*count as i64));
                format!("({user}, {count}, {day}, {count}, {now}, {now})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO api_quotas (user_id, daily_request_count, last_request_date, total_requests, created_at, updated_at)
             VALUES {rows}
             ON CONFLICT (user_id) DO UPDATE SET
                 daily_request_count = CASE
                     WHEN api_quotas.last_request_date = excluded.last_request_date
                         THEN api_quotas.daily_request_count + excluded.daily_request_count
                     WHEN api_quotas.last_request_date > excluded.last_request_date
                         THEN api_quotas.daily_request_count
                     ELSE excluded.daily_request_count END,
                 last_request_date = CASE
                     WHEN api_quotas.last_request_date > excluded.last_request_date
                         THEN api_quotas.last_request_date
                     ELSE excluded.last_request_date END,
                 total_requests = api_quotas.total_requests + excluded.total_requests,
                 updated_at = excluded.updated_at"
        );
        tx.execute(&sql, binder.into_values()).await?;
    }
    Ok(())
}

/// Requests of one route pattern in one hour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouteCounts {
    pub requests: u64,
    /// Of which refused with 429.
    pub limited: u64,
    /// Total handling time, microseconds.
    pub duration_us: u64,
}

impl RouteCounts {
    pub fn add(&mut self, other: RouteCounts) {
        self.requests += other.requests;
        self.limited += other.limited;
        self.duration_us += other.duration_us;
    }

    pub fn subtract(&mut self, other: RouteCounts) {
        self.requests = self.requests.saturating_sub(other.requests);
        self.limited = self.limited.saturating_sub(other.limited);
        self.duration_us = self.duration_us.saturating_sub(other.duration_us);
    }

    pub fn is_zero(&self) -> bool {
        *self == RouteCounts::default()
    }
}

/// Adds `counts` (hour start, route pattern, counts) to the hourly usage.
pub async fn add_route_counts(
    tx: &mut Box<dyn Transaction>,
    counts: &[(DateTime<Utc>, &str, RouteCounts)],
) -> Result<(), StorageError> {
    for batch in counts.chunks(BATCH_ROWS) {
        let mut binder = Binder::new();
        let rows = batch
            .iter()
            .map(|(hour, route, c)| {
                format!(
                    "({}, {}, {}, {}, {})",
                    binder.bind(*hour),
                    binder.bind(*route),
                    binder.bind(c.requests as i64),
                    binder.bind(c.limited as i64),
                    binder.bind(c.duration_us as i64)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO api_usage (hour, route, requests, limited, duration_us) VALUES {rows}
             ON CONFLICT (hour, route) DO UPDATE SET
                 requests = api_usage.requests + excluded.requests,
                 limited = api_usage.limited + excluded.limited,
                 duration_us = api_usage.duration_us + excluded.duration_us"
        );
        tx.execute(&sql, binder.into_values()).await?;
    }
    Ok(())
}

/// Deletes hourly usage older than `before`.
pub async fn prune_usage(tx: &mut Box<dyn Transaction>, before: DateTime<Utc>) -> Result<u64, StorageError> {
    tx.execute("DELETE FROM api_usage WHERE hour < $1", params![before])
        .await
}
