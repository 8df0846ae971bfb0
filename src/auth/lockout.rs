//! Failed-login throttling (5 failures in 15 minutes lock for 15 minutes after the latest failure)
//! but keyed by **username and client address** (`client_ip::client_key`: an IPv6 client by
//! its /64, which one subscriber holds whole).
//!
//! Why: counted per username alone, failures would let anyone lock anyone out, forever, by
//! failing five times every quarter hour. Keyed by address, an attacker's failures lock only
//! their own address out of that account; the owner, from elsewhere, still signs in. Attempts
//! made while locked are refused without being counted (so they do not extend the lock), and a
//! successful sign-in clears the count. Password guessing spread over many addresses is slowed by
//! argon2's cost per attempt and by MFA, whose codes are counted per account whatever the address
//! (`super::mfa_lockout`); the client address is the TCP peer, never a client-supplied header
//! that an attacker could vary.
//!
//! Concurrency: an attempt is written down (as a failure) *before* the password is checked, and
//! counts the attempts already written; so a burst of parallel guesses cannot all slip past the
//! check before the first failures are recorded — at most five are ever checked per lock window.

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

/// A sign-in attempt admitted by [`admit`]: recorded as a failure until [`Attempt::succeeded`].
pub struct Attempt {
    id: i64,
    now: DateTime<Utc>,
}

/// Failures of `key` other than attempt `own`, since its last success and within the window,
/// and the latest of them.
async fn failures_besides(
    db: &Db,
    key: &LoginKey<'_>,
    own: i64,
    now: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), ApiError> {
    let since = now - Duration::minutes(WINDOW_MINUTES);
    let row = db
        .query_one(
            "SELECT COUNT(*) AS n, MAX(attempt_time) AS latest FROM login_attempts
             WHERE username = $1 AND ip_address = $2 AND success = $3 AND attempt_time > $4 AND id <> $6
               AND id > COALESCE(
                   (SELECT MAX(id) FROM login_attempts
                    WHERE username = $1 AND ip_address = $2 AND success = $5), 0)",
            params![key.username, key.ip_address, false, since, true, own],
        )
        .await?;
    Ok((row.get("n")?, row.get("latest")?))
}

/// Records an attempt of `key` and admits it, or refuses it with the lock message while
/// the pair is locked (the refused attempt is then forgotten). Attempts of this username older
/// than the window are deleted on the way, so the table does not grow without bound.
pub async fn admit(db: &Db, key: &LoginKey<'_>, now: DateTime<Utc>) -> Result<Attempt, ApiError> {
    db.execute(
        "DELETE FROM login_attempts WHERE username = $1 AND attempt_time < $2",
        params![key.username, now - Duration::minutes(WINDOW_MINUTES)],
    )
    .await?;
    let id: i64 = db
        .query_write(
            "INSERT INTO login_attempts (username, ip_address, success, attempt_time, failure_reason)
             VALUES ($1, $2, $3, $4, 'pending') RETURNING id",
            params![key.username, key.ip_address, false, now],
        )
        .await?
        .first()
        .ok_or_else(|| ApiError::Internal("INSERT returned no row".into()))?
        .get("id")?;
    match failures_besides(db, key, id, now).await? {
        (failures, Some(latest)) if failures >= MAX_FAILURES => {
            db.execute("DELETE FROM login_attempts WHERE id = $1", params![id])
                .await?;
            let remaining = (latest + Duration::minutes(WINDOW_MINUTES) - now).num_seconds().max(0);
            Err(ApiError::Unauthorized(format!(
                "Account is locked. Try again in {} minutes.",
                remaining / 60 + 1
            )))
        }
        _ => Ok(Attempt { id, now }),
    }
}

impl Attempt {
    /// The sign-in succeeded: it clears the pair's count.
    pub async fn succeeded(self, db: &Db) -> Result<(), ApiError> {
        db.execute(
            "UPDATE login_attempts SET success = $2, failure_reason = NULL WHERE id = $1",
            params![self.id, true],
        )
        .await?;
        Ok(())
    }

    /// The attempt turned out not to be a guess (the password was right but the sign-in cannot
    /// finish yet, e.g. MFA is asked for): it does not count.
    pub async fn forget(self, db: &Db) -> Result<(), ApiError> {
        db.execute("DELETE FROM login_attempts WHERE id = $1", params![self.id])
            .await?;
        Ok(())
    }

    /// The sign-in failed for `reason`: the 401 to answer is `message` while attempts remain
    /// (with a countdown once two or fewer are left), or the lock notice.
    pub async fn failed(self, db: &Db, key: &LoginKey<'_>, reason: &str, message: &str) -> Result<ApiError, ApiError> {
        db.execute(
            "UPDATE login_attempts SET failure_reason = $2 WHERE id = $1",
            params![self.id, reason],
        )
        .await?;
        let (others, _) = failures_besides(db, key, self.id, self.now).await?;
        let remaining = MAX_FAILURES - others - 1;
        Ok(ApiError::Unauthorized(if remaining <= 0 {
            format!("Account is now locked due to too many failed attempts. Try again in {WINDOW_MINUTES} minutes.")
        } else if remaining <= 2 {
            format!("{message} {remaining} attempt(s) remaining before lockout.")
        } else {
            message.to_owned()
        }))
    }
}
