//! Failed-login throttling, with the original's limits and messages (5 failures in 15 minutes
//! lock for 15 minutes after the latest failure) but keyed by **username and client address**.
//!
//! Why: the original counted failures per username alone, so anyone could lock anyone out,
//! forever, by failing five times every quarter hour. Here an attacker's failures lock only
//! their own address out of that account; the owner, from elsewhere, still signs in. Attempts
//! made while locked are refused without being counted (so they do not extend the lock), and a
//! successful sign-in clears the count. Password guessing spread over many addresses is slowed by
//! argon2's cost per attempt and by MFA; the client address is the TCP peer, never a
//! client-supplied header that an attacker could vary.

use chrono::{DateTime, Duration, Utc};

use crate::error::ApiError;
use crate::params;
use crate::storage::Db;

const MAX_FAILURES: i64 = 5;
const WINDOW_MINUTES: i64 = 15;

/// One (username, address) pair being throttled.
pub struct LoginKey<'a> {
    pub username: &'a str,
    pub ip_address: &'a str,
}

/// Failures since the last success within the window, and the latest of them.
async fn recent_failures(
    db: &Db,
    key: &LoginKey<'_>,
    now: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), ApiError> {
    let since = now - Duration::minutes(WINDOW_MINUTES);
    let row = db
        .query_one(
            "SELECT COUNT(*) AS n, MAX(attempt_time) AS latest FROM login_attempts
             WHERE username = $1 AND ip_address = $2 AND success = $3 AND attempt_time > $4
               AND id > COALESCE(
                   (SELECT MAX(id) FROM login_attempts
                    WHERE username = $1 AND ip_address = $2 AND success = $5), 0)",
            params![key.username, key.ip_address, false, since, true],
        )
        .await?;
    Ok((row.get("n")?, row.get("latest")?))
}

fn locked_for(latest: DateTime<Utc>, now: DateTime<Utc>) -> ApiError {
    let remaining = (latest + Duration::minutes(WINDOW_MINUTES) - now).num_seconds().max(0);
    ApiError::Unauthorized(format!(
        "Account is locked. Try again in {} minutes.",
        remaining / 60 + 1
    ))
}

/// `Err` with the original's message while the pair is locked.
pub async fn check(db: &Db, key: &LoginKey<'_>, now: DateTime<Utc>) -> Result<(), ApiError> {
    match recent_failures(db, key, now).await? {
        (failures, Some(latest)) if failures >= MAX_FAILURES => Err(locked_for(latest, now)),
        _ => Ok(()),
    }
}

/// Records an attempt, and forgets this username's attempts that no longer count (older than
/// the window), so the table does not grow without bound as the original's did.
async fn record(db: &Db, key: &LoginKey<'_>, now: DateTime<Utc>, failure: Option<&str>) -> Result<(), ApiError> {
    db.execute(
        "DELETE FROM login_attempts WHERE username = $1 AND attempt_time < $2",
        params![key.username, now - Duration::minutes(WINDOW_MINUTES)],
    )
    .await?;
    db.execute(
        "INSERT INTO login_attempts (username, ip_address, success, attempt_time, failure_reason)
         VALUES ($1, $2, $3, $4, $5)",
        params![key.username, key.ip_address, failure.is_none(), now, failure],
    )
    .await?;
    Ok(())
}

pub async fn record_success(db: &Db, key: &LoginKey<'_>, now: DateTime<Utc>) -> Result<(), ApiError> {
    record(db, key, now, None).await
}

/// Records a failure and returns the 401 to answer: `message` while attempts remain (with the
/// original's countdown once two or fewer are left), or the lock notice.
pub async fn record_failure(
    db: &Db,
    key: &LoginKey<'_>,
    now: DateTime<Utc>,
    reason: &str,
    message: &str,
) -> Result<ApiError, ApiError> {
    record(db, key, now, Some(reason)).await?;
    let (failures, _) = recent_failures(db, key, now).await?;
    let remaining = MAX_FAILURES - failures;
    Ok(ApiError::Unauthorized(if remaining <= 0 {
        format!("Account is now locked due to too many failed attempts. Try again in {WINDOW_MINUTES} minutes.")
    } else if remaining <= 2 {
        format!("{message} {remaining} attempt(s) remaining before lockout.")
    } else {
        message.to_owned()
    }))
}
